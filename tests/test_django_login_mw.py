"""A global login-required middleware guards every Django route its exemptions do not name."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.frameworks.django.login_mw import LoginGate, pattern_list
from threatmodel.models import AuthStatus, RouteAuth


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("django_loginmw")


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # MIDDLEWARE = BASE_MIDDLEWARE (a list named once) installs the project's middleware
        ("ANY /notes/add", "authenticated", "global middleware LoginRequiredMiddleware"),
        # the settings list its module reads, f"^{URL_PREFIX}hooks/" read with no prefix
        (
            "ANY /hooks/incoming",
            "public",
            "exempt from global middleware LoginRequiredMiddleware (^hooks/)",
        ),
        # a route parameter matches the exemption's own parameter pattern
        (
            "ANY /files/{name}",
            "public",
            "exempt from global middleware LoginRequiredMiddleware (^files/(?P<name>[^/]+)$)",
        ),
    ],
)
def test_routes_under_the_middleware(facts, route: str, status: str, mechanism: str) -> None:  # type: ignore[no-untyped-def]
    auth = routes_by_id(facts)[route].auth
    assert (auth.status.value, auth.mechanism) == (status, mechanism)
    assert auth.evidence[0].path == "proj/settings.py"


def test_the_aliased_middleware_list_is_collected(facts) -> None:  # type: ignore[no-untyped-def]
    kinds = {m.kind for m in facts.middleware}
    assert {"auth", "csrf", "session"} <= kinds


class _Resolver:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def module_file(self, module: str) -> str | None:
        return self.files.get(module)


def _settings(middleware: str, patterns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"s.py": {"middleware": [[middleware, 3]], "patterns": patterns or {}, "strs": {}}}


PUBLIC = RouteAuth(status=AuthStatus.PUBLIC)


def test_djangos_own_middleware_exempts_only_marked_views() -> None:
    gate = LoginGate(_settings("django.contrib.auth.middleware.LoginRequiredMiddleware"), {}, None)
    assert gate.apply("/notes", PUBLIC).status is AuthStatus.AUTHENTICATED
    marked = RouteAuth(status=AuthStatus.PUBLIC, mechanism="@login_not_required")
    assert gate.apply("/notes", marked) is marked


def test_exemptions_not_read_leave_the_route_undecided() -> None:
    # a third-party middleware: its code (and so the list it reads) is not in the repository
    gate = LoginGate(_settings("stronghold.middleware.LoginRequiredMiddleware"), {}, _Resolver({}))
    assert gate.apply("/notes", PUBLIC).status is AuthStatus.UNKNOWN
    # the project's own, reading a list that is there
    extracts = {"app/mw.py": {"django": {"settings_read": ["OPEN_URLS"]}}}
    own = _settings("app.mw.LoginRequiredMiddleware", {"OPEN_URLS": ["^api/"]})
    gate = LoginGate(own, extracts, _Resolver({"app.mw": "app/mw.py"}))
    assert gate.apply("/api/x", PUBLIC).status is AuthStatus.PUBLIC
    assert gate.apply("/notes", PUBLIC).status is AuthStatus.AUTHENTICATED
    # its login page is let through whatever LOGIN_URL the deployment sets
    assert gate.apply("/login", PUBLIC).status is AuthStatus.PUBLIC
    assert gate.apply("/accounts/sign-in/", PUBLIC).status is AuthStatus.PUBLIC
    assert gate.apply("/logins/export", PUBLIC).status is AuthStatus.AUTHENTICATED
    # a pattern that does not compile: nothing can be decided
    bad = _settings("app.mw.LoginRequiredMiddleware", {"OPEN_URLS": ["(api"]})
    gate = LoginGate(bad, extracts, _Resolver({"app.mw": "app/mw.py"}))
    assert gate.apply("/notes", PUBLIC).status is AuthStatus.UNKNOWN
    # no such middleware: nothing changes
    assert LoginGate(_settings("x.SessionMiddleware"), {}, None).apply("/n", PUBLIC) is PUBLIC


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('["a", "b"]', ["a", "b"]),
        ('(rf"^{PREFIX}static/", r"x")', ["^app/static/", "x"]),
        ('[rf"^{UNSET}static/"]', ["^static/"]),  # the deployment's prefix: read as none
        ('[f"{PREFIX.lower()}x"]', None),
        ('["a", compute()]', None),
    ],
)
def test_pattern_lists(expr: str, want: list[str] | None) -> None:
    node = ast.parse(expr, mode="eval").body
    assert pattern_list(node, {"PREFIX": "app/"}) == want
