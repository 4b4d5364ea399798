"""Flask: the routes Flask and Flask-RESTX generate (static files, the spec, the docs)."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("flask_generated")


def test_generated_routes_exist_exactly_where_the_configuration_makes_them(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "GET /admin/",
        # A blueprint's static folder sits under its prefix.
        "GET /admin/files/{filename}",
        # RESTX: root, docs page (doc="/docs"), spec; resources as before.
        "GET /api/v1/",
        "GET /api/v1/docs",
        "GET /api/v1/items",
        "GET /api/v1/swagger.json",
        # An app from a Flask subclass, static_url_path given. The worker app has
        # static_folder=None, and its flask_restful Api generates nothing.
        "GET /assets/{filename}",
        "GET /swaggerui/{filename}",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        ("GET /admin/files/{filename}", "authenticated", "before_request hook require_login"),
        # The spec is served as a resource: Api(decorators=) guard it; the root page is not.
        ("GET /api/v1/swagger.json", "authenticated", "Api decorators login_required"),
        ("GET /api/v1/", "public", None),
        ("GET /assets/{filename}", "public", None),
    ],
)
def test_generated_routes_get_their_owners_guards(
    facts, route: str, status: str, mechanism: str | None
) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)
