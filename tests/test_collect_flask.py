"""Flask: nested blueprint prefixes, decorators followed across files, hooks, extensions."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id, settings_of

from threatmodel.code.pyast import join_paths, normalize_angle, normalize_brace, normalize_regex


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("flask_app")


def test_routes_found_with_nested_prefixes_and_nothing_invented(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "DELETE /admin/users/{user_id}",
        "DELETE /api/v1/orders/{order_id}",
        "GET /api/cart",
        "GET /api/me",
        "GET /api/v1/orders/{order_id}",
        "GET /health",
        "GET /static/{filename}",  # Flask serves the app's static folder
        "POST /api/cart",
        "POST /api/login",
        "POST /api/v1/orders/{order_id}/refund",
        "POST /api/webhook",
        "PUT /api/v1/prices",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        ("GET /api/v1/orders/{order_id}", "authenticated", "decorator @token_required"),
        # @audited is `log_call` imported under another name: it only logs.
        ("POST /api/v1/orders/{order_id}/refund", "public", None),
        ("PUT /api/v1/prices", "restricted", "decorator @roles"),
        ("DELETE /admin/users/{user_id}", "restricted", "before_request hook only_admins"),
        ("GET /api/cart", "authenticated", "view decorator token_required"),
        ("GET /api/me", "authenticated", "check in the handler"),
        # the 401 of a login handler is the login itself, not a guard
        ("POST /api/login", "public", None),
        ("GET /health", "public", None),
    ],
)
def test_auth_of_each_route(facts, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert r.auth.status == status
    assert r.auth.mechanism == mechanism
    if status != "public":
        assert r.auth.evidence and all(e.snippet for e in r.auth.evidence)


def test_csrf_exempt_and_rate_limit(facts) -> None:  # type: ignore[no-untyped-def]
    hook = routes_by_id(facts)["POST /api/webhook"]
    assert hook.csrf_exempt and hook.rate_limited is True
    assert not routes_by_id(facts)["GET /api/me"].csrf_exempt


def test_settings_and_middleware(facts) -> None:  # type: ignore[no-untyped-def]
    assert settings_of(facts) == {
        "cors.allow_credentials": "true",
        "cors.allow_origins": "*",
        "csrf.enabled": "true",
        "debug": "true",
        "secret_key": "env",
        "session.cookie_secure": "false",
    }
    assert {m.kind for m in facts.middleware} == {"cors", "csrf", "rate_limit"}


def test_leaky_notes_example_secret_key_followed_to_config() -> None:
    from pathlib import Path

    from threatmodel.collect import collect_facts

    root = Path(__file__).resolve().parent.parent / "examples" / "leaky-notes"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    facts = collect_facts(root, files, cache=None, jobs=1).facts
    assert settings_of(facts)["secret_key"] == "env"  # app.secret_key = config.SECRET_KEY
    routes = routes_by_id(facts)
    assert routes["POST /api/notes/{note_id}/share"].auth.status == "public"
    assert routes["DELETE /admin/users/{user_id}"].auth.status == "restricted"


@pytest.mark.parametrize(
    ("fn", "raw", "want"),
    [
        (normalize_angle, "/u/<int:user_id>/<name>", "/u/{user_id}/{name}"),
        (normalize_brace, "/f/{p:path}/{id:\\d{3}}", "/f/{p}/{id}"),
        (normalize_regex, r"^users/(?P<pk>[0-9]+)/(\d+)/$", "users/{pk}/{arg1}/"),
        (normalize_regex, r"^api/items\.json$", "api/items.json"),
    ],
)
def test_path_parameters_normalised(fn, raw: str, want: str) -> None:  # type: ignore[no-untyped-def]
    assert fn(raw) == want


def test_join_paths_keeps_last_trailing_slash() -> None:
    assert join_paths("/api/", "/v1", "users/") == "/api/v1/users/"
    assert join_paths("", "/") == "/"
