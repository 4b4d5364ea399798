"""FastAPI: dependencies declared through ``Annotated`` aliases defined in another module."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("fastapi_annotated")


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # `user: CurrentUser`, CurrentUser = Annotated[..., Depends(get_current_user)]
        ("GET /api/v1/orders/", "authenticated", "Depends(get_current_user)"),
        # `deps.StaffUser`, a TypeAlias-annotated alias carrying Security(get_staff, ...)
        ("DELETE /api/v1/orders/{order_id}", "restricted", "Depends(get_staff)"),
        # An alias whose dependency only opens a database session guards nothing.
        ("GET /api/v1/orders/catalog", "public", None),
        ("GET /api/v1/orders/maybe", "public", None),
    ],
)
def test_annotated_alias_dependencies_guard(
    facts, route: str, status: str, mechanism: str | None
) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)


def test_alias_evidence_points_at_the_alias_definition(facts) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)["GET /api/v1/orders/"]
    assert [(e.path, e.start_line) for e in r.auth.evidence] == [("shop/api/deps.py", 31)]


def test_prefix_and_docs_urls_from_a_settings_class_default(facts) -> None:  # type: ignore[no-untyped-def]
    # prefix=settings.API_V1_STR, openapi_url=f"{settings.API_V1_STR}/openapi.json": the
    # Settings class's default; redoc_url=None turns that page off.
    assert sorted(routes_by_id(facts)) == [
        "DELETE /api/v1/orders/{order_id}",
        "GET /api/v1/openapi.json",
        "GET /api/v1/orders/",
        "GET /api/v1/orders/catalog",
        "GET /api/v1/orders/maybe",
        "GET /docs",
        "GET /docs/oauth2-redirect",
    ]
    assert routes_by_id(facts)["GET /api/v1/openapi.json"].auth.status == "public"
