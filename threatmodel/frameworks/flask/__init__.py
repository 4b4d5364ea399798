"""Flask (and Flask-RESTful / Flask-RESTX resources): routes.py, link.py, resources.py."""

from threatmodel.frameworks._python import GUARDS
from threatmodel.frameworks.base import Declared, RequestSources

FRAMEWORK = Declared(
    name="flask",
    language="python",
    routes="threatmodel.frameworks.flask.routes",
    collector="pyweb",
    guards=GUARDS,
    sources=RequestSources(
        # Quart is Flask's asyncio twin; Flask's request is a werkzeug LocalProxy.
        objects=frozenset({"flask.request", "quart.request", "werkzeug.local.request"}),
        route_decorators=frozenset({"route", "get", "post", "put", "patch", "delete"}),
        html_decorators=frozenset({"route"}),  # a returned str is the HTML body
    ),
    packages=("flask", "werkzeug", "flask-restful", "flask-restx"),
)
