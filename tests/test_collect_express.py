"""Express routes, middleware order, mounted routers and guards (fixtures/js/express-app)."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.code.source import SourceFile
from threatmodel.frameworks.express.link import normalize_path, under
from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.models import Facts

APP = Path(__file__).parent / "fixtures" / "js" / "express-app"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, ExpressCollector())


def status(facts: Facts, method: str, path: str) -> str:
    return by_route(facts)[(method, path)].auth.status.value


def test_every_route_found_with_full_path(facts: Facts) -> None:
    assert sorted(by_route(facts)) == sorted(
        [
            ("GET", "/admin/stats"),
            ("DELETE", "/admin/users/{id}"),
            ("DELETE", "/api/cache"),
            ("GET", "/api/me"),
            ("PUT", "/api/profile/{id}"),
            ("GET", "/health"),
            ("GET", "/items"),
            ("POST", "/items"),
            ("GET", "/logged"),
            ("POST", "/login"),
            ("GET", "/reports/daily"),
            ("GET", "/reports/weekly"),
            ("GET", "/users"),
            ("GET", "/users/{userId}"),
            ("PATCH", "/users/{userId}"),
            ("GET", "/vendor"),
        ]
    )


def test_global_guard_registered_after_a_route_does_not_guard_it(facts: Facts) -> None:
    assert status(facts, "DELETE", "/api/cache") == "public"
    after = by_route(facts)[("PUT", "/api/profile/{id}")]
    assert after.auth.status.value == "authenticated"
    assert "expressjwt" in (after.auth.mechanism or "")
    assert after.auth.evidence[0].path == "app.js"


def test_router_mounted_from_other_files(facts: Facts) -> None:
    # require()d CommonJS router: router.use(isLoggedIn) guards only the routes after it
    assert status(facts, "GET", "/users") == "public"
    assert status(facts, "GET", "/users/{userId}") == "authenticated"
    # ESM-imported router whose router.use(requireAdmin) checks a role
    assert status(facts, "GET", "/admin/stats") == "restricted"
    assert status(facts, "DELETE", "/admin/users/{id}") == "restricted"


def test_app_route_chain_and_function_taking_the_app(facts: Facts) -> None:
    assert status(facts, "GET", "/items") == "public"
    assert status(facts, "POST", "/items") == "authenticated"
    assert status(facts, "GET", "/reports/daily") == "authenticated"


def test_library_and_custom_guards(facts: Facts) -> None:
    assert status(facts, "POST", "/login") == "public"  # passport 'local' is the login itself
    assert status(facts, "GET", "/api/me") == "authenticated"  # passport 'jwt'
    assert status(facts, "GET", "/logged") == "public"  # logRequests only logs
    assert status(facts, "GET", "/vendor") == "unknown"  # guard-like, code not in the repo


def test_rate_limit_applies_under_its_prefix(facts: Facts) -> None:
    routes = by_route(facts)
    assert routes[("DELETE", "/api/cache")].rate_limited is True
    assert routes[("GET", "/health")].rate_limited is False


def test_security_middleware_and_settings(facts: Facts) -> None:
    kinds = {(m.kind, m.scope) for m in facts.middleware}
    assert {("security_headers", "global"), ("cors", "global"), ("csrf", "global")} <= kinds
    assert ("session", "global") in kinds and ("rate_limit", "/api") in kinds
    settings = {s.key: s.value for s in facts.settings}
    assert settings["cors.allow_origins"] == "*"
    assert settings["cors.allow_credentials"] == "true"
    assert settings["session.cookie_secure"] == "false"
    assert settings["csrf.enabled"] == "true"
    assert settings["secret_key"] == "hardcoded"
    assert all("keyboard" not in s.value for s in facts.settings)  # never the secret itself


def test_paths_are_normalised() -> None:
    assert normalize_path("/users/:id(\\d+)/posts/:postId?") == "/users/{id}/posts/{postId}"
    assert under("/api/users/{id}", "/api") and not under("/apix", "/api")
    assert under("/api/Quantitys/{id}", "/api/Quantitys/:id")


def test_irrelevant_file_is_skipped_cheaply() -> None:
    src = SourceFile.from_bytes("lib/math.js", b"export const add = (a, b) => a + b;\n")
    assert ExpressCollector().extract(src) is None


def test_test_files_define_no_routes() -> None:
    assert not ExpressCollector().wants("test/api.spec.js", "javascript")


def test_a_path_registered_twice_is_one_route_that_names_both_lines(tmp_path: Path) -> None:
    """Express stacks registrations of one path: the first answers and a later one runs
    only if an earlier handler calls next(). It is one route (one id), and both lines are
    its code: the later line is kept, not dropped (juice-shop registers /metrics twice)."""
    (tmp_path / "server.js").write_text(
        "const express = require('express')\n"
        "const app = express()\n"
        "function setup () {\n"
        "  app.get('/metrics', serve)\n"
        "}\n"
        "app.get('/metrics', serve)\n"
        "app.get('/other', serve)\n"
    )
    facts = collect(tmp_path, ExpressCollector())
    routes = [r for r in facts.routes if r.path == "/metrics"]
    assert len(routes) == 1
    assert routes[0].location.line == 4
    assert [(loc.path, loc.line) for loc in routes[0].registered_again] == [("server.js", 6)]
    assert by_route(facts)[("GET", "/other")].registered_again == []
