"""A plain write route (public, POST, no flow, no dangerous call, no table) is quoted by its
head, the statements that touch request data and its answers; the rest of its handler is not
quoted, and the plan says so (issue 19). Fixtures are written here; facts built by hand.
"""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route, write

from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_focus import touched_lines
from threatmodel.models import AuthStatus, Facts, Location, Route, RouteAuth, Secret
from threatmodel.summarize import summarize

QUIET = "".join(f"    note{i} = 'constant {i}'\n" for i in range(8))
WEB = {
    "web.py": (
        "from flask import Flask, request\n\napp = Flask(__name__)\n\n\n"  # 1-5
        '@app.post("/remember")\n'  # 6
        "def remember():\n"  # 7
        '    name = request.form["name"]\n'  # 8
        + QUIET  # 9-16
        + "    store.put(name)\n"  # 17
        + "    greeting = 'hello'\n"  # 18
        + "    return greeting\n"  # 19
    ),
}


def post(status: AuthStatus = AuthStatus.PUBLIC) -> Route:
    r = route("/remember", "web.remember", "web.py", 7, status, "flask")
    return r.model_copy(update={"id": "POST /remember", "method": "POST"})


def component(tmp_path: Path, r: Route, left_out: list[str] | None = None) -> str:
    files = write(tmp_path, WEB)
    chunks = summarize(
        Facts(routes=[r]), RepoReader(tmp_path), 6000, files=files, left_out=left_out
    )
    return "\n".join(c.data for c in chunks if c.kind == "component")


def test_plain_write_quotes_the_lines_touching_request_data(tmp_path: Path) -> None:
    left_out: list[str] = []
    data = component(tmp_path, post(), left_out)
    assert "--- handler, only the lines touching request data: web.py lines 6-19" in data
    for line in (
        '6|@app.post("/remember")',
        "7|def remember():",
        '8|    name = request.form["name"]',
        "17|    store.put(name)",
        "19|    return greeting",  # what the route answers
    ):
        assert line in data
    assert "note3" not in data and "greeting = 'hello'" not in data
    assert any(t.startswith("the handler lines of 1 route that do not touch") for t in left_out)


def test_a_logged_in_write_route_is_quoted_whole(tmp_path: Path) -> None:
    r = post().model_copy(update={"auth": RouteAuth(status=AuthStatus.AUTHENTICATED)})
    left_out: list[str] = []
    data = component(tmp_path, r, left_out)
    assert "only the lines touching request data" not in data
    assert "18|    greeting = 'hello'" in data  # folded windows keep the line before a return
    assert not any("do not touch" in t for t in left_out)


def test_a_hardcoded_secret_keeps_the_handler_quoted(tmp_path: Path) -> None:
    write(tmp_path, WEB)
    at12 = Location(path="web.py", line=12)
    secret = Secret(kind="password", name="note3", location=at12, fingerprint="0" * 16)
    files = sorted(WEB)
    facts = Facts(routes=[post()], secrets=[secret])
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert "only the lines touching request data" not in data


def test_route_line_leaves_its_place_to_the_excerpt_below(tmp_path: Path) -> None:
    """The excerpt that follows holds the route's line: the route line does not repeat its
    handler and place. A second route on the same handler, whose excerpt the chunk already
    shows, keeps them (nothing below says where it is). A second path on the same handler
    with the same facts is the same section (chunk_join.py)."""
    again = post().model_copy(update={"id": "POST /remember2", "path": "/remember2"})
    logged_in = post().model_copy(update={"auth": RouteAuth(status=AuthStatus.AUTHENTICATED)})
    other = logged_in.model_copy(update={"id": "POST /remember3", "path": "/remember3"})
    files = write(tmp_path, WEB)
    chunks = summarize(
        Facts(routes=[post(), again, other]), RepoReader(tmp_path), 6000, files=files
    )
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    lines = [t for t in data.splitlines() if t.startswith("route ")]
    assert sorted(lines) == [
        "route POST /remember3  handler web.remember at web.py:7 (flask)",
        "route POST /remember; POST /remember2 (flask)",
    ]
    first = data.index("route POST /remember; POST /remember2 (flask)\n")
    assert data.index("--- handler, only the lines touching", first) > first


def test_touched_lines_keep_the_checks_that_refuse_a_caller() -> None:
    lines = [
        "def remember():",  # 1
        "    uid = session.get('uid')",  # 2
        "    if not uid:",  # 3
        "        abort(403)",  # 4
        "    note = 'constant'",  # 5
        "    name = request.form['name']",  # 6
        "    audit = 'x'",  # 7
        "    if name == 'admin':",  # 8
        "        raise Forbidden()",  # 9
        "    else:",  # 10
        "        return 'ok'",  # 11
    ]
    assert touched_lines(lines, 1, ()) == {1, 3, 4, 6, 8, 9, 10, 11}
    # not a function (a route table's entry, a resource's options): read whole
    table = ["    path('logout/', LogoutView.as_view(), name='logout'),", "    path('x/', x),", "]"]
    assert touched_lines(table, 28, ()) == {28, 29, 30}
