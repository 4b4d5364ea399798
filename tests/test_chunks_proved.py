"""Routes the dataflow engine proved (issue 19): a route whose flows each either prove their
claim (request data, unbroken, nothing unresolved: TM120 reports it without the LLM) or are
broken is quoted by its flows' points and its request reads, not its handler; a route whose
code still holds logic the engine does not judge, or an open flow it cannot prove, keeps its
code. Fixtures are written here; facts are built by hand so these tests check summarize.py.
"""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route, write

from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_focus import request_reads
from threatmodel.models import AuthStatus, Facts, Flow, Location
from threatmodel.summarize import summarize

APP = {
    "app.py": (
        "from flask import Flask, request\n"  # 1
        "import sqlite3\n"  # 2
        "\n"  # 3
        "app = Flask(__name__)\n"  # 4
        "\n"  # 5
        '@app.post("/find")\n'  # 6
        "def find():\n"  # 7
        '    name = request.form["name"]\n'  # 8
        '    note = request.form.get("note", "")\n'  # 9
        "    if len(note) > 200:\n"  # 10
        '        return "too long"\n'  # 11
        "    padded = name.strip()\n"  # 12
        "    total = 0\n"  # 13
        "    for i in range(3):\n"  # 14
        "        total += i\n"  # 15
        '    query = "SELECT * FROM users WHERE name = \'" + padded + "\'"\n'  # 16
        "    rows = sqlite3.connect('db').execute(query)\n"  # 17
        "    return str(rows.fetchall())\n"  # 18
        "\n"  # 19
        '@app.post("/owner")\n'  # 20
        "def owner():\n"  # 21
        '    name = request.form["name"]\n'  # 22
        '    if Users.owns(request.form["uid"], name):\n'  # 23
        '        query = "SELECT * FROM users WHERE name = \'" + name + "\'"\n'  # 24
        "        return str(sqlite3.connect('db').execute(query).fetchall())\n"  # 25
        '    return "no"\n'  # 26
    ),
}


def at(line: int) -> Location:
    return Location(path="app.py", line=line)


def sqli(src: int, steps: list[int], sink: int, unresolved: list[str] | None = None) -> Flow:
    return Flow(
        claim="sql_injection",
        source_kind="request",
        source="request.form",
        source_location=at(src),
        sink="execute",
        sink_location=at(sink),
        steps=[at(n) for n in steps],
        unresolved=unresolved or [],
    )


def facts(*flows: Flow) -> Facts:
    return Facts(
        routes=[
            route("/find", "app.find", "app.py", 6, AuthStatus.PUBLIC, "flask"),
            route("/owner", "app.owner", "app.py", 20, AuthStatus.PUBLIC, "flask"),
        ],
        flows=list(flows),
    )


def component(tmp_path: Path, f: Facts, left_out: list[str] | None = None) -> str:
    files = write(tmp_path, APP)
    chunks = summarize(f, RepoReader(tmp_path), 6000, files=files, left_out=left_out)
    return "\n".join(c.data for c in chunks if c.kind == "component")


def test_a_proved_route_is_quoted_by_its_points(tmp_path: Path) -> None:
    left_out: list[str] = []
    data = component(tmp_path, facts(sqli(8, [8, 12, 16], 17)), left_out)
    assert "the dataflow engine proved the unbroken flows above" in data
    assert "--- flow points: app.py lines 8-17" in data
    # source, each step and the sink, and the other request read (a value only compared)
    for line in (
        '8|name = request.form["name"]',
        '9|note = request.form.get("note", "")',
        "12|padded = name.strip()",
        "17|rows = sqlite3.connect('db').execute(query)",
    ):
        assert line in data
    # the handler's other lines are not quoted
    assert "15|" not in data and "--- handler" not in data
    assert any("the code of 1 route " in t and "proved a flow" in t for t in left_out)


def test_logic_the_engine_does_not_judge_keeps_the_code(tmp_path: Path) -> None:
    """/owner hands request data to an ownership test no flow passes through: the model
    must read it, whatever the engine proved."""
    data = component(tmp_path, facts(sqli(22, [22, 24], 25)))
    assert "--- handler" in data
    assert '23|    if Users.owns(request.form["uid"], name):' in data
    assert "proved the unbroken flows" not in data


def test_an_unresolved_flow_is_not_proof(tmp_path: Path) -> None:
    """A flow resting on a call the engine could not resolve is for review: the code stays."""
    data = component(tmp_path, facts(sqli(8, [8, 12, 16], 17, unresolved=["helpers.pad"])))
    assert "proved the unbroken flows" not in data
    assert "--- handler" in data
    assert "15|        total += i" in data


def test_request_reads_are_reads_and_kept_wrappers() -> None:
    lines = [
        "def view(request):",
        "    wrapped = request_wrapper(request)",
        "    name = wrapped.get('name')",
        "    if request.COOKIES.get('id') == x:",
        "        return render(request, 'a.html')",
        "    log('request.form')",
    ]
    # a read, and what a call made of the request kept; not a string naming it, not the
    # request handed to the framework's render
    assert request_reads(lines, 10) == {11, 13}
