"""Django: include() of local lists, constant prefixes, patterns() with dotted views, dispatch."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("django_old")


def test_routes_through_local_lists_constants_and_patterns(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "ANY /",
        "ANY /account/{user_id}/",
        "ANY /admin/",
        "ANY /api/checks/",
        "ANY /items/{code}/edit/",
        "ANY /items/{code}/remove/",
        "GET /api/devices/",
        "GET /api/racks/",
        "POST /api/devices/",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        ("ANY /items/{code}/edit/", "authenticated", "decorator @login_required"),
        ("ANY /items/{code}/remove/", "public", None),
        ("ANY /account/{user_id}/", "authenticated", "decorator @login_required"),
        ("ANY /", "public", None),
        (
            "ANY /api/checks/",
            "authenticated",
            "every branch hands over to a guarded view (create_check, list_checks) (api_key)",
        ),
        # DRF model permissions named by dotted path; anonymous reads follow a setting whose
        # default the settings module writes (getattr(configuration, ..., True)): refused, and
        # perms_map asks a view permission for GET.
        (
            "GET /api/devices/",
            "restricted",
            "DEFAULT_PERMISSION_CLASSES permission class TokenPerms"
            " (LOGIN_REQUIRED defaults to True)",
        ),
        # A setting read from the environment with no default is the deployment's to decide.
        (
            "GET /api/racks/",
            "unknown",
            "permission class RackPerms (anonymous reads depend on settings.RACKS_LOGIN_REQUIRED)",
        ),
        (
            "POST /api/devices/",
            "restricted",
            "DEFAULT_PERMISSION_CLASSES permission class TokenPerms",
        ),
    ],
)
def test_auth(facts, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)
