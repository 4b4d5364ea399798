"""Next.js: routes.py, files.py (file-system routes), flow.py, middleware.py, resolve.py."""

from threatmodel.frameworks._js import GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="nextjs",
    language="javascript",
    routes="threatmodel.frameworks.nextjs.routes",
    collector="nextjs",
    guards=(*GUARDS, "threatmodel.frameworks.nextjs.middleware"),
    packages=("next",),
)
