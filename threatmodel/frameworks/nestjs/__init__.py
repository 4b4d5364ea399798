"""NestJS: routes.py (controllers, guards), middleware.py (consumers and global middleware)."""

from threatmodel.frameworks._js import GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="nestjs",
    language="javascript",
    routes="threatmodel.frameworks.nestjs.routes",
    collector="nestjs",
    guards=(*GUARDS, "threatmodel.frameworks.nestjs.routes"),  # canActivate of guard classes
    packages=("@nestjs/core", "@nestjs/common"),
)
