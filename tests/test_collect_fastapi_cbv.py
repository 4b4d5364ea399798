"""FastAPI: router subclasses, class-based controllers, constant prefixes, re-exported deps."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("fastapi_cbv")


def test_paths_through_constant_and_fstring_prefixes_and_router_subclass(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "DELETE /api/admin/things/{thing_id}",
        "GET /api/me/things",
        "GET /api/things/public",
        "GET /api/things/{thing_id}",
        "GET /docs",  # FastAPI's own pages: on by default
        "GET /docs/oauth2-redirect",
        "GET /openapi.json",
        "GET /redoc",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # get_user comes through `from .core import *` in the deps package's __init__.
        ("GET /api/me/things", "authenticated", "Depends(get_user)"),
        ("GET /api/things/{thing_id}", "authenticated", "Depends(get_user)"),
        ("DELETE /api/admin/things/{thing_id}", "restricted", "Depends(get_admin)"),
        ("GET /api/things/public", "public", None),
    ],
)
def test_controller_and_router_dependencies_guard(
    facts, route: str, status: str, mechanism: str | None
) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)
