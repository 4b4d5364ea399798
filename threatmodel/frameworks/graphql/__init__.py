"""GraphQL: each field of the schema's root Query and Mutation types is an entry point.

python.py reads graphene and strawberry schemas (run by the Python web collector, last, as
its operations sit under the route that serves GraphQL); js.py and js_guards.py read Apollo
Server, graphql-yoga and graphql-tools resolvers (a collector of their own). Both give
operations the method ``QUERY`` or ``MUTATION`` and the path ``<endpoint>/<Type>.<field>``.
"""

from threatmodel.frameworks._js import GUARDS as JS_GUARDS
from threatmodel.frameworks._python import GUARDS as PY_GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="graphql",
    language="python",
    routes="threatmodel.frameworks.graphql.python",
    collector="pyweb",
    guards=PY_GUARDS,
    packages=("graphene", "graphene-django", "strawberry-graphql"),
)

JS_FRAMEWORK = Declared(
    name="graphql_js",
    language="javascript",
    routes="threatmodel.frameworks.graphql.js",
    collector="graphql_js",
    guards=JS_GUARDS,
    packages=("@apollo/server", "apollo-server", "apollo-server-express", "graphql-yoga"),
)
