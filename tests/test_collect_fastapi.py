"""FastAPI: router prefixes through include chains, dependencies judged by their definition."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id, settings_of


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("fastapi_app")


def test_routes_and_prefixes(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "DELETE /api/v1/items/{item_id}",
        "GET /",
        "GET /api/v1/items/{item_id}",
        "GET /docs",  # FastAPI's own pages: on by default
        "GET /docs/oauth2-redirect",
        "GET /internal/stats",
        "GET /openapi.json",
        "GET /profile/{path}",
        "GET /redoc",
        "POST /comments",
    ]
    assert all(r.framework == "fastapi" for r in facts.routes)


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # router-level dependency: get_current_user raises credentials_exception (401)
        ("GET /api/v1/items/{item_id}", "authenticated", "Depends(get_current_user)"),
        # require_admin checks the role and raises 403
        ("DELETE /api/v1/items/{item_id}", "restricted", "Depends(require_admin)"),
        # get_optional_user returns None instead of raising: guards nothing
        ("POST /comments", "public", None),
        ("GET /", "public", None),
    ],
)
def test_dependency_auth(facts, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)


def test_bare_security_scheme_is_unknown(facts) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)["GET /profile/{path}"]
    assert r.auth.status == "unknown" and "oauth2_scheme" in (r.auth.mechanism or "")


def test_hidden_route(facts) -> None:  # type: ignore[no-untyped-def]
    routes = routes_by_id(facts)
    assert routes["GET /internal/stats"].hidden and not routes["GET /"].hidden


def test_cors_session_debug(facts) -> None:  # type: ignore[no-untyped-def]
    assert settings_of(facts) == {
        "cors.allow_credentials": "true",
        "cors.allow_origins": "*",
        "debug": "true",
        "secret_key": "hardcoded",
    }
    assert {(m.kind, m.name) for m in facts.middleware} == {
        ("cors", "CORSMiddleware"),
        ("session", "SessionMiddleware"),
    }
