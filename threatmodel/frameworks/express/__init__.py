"""Express, Koa routers and Fastify: routes.py, decls.py (apps, routers), link.py, settings.py.

Koa and Fastify apps are replayed by the same collector as Express (one model of an app,
its routers and their middleware chains); they get folders of their own when they need code
of their own.
"""

from threatmodel.frameworks._js import GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="express",
    language="javascript",
    routes="threatmodel.frameworks.express.routes",
    collector="express",
    guards=GUARDS,
    packages=("express", "koa", "@koa/router", "koa-router", "fastify"),
)
