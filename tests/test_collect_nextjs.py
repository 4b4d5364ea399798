"""Next.js routes, server actions, middleware matcher and handler checks, on tests/fixtures/js."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.frameworks.nextjs.files import route_of
from threatmodel.frameworks.nextjs.middleware import matches
from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts

FIXTURES = Path(__file__).parent / "fixtures" / "js"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(FIXTURES / "next-app", NextJsCollector())


def status(facts: Facts, method: str, path: str) -> str:
    return by_route(facts)[(method, path)].auth.status.value


def test_routes_from_the_file_system(facts: Facts) -> None:
    assert sorted(by_route(facts)) == sorted(
        [
            ("GET", "/api/admin/stats"),
            ("GET", "/api/auth/{nextauth}"),
            ("POST", "/api/auth/{nextauth}"),
            ("GET", "/api/legacy/{slug}"),
            ("POST", "/api/legacy/{slug}"),
            ("DELETE", "/api/notes/{id}"),
            ("GET", "/api/notes/{id}"),
            ("GET", "/api/public"),
            ("GET", "/dashboard"),  # the (dash) route group is not in the URL
            ("GET", "/settings"),
            ("POST", "action:app/actions/notes.ts#deleteNote"),
            ("POST", "action:app/actions/notes.ts#publishNote"),
        ]
    )
    assert {r.framework for r in facts.routes} == {"nextjs"}


def test_handler_checks_need_a_rejecting_branch(facts: Facts) -> None:
    guarded = by_route(facts)[("GET", "/api/notes/{id}")]
    assert guarded.auth.status.value == "authenticated"
    assert guarded.auth.evidence[0].snippet.startswith("return NextResponse.json")
    # getServerSession() whose result is only logged guards nothing
    assert status(facts, "DELETE", "/api/notes/{id}") == "public"
    assert status(facts, "GET", "/api/public") == "public"


def test_middleware_guards_only_what_its_matcher_covers(facts: Facts) -> None:
    assert status(facts, "GET", "/dashboard") == "authenticated"
    stats = by_route(facts)[("GET", "/api/admin/stats")]
    assert stats.auth.status.value == "authenticated"
    assert stats.auth.evidence[0].path == "middleware.ts"
    # /api/notes is outside the matcher: the DELETE handler is on its own, and public


def test_helpers_roles_and_pages_router_methods(facts: Facts) -> None:
    assert status(facts, "GET", "/settings") == "authenticated"  # await requireUser()
    assert status(facts, "POST", "/api/legacy/{slug}") == "restricted"  # role check


def test_server_actions(facts: Facts) -> None:
    assert status(facts, "POST", "action:app/actions/notes.ts#deleteNote") == "authenticated"
    assert status(facts, "POST", "action:app/actions/notes.ts#publishNote") == "public"


def test_middleware_that_only_logs_guards_nothing() -> None:
    facts = collect(FIXTURES / "next-logmw", NextJsCollector())
    assert status(facts, "GET", "/dashboard") == "public"
    assert status(facts, "POST", "/api/todos") == "authenticated"  # supabase.auth.getUser()


def test_route_of_and_matcher() -> None:
    assert route_of("src/app/(shop)/items/[...slug]/route.ts") == ("route", "", "/items/{slug}")
    assert route_of("app/_lib/route.ts") is None
    assert route_of("pages/api/users/index.ts") == ("api", "", "/api/users")
    assert route_of("apps/web/pages/_app.tsx") is None
    assert matches(["/dashboard/:path*"], "/dashboard") and matches(
        ["/dashboard/:path*"], "/dashboard/a/b"
    )
    assert not matches(["/dashboard/:path*"], "/settings")
    neg = ["/((?!api|_next/static|favicon.ico).*)"]
    assert matches(neg, "/settings") and not matches(neg, "/api/notes/{id}")
    assert matches(None, "/anything")


def test_middleware_flow_per_path() -> None:
    # Signed-in visitors are bounced off /login (not a guard); signed-out ones off /dashboard;
    # /blog is outside the matcher.
    facts = collect(FIXTURES / "next-withauth", NextJsCollector())
    assert status(facts, "GET", "/dashboard") == "authenticated"
    assert status(facts, "GET", "/login") == "public"
    assert status(facts, "GET", "/blog") == "public"
    evidence = by_route(facts)[("GET", "/dashboard")].auth.evidence[0]
    assert (evidence.path, evidence.start_line) == ("middleware.ts", 20)
