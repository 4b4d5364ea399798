"""Apollo Server resolvers as entry points (fixtures/js/apollo-app): QUERY / MUTATION
``/graphql/<Type>.<field>``, judged by what the resolver (or its wrapper) refuses."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.frameworks.graphql.js import GraphqlJsCollector

APP = Path(__file__).parent / "fixtures" / "js" / "apollo-app"


def test_root_fields_are_routes_with_the_resolvers_guards() -> None:
    routes = by_route(collect(APP, ExpressCollector(), GraphqlJsCollector()))
    ops = {k for k in routes if k[0] in ("QUERY", "MUTATION")}
    assert ops == {
        ("QUERY", "/graphql/Query.posts"),
        ("QUERY", "/graphql/Query.me"),
        ("QUERY", "/graphql/Query.drafts"),
        ("QUERY", "/graphql/Query.greeting"),
        ("MUTATION", "/graphql/Mutation.deleteUser"),
        ("MUTATION", "/graphql/Mutation.signup"),
        ("MUTATION", "/graphql/Mutation.createNote"),
        ("MUTATION", "/graphql/Mutation.deleteNote"),
        ("MUTATION", "/graphql/Mutation.pingNote"),
    }
    assert routes[("QUERY", "/graphql/Query.posts")].auth.status.value == "public"
    assert routes[("QUERY", "/graphql/Query.me")].auth.status.value == "authenticated"
    # a wrapper of the same file that throws for a caller without a user
    drafts = routes[("QUERY", "/graphql/Query.drafts")].auth
    assert drafts.status.value == "authenticated"
    assert "authenticated()" in (drafts.mechanism or "")
    # a role in the refusing test restricts; a test that only personalises guards nothing
    assert routes[("MUTATION", "/graphql/Mutation.deleteUser")].auth.status.value == "restricted"
    assert routes[("QUERY", "/graphql/Query.greeting")].auth.status.value == "public"
    assert routes[("MUTATION", "/graphql/Mutation.signup")].auth.status.value == "public"


def test_resolver_shaped_objects_without_a_graphql_server_are_not_routes(tmp_path: Path) -> None:
    (tmp_path / "store.js").write_text(
        "const reducers = { Query: { run: () => 1 } }\nmodule.exports = reducers\n"
    )
    facts = collect(tmp_path, GraphqlJsCollector())
    assert facts.routes == []


def test_combine_resolvers_guards_imported_from_another_file() -> None:
    routes = by_route(collect(APP, ExpressCollector(), GraphqlJsCollector()))
    create = routes[("MUTATION", "/graphql/Mutation.createNote")].auth
    assert create.status.value == "authenticated"  # me ? skip : new ForbiddenError(...)
    assert create.evidence[0].path == "authorization.js"
    # the owner check compares the record's owner with the caller
    assert routes[("MUTATION", "/graphql/Mutation.deleteNote")].auth.status.value == "restricted"
    # a guard that refuses no one guards nothing
    assert routes[("MUTATION", "/graphql/Mutation.pingNote")].auth.status.value == "public"


def test_an_undefined_identity_that_throws_authenticates(tmp_path: Path) -> None:
    (tmp_path / "schema.js").write_text(
        "const { ApolloServer } = require('apollo-server')\n"
        "const resolvers = { Mutation: {\n"
        "  save: async (parent, args, context) => {\n"
        "    if (typeof context.user == 'undefined') { throw new Error('sign in') }\n"
        "    return args.name\n"
        "  },\n"
        "} }\n"
        "new ApolloServer({ resolvers })\n"
    )
    routes = by_route(collect(tmp_path, GraphqlJsCollector()))
    assert routes[("MUTATION", "/graphql/Mutation.save")].auth.status.value == "authenticated"


def test_server_options_that_open_it_are_settings(tmp_path: Path) -> None:
    (tmp_path / "server.js").write_text(
        "const { ApolloServer } = require('apollo-server')\n"
        "const options = {\n"
        "  introspection: true,\n"
        "  allowBatchedHttpRequests: true,\n"
        "  debug: process.env.NODE_ENV !== 'production',\n"
        "}\n"
        "const server = new ApolloServer(options)\n"
    )
    settings = collect(tmp_path, GraphqlJsCollector()).settings
    got = {(s.key, s.value, s.location.line) for s in settings}
    # written true, in a name the call reads; a value the deployment decides is no fact
    assert got == {("graphql.introspection", "true", 3), ("graphql.batching", "true", 4)}
