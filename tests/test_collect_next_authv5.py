"""NextAuth v5 (Auth.js) as the middleware: ``export { auth as middleware }`` runs the
config's ``authorized`` callback (fixtures/js/next-authv5); ``export default auth(fn)``
runs the wrapped function (fixtures/js/next-authv5-wrap)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.frameworks.nextjs.routes import NextJsCollector

FIXTURES = Path(__file__).parent / "fixtures" / "js"


def test_auth_reexported_as_middleware_runs_the_authorized_callback() -> None:
    routes = by_route(collect(FIXTURES / "next-authv5", NextJsCollector()))
    dashboard = routes[("GET", "/dashboard/invoices")].auth
    assert dashboard.status.value == "authenticated"
    # the callback lives in auth.config.ts, spread into NextAuth({...authConfig}) in auth.ts
    assert dashboard.evidence[0].path == "auth.config.ts"
    assert "authorized" in (dashboard.mechanism or "")
    # `return true` outside the dashboard: the matcher covers them, the callback lets them in
    assert routes[("GET", "/")].auth.status.value == "public"
    assert routes[("GET", "/login")].auth.status.value == "public"


def test_auth_wrapping_a_function_is_judged_by_that_function() -> None:
    routes = by_route(collect(FIXTURES / "next-authv5-wrap", NextJsCollector()))
    assert routes[("GET", "/settings")].auth.status.value == "authenticated"
    # the function's own exception (and auth() without an authorized callback refuses no one)
    assert routes[("GET", "/login")].auth.status.value == "public"


def test_nextauth_config_auth_as_the_default_export_of_proxy_ts() -> None:
    routes = by_route(collect(FIXTURES / "next-authv5-proxy", NextJsCollector()))
    dashboard = routes[("GET", "/dashboard")].auth
    assert dashboard.status.value == "authenticated"
    assert dashboard.evidence[0].path == "auth.config.ts"
    assert routes[("GET", "/")].auth.status.value == "public"
    # a server action is not behind the page middleware
    action = routes[("POST", "action:app/lib/actions.ts#deleteInvoice")]
    assert action.auth.status.value == "public"
