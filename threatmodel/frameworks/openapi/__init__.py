"""OpenAPI-declared routes (connexion): routes.py maps each operation to its Python handler."""

from threatmodel.frameworks._python import GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="openapi",  # Route.framework says connexion when connexion serves the spec
    language="openapi",
    routes="threatmodel.frameworks.openapi.routes",
    collector="pyweb",
    guards=GUARDS,
    packages=("connexion",),
)
