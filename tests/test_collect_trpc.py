"""tRPC procedures as routes (fixtures/js/trpc-app, a T3-shaped app): one route per
procedure under the Next.js catch-all's mount, its method tRPC's HTTP link uses, and who
may call it from the builder chain's middlewares, followed through imports."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.frameworks.trpc.routes import TrpcCollector

APP = Path(__file__).parent / "fixtures" / "js" / "trpc-app"


def test_procedures_are_routes_under_the_catch_all() -> None:
    routes = by_route(collect(APP, NextJsCollector(), TrpcCollector()))
    procs = {k for k, r in routes.items() if r.framework == "trpc"}
    assert procs == {
        ("GET", "/api/trpc/post.hello"),
        ("GET", "/api/trpc/post.search"),
        ("POST", "/api/trpc/post.create"),
        ("POST", "/api/trpc/post.thumbnail"),
        ("GET", "/api/trpc/post.drafts"),  # a builder factory's call, then .query
        ("GET", "/api/trpc/post.mine"),
        ("POST", "/api/trpc/post.remove"),
        ("POST", "/api/trpc/post.share"),
        ("POST", "/api/trpc/post.publish"),
        ("POST", "/api/trpc/post.vote"),
        ("POST", "/api/trpc/post.setAudience"),
        ("POST", "/api/trpc/post.acceptInvite"),
        ("WS", "/api/trpc/post.onAdd"),
        # mergeRouters and nested routers, each key a step of the dotted path
        ("GET", "/api/trpc/admin.stats"),
        ("POST", "/api/trpc/admin.users.remove"),
    }
    create = routes[("POST", "/api/trpc/post.create")]
    assert create.location.path == "src/server/api/routers/post.ts"
    assert create.location.line == 27
    # a server-side caller in a page and an OpenAPI adapter serve no tRPC mount of their own
    assert not any(p.startswith(("/posts/", "/api/post")) for _, p in procs)


def test_who_may_call_follows_the_builder_chain() -> None:
    routes = by_route(collect(APP, NextJsCollector(), TrpcCollector()))

    def status(method: str, path: str) -> str:
        return routes[(method, f"/api/trpc/{path}")].auth.status.value

    # t.procedure with a timing middleware that refuses no one
    assert status("GET", "post.hello") == "public"
    # a middleware of another file throwing UNAUTHORIZED without ctx.session.user
    create = routes[("POST", "/api/trpc/post.create")].auth
    assert create.status.value == "authenticated"
    assert create.evidence[0].path == "src/server/api/trpc.ts"
    assert "TRPCError" in create.evidence[0].snippet
    # a builder made from the protected one, adding a role test
    assert status("GET", "admin.stats") == "restricted"
    assert status("POST", "admin.users.remove") == "restricted"
    # a factory's middleware hands its context to an imported check refusing on a role
    drafts = routes[("GET", "/api/trpc/post.drafts")].auth
    assert drafts.status.value == "restricted"
    assert drafts.evidence[0].path == "src/server/permission.ts"
    # ... or to a function that refuses no one: the protected builder's check remains
    assert status("GET", "post.mine") == "authenticated"
    # the resolver's own test of the caller against the record's owner
    assert status("POST", "post.remove") == "restricted"
    # ... but not one after a return: a caller with a token is served before it
    assert status("POST", "post.share") == "public"
    # a role test alone restricts a procedure the builder authenticates, not a public one
    # (whose role it reads, the caller's or a record's, is not said)
    assert status("POST", "post.publish") == "restricted"
    assert status("POST", "post.vote") == "public"
    # role words in the client's input or in a string are a value checked, not a role
    assert status("POST", "post.setAudience") == "authenticated"
    # a library's middleware: what it refuses is not read
    assert status("POST", "post.thumbnail") == "unknown"


def test_no_adapter_no_routes_without_a_router(tmp_path: Path) -> None:
    # a `.query(fn)` on a name that is no builder (a database client) is no procedure
    (tmp_path / "db.ts").write_text(
        'import { pool } from "./pool";\n'
        "export const rows = pool.query(async ({ input }) => input);\n"
    )
    assert not collect(tmp_path, NextJsCollector(), TrpcCollector()).routes


def test_a_token_from_the_input_admits_its_holder() -> None:
    # a public procedure handing a token of its input to a lookup: a secret link's holder
    routes = by_route(collect(APP, NextJsCollector(), TrpcCollector()))
    invite = routes[("POST", "/api/trpc/post.acceptInvite")].auth
    assert invite.status.value == "authenticated"
    assert invite.mechanism == "url_token: inviteToken from the input (a secret link)"
    # reading other fields of the input admits no one
    assert routes[("POST", "/api/trpc/post.vote")].auth.status.value == "public"
