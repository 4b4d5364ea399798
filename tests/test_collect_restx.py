"""Flask-RESTX resources, and guards judged by who they let through (restx_app fixture)."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("restx_app")


def test_resource_methods_are_routes_under_namespace_api_and_blueprint(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "DELETE /api/v1/items/by-id/{item_id}",
        "DELETE /api/v1/items/{item_id}",
        "GET /api/v1/",  # RESTX's root (the docs page, doc defaults to "/")
        "GET /api/v1/items",
        "GET /api/v1/items/by-id/{item_id}",
        "GET /api/v1/items/ping",
        "GET /api/v1/items/{item_id}",
        "GET /api/v1/manage/stats",
        "GET /api/v1/swagger.json",  # RESTX's spec
        "GET /api/v1/users/{user_id}",
        "GET /static/{filename}",  # Flask's static files
        "GET /swaggerui/{filename}",  # RESTX's Swagger UI assets
        "POST /api/v1/items",
        "POST /api/v1/items/signup",
        "POST /api/v1/items/{item_id}/attempt",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # `if is_admin(): serve else: reject` (whichever way it rejects): a role check.
        ("POST /api/v1/items", "restricted", "decorator @admins_only"),
        ("GET /api/v1/items/{item_id}", "authenticated", "method_decorators authed_only"),
        ("DELETE /api/v1/items/by-id/{item_id}", "authenticated", "method_decorators authed_only"),
        ("GET /api/v1/users/{user_id}", "restricted", "Namespace decorators admins_only"),
        ("GET /api/v1/manage/stats", "authenticated", "Namespace decorators authed_only"),
        # `open_now() or is_admin()` lets anyone in while the event runs.
        ("POST /api/v1/items/{item_id}/attempt", "public", None),
        # Inverted: rejects callers who are logged in.
        ("POST /api/v1/items/signup", "public", None),
        # A header merely being present proves nothing.
        ("GET /api/v1/items/ping", "public", None),
        # Checked only when a setting says so.
        (
            "GET /api/v1/items",
            "unknown",
            "decorator @check_visibility (checks only in some configurations)",
        ),
    ],
)
def test_auth_by_what_the_guard_lets_through(
    facts, route: str, status: str, mechanism: str | None
) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)
