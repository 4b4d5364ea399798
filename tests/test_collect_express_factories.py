"""Express routers built in factories and classes, chains, and guards read by what they do
(fixtures/js/express-factories)."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.models import Facts

APP = Path(__file__).parent / "fixtures" / "js" / "express-factories"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, ExpressCollector())


def status(facts: Facts, method: str, path: str) -> str:
    return by_route(facts)[(method, path)].auth.status.value


def test_every_route_found_under_its_mount(facts: Facts) -> None:
    assert sorted(by_route(facts)) == sorted(
        [
            ("GET", "/account"),
            ("GET", "/admin/feed"),
            ("GET", "/admin/stats"),
            ("GET", "/api/status"),
            ("POST", "/api/v1/events"),
            ("POST", "/api/reset/{token}"),
            ("GET", "/api/things/{id}"),
            ("GET", "/notes/{id}"),
            ("PUT", "/notes/{id}"),
            ("GET", "/app"),
            ("POST", "/app/ping"),
            ("GET", "/items"),
            ("DELETE", "/items/{id}"),
            ("GET", "/login"),
            ("POST", "/login"),
        ]
    )


def test_factory_routers_keep_their_guards(facts: Facts) -> None:
    # require('./routes/app')() returns the module's router; its routes sit under /app
    assert status(facts, "POST", "/app/ping") == "authenticated"
    # const { Router: R } = require('express'); a guard exported as module.exports = function
    assert status(facts, "GET", "/account") == "authenticated"
    # a class whose field holds the router, mounted as new ItemsController().router
    assert status(facts, "GET", "/items") == "public"
    assert status(facts, "DELETE", "/items/{id}") == "authenticated"


def test_optional_jwt_and_inverted_checks_do_not_authenticate(facts: Facts) -> None:
    assert status(facts, "GET", "/admin/stats") == "authenticated"
    assert status(facts, "GET", "/admin/feed") == "public"  # credentialsRequired: false
    # isNotAuthenticated redirects callers who are signed in: anyone else gets through
    assert status(facts, "GET", "/login") == "public"


def test_secret_link_token_gates_the_route_with_its_mechanism(facts: Facts) -> None:
    reset = by_route(facts)[("POST", "/api/reset/{token}")].auth
    assert reset.status.value == "authenticated"
    assert (reset.mechanism or "").startswith("url_token")
    assert status(facts, "GET", "/api/things/{id}") == "public"  # an id is no secret


def test_apps_of_a_monorepo_never_lend_each_other_guards() -> None:
    mono = collect(APP.parent / "express-monorepo", ExpressCollector())
    # apps/admin defines requireAdmin; apps/shop imports one from a package not in the repo
    assert status(mono, "GET", "/reports") == "restricted"
    assert status(mono, "GET", "/orders") == "unknown"


def test_service_that_refuses_non_owners_restricts(facts: Facts) -> None:
    # the handler hands req.session.userId to updateNote, which throws 403 on a mismatch
    put = by_route(facts)[("PUT", "/notes/{id}")].auth
    assert put.status.value == "restricted"
    assert put.evidence[-1].path == "services/notes.js"
    assert status(facts, "GET", "/notes/{id}") == "authenticated"  # compares, refuses no one
