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
from threatmodel.excerpt_focus import passes_on, request_reads, request_uses
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
        "    padded = pad(name)\n"  # 12
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
    assert "proved flow points" in data
    # the route's line is among the points: the route line need not say its handler (the
    # framework is said once for both routes: /owner hands request data to a lookup)
    assert "route GET /find\n" in data and "  framework: flask\n" in data
    assert "route GET /owner" in data
    assert "--- proved flow points: app.py lines 6-17" in data
    # source, each step and the sink, and the other request read (a value only compared)
    for line in (
        '6|@app.post("/find")',
        '8|name = request.form["name"]',
        '9|note = request.form.get("note", "")',
        "12|padded = pad(name)",
        "17|rows = sqlite3.connect('db').execute(query)",
    ):
        assert line in data
    # the handler's other lines are not quoted (the handler shown is /owner's)
    assert "15|" not in data and "--- handler: app.py lines 6-" not in data
    assert "--- handler: app.py lines 20-26" in data
    assert any("the code of 1 route " in t and "proved a flow" in t for t in left_out)


def test_logic_the_engine_does_not_judge_keeps_the_code(tmp_path: Path) -> None:
    """/owner hands request data to an ownership test no flow passes through: the model
    must read it, whatever the engine proved."""
    data = component(tmp_path, facts(sqli(22, [22, 24], 25)))
    assert "--- handler" in data
    assert '23|    if Users.owns(request.form["uid"], name):' in data
    assert "proved flow points" not in data


def test_an_unresolved_flow_is_not_proof(tmp_path: Path) -> None:
    """A flow resting on a call the engine could not resolve is for review: the code stays."""
    data = component(tmp_path, facts(sqli(8, [8, 12, 16], 17, unresolved=["helpers.pad"])))
    assert "proved flow points" not in data
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


WRAPPED = {
    "web.py": (
        "from flask import Flask, request\n"  # 1
        "import wrap\n"  # 2
        "\n"  # 3
        "app = Flask(__name__)\n"  # 4
        "\n"  # 5
        '@app.get("/page")\n'  # 6
        "def page_get():\n"  # 7
        "    return page_post()\n"  # 8
        "\n"  # 9
        '@app.post("/page")\n'  # 10
        "def page_post():\n"  # 11
        "    w = wrap.request_wrapper(request)\n"  # 12
        '    name = w.get("name")\n'  # 13
        "    total = 0\n"  # 14
        "    for i in range(3):\n"  # 15
        "        total += i\n"  # 16
        '    return "<p>" + name + "</p>"\n'  # 17
    ),
    "wrap.py": (
        "class request_wrapper:\n"  # 1
        "    def __init__(self, request):\n"  # 2
        "        self.request = request\n"  # 3
        "\n"  # 4
        "    def get(self, k):\n"  # 5
        "        return self.request.form.get(k)\n"  # 6
    ),
}


def xss(sink: int, *steps: int) -> Flow:
    return Flow(
        claim="xss",
        source_kind="request",
        source="request",
        source_location=Location(path="wrap.py", line=3),
        sink="return",
        sink_location=Location(path="web.py", line=sink),
        steps=[Location(path="wrap.py", line=3), *(Location(path="web.py", line=n) for n in steps)],
    )


def test_a_flow_from_a_request_wrapper_is_the_handlers_and_a_pass_through_is_one_line(
    tmp_path: Path,
) -> None:
    """The flows start in a wrapper the handler calls (no route's code): they are the POST
    handler's, proved, not "outside any known route"; the GET handler that only returns the
    POST handler's response is one point line, not an excerpt; the wrapper, a function the
    flow passes through outside the handler, is quoted focused."""
    files = write(tmp_path, WRAPPED)
    get = route("/page", "web.page_get", "web.py", 6, AuthStatus.PUBLIC, "flask")
    post = get.model_copy(update={"id": "POST /page", "method": "POST", "handler": "web.page_post"})
    post = post.model_copy(update={"location": Location(path="web.py", line=10)})
    f = Facts(routes=[get, post], flows=[xss(17, 12, 13, 17), xss(8, 12, 13, 17, 8)])
    chunks = summarize(f, RepoReader(tmp_path), 6000, files=files, left_out=[])
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert "flow outside any known route" not in data
    assert "route POST /page (flask)" in data
    assert "proved flow points" in data
    assert "--- proved flow points: web.py lines 8-17" in data
    for line in (
        "8|return page_post()",
        '10|@app.post("/page")',
        "12|w = wrap.request_wrapper(request)",
        '17|return "<p>" + name + "</p>"',
    ):
        assert line in data
    assert "--- flow xss: wrap.py lines 2-3" in data
    assert "7|def page_get():" not in data and "16|" not in data


