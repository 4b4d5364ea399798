"""A route handler that refuses with an error object of the app's own making, and sign-up
through the sign-in function an auth library's factory hands back
(``tests/fixtures/js/next-app-error``).

``if (!session?.user) return new NotesError("unauthorized").toResponse()``: the branch a
signed-out caller takes ends the handler with an answer that says no (an error object, a
refusal's words, a 404), so the delete after it runs for signed-in callers only. A branch
serving signed-out visitors something else (a public feed) is no refusal; a branch that a
signed-in caller takes (``if (session?.user) return ...``) guards nothing, and neither does
one that hands the request on (``return next()``). A server action that creates a user and
calls next-auth's ``signIn`` (from ``export const { signIn } = NextAuth(...)``) is a sign-up,
public by design; another action of the same file that writes is reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from js_support import by_route, collect

from tests.test_precision import by_rule, scan
from threatmodel.code.treesitter import parse_js
from threatmodel.frameworks._js.reject import leaving, refusing
from threatmodel.frameworks.nextjs.routes import NextJsCollector

if TYPE_CHECKING:
    from tree_sitter import Node

FIXTURE = Path(__file__).parent / "fixtures" / "js" / "next-app-error"


def test_the_signed_out_branch_ending_the_handler_guards_what_follows() -> None:
    routes = by_route(collect(FIXTURE, NextJsCollector()))
    notes = routes[("DELETE", "/api/notes")].auth
    assert notes.status.value == "authenticated"
    assert notes.evidence[0].snippet == 'return new NotesError("unauthorized").toResponse();'
    # the early return is taken by signed-in callers: the write is anonymous
    assert routes[("POST", "/api/pinned")].auth.status.value == "public"


@pytest.mark.parametrize(
    ("branch", "ends"),
    [
        ("{ return new NotesError('x').toResponse(); }", True),
        ("return;", True),
        ("{ throw new Error('no'); }", True),
        ("{ return next(); }", False),
        ("{ return await NextResponse.next(); }", False),
        ("{ log('anonymous'); }", False),
    ],
)
def test_leaving_names_the_statement_that_ends_a_branch(branch: str, ends: bool) -> None:
    assert (leaving(_then(branch)) is not None) is ends


@pytest.mark.parametrize(
    ("branch", "refuses"),
    [
        ("{ return new NotesError('x').toResponse(); }", True),
        ("{ return res.status(404).json({ response: 'Token invalid.' }); }", True),
        ("{ return Response.json({ error: 'Not signed in' }); }", True),
        ("{ throw new Error('no'); }", True),
        ("{ return Response.json(await db.post.findMany({ where: { open: true } })); }", False),
        ("{ return res.status(400).json({ response: 'Bad id.' }); }", False),
        ("{ return next(); }", False),
    ],
)
def test_refusing_tells_a_refusal_from_serving_signed_out_visitors(
    branch: str, refuses: bool
) -> None:
    assert (refusing(_then(branch)) is not None) is refuses


def _then(branch: str) -> Node:
    """The consequence of ``if (!user) <branch>`` in a parsed function."""
    root = parse_js(f"function h() {{ if (!user) {branch} work(); }}", "typescript").root_node
    body = root.named_children[0].child_by_field_name("body")
    assert body is not None
    then = body.named_children[0].child_by_field_name("consequence")
    assert then is not None
    return then


def test_sign_up_through_the_factorys_sign_in_is_public_by_design(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    report = scan(root, {})
    flagged = {f.claims[0].route.path for f in by_rule(report, "TM101") if f.claims[0].route}
    assert "action:app/notes/actions.ts#archive" in flagged
    assert "/api/pinned" in flagged
    assert not {"action:app/notes/actions.ts#join", "/api/notes"} & flagged
