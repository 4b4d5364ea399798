"""Django: generic-alias bases (``GenericAPIView[Any]``), ``*router.urls`` spliced into a
list, and a class view wrapped by ``login_required(...)`` in the URLconf."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def routes():  # type: ignore[no-untyped-def]
    return routes_by_id(facts_of("django_wrapped"))


def test_spliced_router_urls_are_routes(routes) -> None:  # type: ignore[no-untyped-def]
    assert {"GET /api/notes/", "POST /api/notes/", "DELETE /api/notes/{pk}/"} <= set(routes)


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # the view's own permission_classes, read through the subscripted base
        ("GET /api/settings/", "authenticated", "permission_classes IsAuthenticated"),
        ("POST /api/settings/", "authenticated", "permission_classes IsAuthenticated"),
        ("GET /api/notes/", "authenticated", "permission_classes IsAuthenticated"),
        ("PATCH /api/notes/{pk}/", "authenticated", "permission_classes IsAuthenticated"),
        # a DRF view all the same: no DEFAULT_PERMISSION_CLASSES is DRF's AllowAny
        (
            "GET /api/health/",
            "public",
            "DRF default AllowAny (no DEFAULT_PERMISSION_CLASSES)",
        ),
        ("GET /app/", "authenticated", "login_required() in the URLconf"),
        # a subclass of DRF's model permissions keeps DRF's has_permission: perms_map asks
        # a permission of writes, and of reads when it names one for GET
        ("GET /api/shared/", "restricted", "permission class NotePermissions (perms_map for GET)"),
        (
            "POST /api/shared/",
            "restricted",
            "permission class NotePermissions (perms_map for POST)",
        ),
        (
            "POST /api/pins/",
            "restricted",
            "permission class LooseModelPermissions (perms_map for POST)",
        ),
        (
            "GET /api/pins/",
            "authenticated",
            "permission class LooseModelPermissions (perms_map for GET); permission_classes"
            " IsAuthenticated",
        ),
        # get_permissions changes the classes for the actions it names only
        (
            "GET /api/folders/",
            "restricted",
            "permission class NotePermissions (perms_map for GET)",
        ),
        ("POST /api/folders/preview/", "unknown", "get_permissions() decides per request"),
        # ... any other shape decides per request
        ("GET /api/archive/", "unknown", "get_permissions() decides per request"),
    ],
)
def test_auth(routes, route: str, status: str, mechanism: str) -> None:  # type: ignore[no-untyped-def]
    r = routes[route]
    assert (r.auth.status.value, r.auth.mechanism) == (status, mechanism)
    if route == "GET /app/":
        assert r.handler == "notes.views.ShellView"
