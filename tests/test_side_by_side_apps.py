"""Two apps side by side in one repository (``unsafe/`` and ``safe/``), each a folder of
scripts that import their neighbours by bare name (``import notes_store``), as a script's
folder first on ``sys.path`` lets them. Each file's imports are its own folder's: routes get
their own app's blueprint prefix, the dataflow follows a view into its own app's store. A
handler that redirects to the login page when the session holds no user is guarded; one
that tests a session key naming no one is not; sent anywhere else, the guest is turned away
all the same. A handler's writes are followed through ``import module`` into its own app's
module (``collect.effects``).
"""

from __future__ import annotations

import pytest
from pyweb_facts import PYTHON_FIXTURES, facts_of, routes_by_id

from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects import handler_code
from threatmodel.models import Facts


@pytest.fixture(scope="module")
def facts() -> Facts:
    return facts_of("flask_side_by_side")


def test_each_app_routes_under_its_own_blueprint_prefix(facts: Facts) -> None:
    where = {
        k: r.location.path
        for k, r in routes_by_id(facts).items()
        if "static" not in k and r.location
    }
    assert where == {
        "GET /notes/search": "unsafe/notes_views.py",
        "POST /notes/": "unsafe/notes_views.py",
        "POST /notes/basket": "unsafe/notes_views.py",
        "POST /notes/archive": "unsafe/notes_views.py",
        "POST /notes/password": "unsafe/notes_views.py",
        "POST /notes/welcome": "unsafe/notes_views.py",
        "GET /memo/search": "safe/notes_views.py",
        "POST /memo/": "safe/notes_views.py",
        "POST /memo/basket": "safe/notes_views.py",
        "POST /memo/archive": "safe/notes_views.py",
        "POST /memo/password": "safe/notes_views.py",
        "POST /memo/welcome": "safe/notes_views.py",
    }


def test_flow_followed_into_the_importing_apps_own_module(facts: Facts) -> None:
    sql = [
        (f.source_location.path, f.sink_location.path, f.sink_location.line)
        for f in facts.flows
        if f.claim == "sql_injection" and f.source_kind == "request"
    ]
    assert sql == [("unsafe/notes_views.py", "unsafe/notes_store.py", 12)]


@pytest.mark.parametrize(
    ("route", "status"),
    [
        # ``if "username" not in g.session: return redirect("/account/login")``
        ("POST /notes/", "authenticated"),
        ("POST /memo/", "authenticated"),
        # ``if "username" not in g.session: return redirect("/")``: sent away, wherever to
        ("POST /notes/archive", "authenticated"),
        # and in a handler that calls ``login`` (to check the current password)
        ("POST /notes/password", "authenticated"),
        # ``if "username" in g.session: return redirect("/")``: sends the logged-in away
        ("POST /notes/welcome", "public"),
        # ``if "basket" not in session``: the key names no one who logged in
        ("POST /notes/basket", "public"),
    ],
)
def test_session_identity_test_before_a_login_redirect_guards(
    facts: Facts, route: str, status: str
) -> None:
    assert routes_by_id(facts)[route].auth.status == status


@pytest.mark.parametrize(
    ("route", "store"), [("POST /notes/basket", "unsafe"), ("POST /memo/basket", "safe")]
)
def test_writes_followed_through_a_module_import_into_the_apps_own_module(
    facts: Facts, route: str, store: str
) -> None:
    code = handler_code(
        RepoReader(PYTHON_FIXTURES / "flask_side_by_side"), routes_by_id(facts)[route]
    )
    assert code is not None
    assert [(e.kind, e.location.path, e.location.line) for e in code.writes] == [
        ("db_write", f"{store}/notes_store.py", 6),
        ("db_write", f"{store}/notes_store.py", 7),
    ]
