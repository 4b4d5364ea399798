"""Ownership checks make a Python route restricted (frameworks/_python/owner.py).

The fixture's helpers look a board up by its code and then refuse (404) unless the caller
owns it or is a member; one skips the check for shared boards; one only fetches the
caller's own profile. Views also compare a note's author with the caller inline.
"""

from __future__ import annotations

import ast

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.frameworks._python.owner import lookup_call, owner_compare


@pytest.fixture(scope="module")
def routes():  # type: ignore[no-untyped-def]
    return routes_by_id(facts_of("django_owner"))


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("ANY /boards/{code}/", "restricted"),  # owner or member, else 404
        ("ANY /boards/{code}/edit/", "restricted"),  # through a helper that checks rw
        ("ANY /boards/{code}/shared/", "authenticated"),  # shared boards skip the check
        ("ANY /profile/", "authenticated"),  # the caller's own record only
        ("ANY /notes/{pk}/", "restricted"),  # author != request.user: Http404
        ("ANY /notes/{pk}/inline/", "restricted"),  # get_object_or_404(..., author=user)
        ("ANY /notes/{pk}/any/", "authenticated"),  # a lookup with no caller in it
        ("ANY /notes/{pk}/maybe/", "authenticated"),  # the except serves: no refusal
        # calls on self run the most derived method: the base's superuser check, or an
        # override that checks nothing
        ("GET /settings/team/", "restricted"),
        ("GET /settings/own/", "public"),
    ],
)
def test_ownership_status(routes, route: str, status: str) -> None:  # type: ignore[no-untyped-def]
    assert routes[route].auth.status == status


def test_mechanism_names_the_ownership_helper(routes) -> None:  # type: ignore[no-untyped-def]
    assert routes["ANY /boards/{code}/edit/"].auth.mechanism == (
        "call get_rw_board_for_user() (ownership)"
    )
    assert "ownership" not in (routes["ANY /notes/{pk}/any/"].auth.mechanism or "")


def _call(src: str) -> ast.Call:
    node = ast.parse(src).body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    return node.value


@pytest.mark.parametrize(
    ("src", "owned"),
    [
        ("get_object_or_404(Note, pk=pk, owner=request.user)", True),
        ("Member.objects.filter(user=request.user).get(project=p)", True),
        ("Note.query.filter(Note.owner_id == current_user.id, Note.id == i).first_or_404()", True),
        ("get_object_or_404(Profile, user=request.user)", False),  # nothing chosen by the request
        ("get_object_or_404(Note, pk=pk, kind='x')", False),  # no caller
        ("Note.objects.filter(owner=request.user, pk=pk)", False),  # refuses nothing
    ],
)
def test_lookup_call(src: str, owned: bool) -> None:
    assert lookup_call(_call(src)) is owned


@pytest.mark.parametrize(
    ("src", "owned"),
    [
        ("obj.owner != request.user", True),
        ("request.user.id == obj.project.owner_id", True),
        ("request.user.is_staff", False),
        ("obj.owner != other", False),
    ],
)
def test_owner_compare(src: str, owned: bool) -> None:
    expr = ast.parse(src, mode="eval").body
    assert owner_compare(expr) is owned


def test_skipping_the_walks_when_no_call_is_a_lookup_changes_no_answer() -> None:
    """``Walked.lookups()`` only lets ownership_line skip walks that could find nothing: on
    every function of the Python fixtures the answer is the same as walking them all."""
    from pathlib import Path

    from threatmodel.code.pyast import walk
    from threatmodel.frameworks._python.calls import top_level
    from threatmodel.frameworks._python.owner import ownership_line
    from threatmodel.frameworks._python.walked import Walked

    checked = found = 0
    for path in sorted((Path(__file__).parent / "fixtures" / "python").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for fn in walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            w = Walked(fn)
            top = top_level(fn.body)
            line = ownership_line(top, w.assigns, fn.body)
            assert ownership_line(top, w.assigns, fn.body, w.lookups()) == line, path
            checked += 1
            found += bool(line)
    assert checked > 100 and found > 0  # the fixtures hold functions of both kinds
