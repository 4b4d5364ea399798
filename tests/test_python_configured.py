"""Guards chosen by a setting (frameworks/_python/configured.py): each value's state named.

The fixture's visibility decorators read an option stored outside the code and dispatch on
it: public, members only, or admins only (hidden by a 404). One names its default.
"""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.models import Route


@pytest.fixture(scope="module")
def routes() -> dict[str, Route]:
    return routes_by_id(facts_of("flask_visibility"))


def test_no_default_reports_the_most_permissive_state(routes: dict[str, Route]) -> None:
    auth = routes["GET /posts"].auth
    assert auth.status == "public"
    [setting] = auth.settings
    assert setting.setting == "post_visibility"
    assert setting.default is None
    assert setting.states == {
        "Visibility.PUBLIC": "public",
        "Visibility.MEMBERS": "authenticated",
        "Visibility.ADMINS": "restricted",  # is_admin() or abort(404)
    }
    assert setting.location.path == "board/guards.py"
    assert "depends on setting post_visibility" in (auth.mechanism or "")


def test_the_default_the_code_names_decides(routes: dict[str, Route]) -> None:
    auth = routes["GET /stats"].auth
    assert auth.status == "authenticated"
    assert auth.settings[0].default == "Visibility.MEMBERS"


def test_a_guard_that_always_checks_wins_and_drops_the_setting(routes: dict[str, Route]) -> None:
    auth = routes["GET /admin/posts"].auth
    assert auth.status == "restricted"
    assert auth.settings == []


def test_a_check_made_while_a_django_setting_is_on_takes_its_default() -> None:
    """``if settings.LOGIN_REQUIRED and not request.user.is_authenticated: 403``: the
    settings module writes LOGIN_REQUIRED's default (True), so the route needs a login."""
    auth = routes_by_id(facts_of("django_flag"))["GET /api/"].auth
    assert auth.status == "authenticated"
    [setting] = auth.settings
    assert (setting.setting, setting.default) == ("LOGIN_REQUIRED", "True")
    assert setting.states == {"True": "authenticated", "False": "public"}
    assert {e.path for e in auth.evidence} == {"app/views.py", "app/settings.py"}