def test_passes_on_is_a_lone_return_of_a_call() -> None:

    assert passes_on(["def get():", "    return post()"])
    assert passes_on(["function get(req, res) {", "  return post(req, res);", "}"])
    assert not passes_on(["def get():", "    x = 1", "    return post(x)"])
    assert not passes_on(["def get():", "    return VALUE"])


def test_a_call_whose_result_the_flow_reads_on_is_on_the_flow(tmp_path: Path) -> None:
    """/find hands ``name`` to ``pad(name)`` on line 12; with no step named there, the
    flow still reads what it made (``padded``) on line 16: the engine carried the value
    through the call, the route is proved. A call whose result nothing on the flow reads
    is logic to judge: the code stays."""
    proved = component(tmp_path, facts(sqli(8, [8, 16], 17)))
    assert "proved flow points" in proved
    assert "12|padded = pad(name)" not in proved  # not a point, not a request read
    app = dict(APP)
    app["app.py"] = app["app.py"].replace("    padded = pad(name)\n", "    audit(name)\n")
    app["app.py"] = app["app.py"].replace("+ padded +", "+ name +")
    write(tmp_path, app)
    chunks = summarize(facts(sqli(8, [8, 16], 17)), RepoReader(tmp_path), 6000, files=sorted(app))
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert "proved flow points" not in data
    assert "12|    audit(name)" in data


def test_printing_a_comment_and_a_keyword_are_no_hand_off() -> None:
    lines = [
        "def view(request):",
        "    name = request.POST.get('name')",
        "    print(name)",
        "    # lookup(name)",
        "    if(request.method == 'POST'):",
        "        lookup(name)",
    ]
    assert request_uses(lines, 1) == {6}


def test_a_broken_flow_beside_a_proved_one_is_its_sink_line(tmp_path: Path) -> None:
    broken = Flow(
        claim="xss",
        source_kind="request",
        source="request.form",
        source_location=at(9),
        sink="return",
        sink_location=at(11),
        steps=[at(9), at(10), at(11)],
        broken_by="escape",
    )
    data = component(tmp_path, facts(sqli(8, [8, 12, 16], 17), broken))
    assert "proved flow points" in data
    assert '11|return "too long"' in data  # the broken flow's sink
    assert "10|if len(note) > 200:" not in data  # a step of the broken flow only


def test_methods_with_the_same_facts_share_one_section(tmp_path: Path) -> None:
    """A view declared for GET and POST with the same facts is one section; a method whose
    auth differs keeps its own."""
    files = write(tmp_path, APP)
    get = route("/owner", "app.owner", "app.py", 20, AuthStatus.PUBLIC, "flask")
    post = get.model_copy(update={"id": "POST /owner", "method": "POST"})
    put = get.model_copy(update={"id": "PUT /owner", "method": "PUT"})
    put = put.model_copy(
        update={"auth": put.auth.model_copy(update={"status": AuthStatus.AUTHENTICATED})}
    )
    f = Facts(routes=[get, post, put], flows=[sqli(22, [22, 24], 25)])
    chunks = summarize(f, RepoReader(tmp_path), 6000, files=files)
    (comp,) = [c for c in chunks if c.kind == "component"]
    heads = [t for t in comp.data.splitlines() if t.startswith("route ")]
    assert len(heads) == 2
    assert any(t.startswith("route GET, POST /owner") for t in heads)
    assert any(t.startswith("route PUT /owner") for t in heads)
    assert set(comp.routes) == {"GET /owner", "POST /owner", "PUT /owner"}


def test_a_short_statement_over_several_lines_is_quoted_whole(tmp_path: Path) -> None:
    app = dict(APP)
    # lines 9-11 stay lines 9-11: the read now runs over two
    app["app.py"] = app["app.py"].replace(
        '    note = request.form.get("note", "")\n    if len(note) > 200:\n        return',
        '    note = request.form.get(\n        "note")\n    if len(note) > 200: return',
    )
    write(tmp_path, app)
    chunks = summarize(
        facts(sqli(8, [8, 12, 16], 17)), RepoReader(tmp_path), 6000, files=["app.py"]
    )
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert '9|note = request.form.get(\n10|"note")' in data
