"""Guards chosen by a setting (frameworks/_python/configured.py): each value's state named.

The fixture's visibility decorators read an option stored outside the code and dispatch on
it: public, members only, or admins only (hidden by a 404). One names its default.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyweb_facts import PYTHON_FIXTURES, facts_of, routes_by_id

from threatmodel.config import Settings
from threatmodel.models import Route, Verdict
from threatmodel.scan import ScanOptions, run_scan


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


def test_a_switch_on_configuration_is_no_identity_check_whatever_its_name() -> None:
    """``if not ENABLE_PASSWORD_AUTH: raise 403`` turns every caller away or none: the
    names in it say "auth", but nothing in it is about the caller."""
    routes = routes_by_id(facts_of("fastapi_switches"))
    assert routes["POST /auths/directory"].auth.status == "public"
    assert routes["POST /notes"].auth.status == "public"
    assert routes["POST /me/notes"].auth.status == "authenticated"


def test_a_public_route_that_signs_the_caller_in_is_no_unauthenticated_write(
    tmp_path: Path,
) -> None:
    """TM101: the sign-in route writes (a login attempt) and issues a session token a call
    away (``session_response`` -> ``create_session_token``): public by design. The notes
    route behind a mere switch writes for anyone."""
    shutil.copytree(PYTHON_FIXTURES / "fastapi_switches", tmp_path / "app")
    report = run_scan(
        tmp_path / "app",
        Settings(provider=None, cache_dir=tmp_path / "cache"),
        ScanOptions(use_cache=False, jobs=1),
    )
    writes = {
        f.claims[0].route.path: f.verdict
        for f in report.findings
        if f.rule_id == "TM101" and f.claims and f.claims[0].route
    }
    assert writes == {"/notes": Verdict.CONFIRMED}


def test_a_set_up_wizard_that_signs_its_admin_in_stays_for_review(tmp_path: Path) -> None:
    """A first-run route that creates the admin and signs them in is still reported (by
    design, open until setup is done), not dropped as a sign-in endpoint."""
    shutil.copytree(PYTHON_FIXTURES / "fastapi_switches", tmp_path / "app")
    main = tmp_path / "app" / "main.py"
    main.write_text(
        main.read_text()
        + """

def is_setup() -> bool:
    return session.query(Attempt).count() > 0


@app.post("/setup")
async def setup(form: Credentials):
    if not is_setup():
        session.add(Attempt(user=form.user))
        session.commit()
        return session_response(form.user)
    raise HTTPException(status_code=403)
"""
    )
    report = run_scan(
        tmp_path / "app",
        Settings(provider=None, cache_dir=tmp_path / "cache"),
        ScanOptions(use_cache=False, jobs=1),
    )
    found = [
        f
        for f in [*report.findings, *report.suppressed]
        if f.rule_id == "TM101" and f.claims and f.claims[0].route
    ]
    assert {f.claims[0].route.path for f in found if f.claims[0].route} == {"/notes", "/setup"}
