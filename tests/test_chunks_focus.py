"""A route's long handler is quoted focused (issue 19): the lines that read request data, the
flow points and dangerous calls, the guard checks on request values; quiet runs folded to one
marker line that says where they are. Flow lines are one per source and sink callee; small
risky components share a request.

Fixtures are written here; facts are built by hand so these tests check summarize.py.
"""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route, write

from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_focus import fold, live_lines
from threatmodel.flow_code import flow_lines
from threatmodel.models import AuthStatus, Facts, Flow, Location, Sink
from threatmodel.summarize import summarize

VIEW = (
    "from flask import Flask, request\n"  # 1
    "import subprocess\n"  # 2
    "app = Flask(__name__)\n"  # 3
    "\n"  # 4
    "@app.get('/run')\n"  # 5
    "def run():\n"  # 6
    "    name = request.args['name']\n"  # 7
    "    banner = 'welcome'\n"  # 8
    "    colours = ['red', 'green']\n"  # 9
    "    total = 0\n"  # 10
    "    for c in colours:\n"  # 11
    "        total += len(c)\n"  # 12
    "    stamp = str(total)\n"  # 13
    "    footer = banner + stamp\n"  # 14
    "    if name.startswith('-'):\n"  # 15
    "        return 'no'\n"  # 16
    "    parts = []\n"  # 17
    "    parts.append(name)\n"  # 18
    "    cmd = 'echo ' + ' '.join(parts)\n"  # 19
    "    out = subprocess.check_output(cmd, shell=True)\n"  # 20
    "    return out + footer.encode()\n"  # 21
)
FLOW = Flow(
    claim="command_injection",
    source_kind="request",
    source="request.args",
    source_location=Location(path="web.py", line=7),
    sink="subprocess.check_output",
    sink_location=Location(path="web.py", line=20),
    steps=[Location(path="web.py", line=n) for n in (7, 18, 19, 20)],
)


def test_request_values_are_followed_through_the_excerpt() -> None:
    lines = VIEW.splitlines()[4:]  # the handler, from its decorator (line 5)
    live = live_lines(lines, 5, anchors=set())
    # head, the read, the check on it, the list it is appended to, the command built from it
    assert {5, 6, 7, 15, 17, 18, 19, 20} <= live
    assert not {8, 9, 10, 11, 12, 13} & live  # no request data, no sink
    # a fact's line is kept even when no request name is on it
    assert 10 in live_lines(lines, 5, anchors={10})


def test_quiet_runs_fold_to_a_marker_and_short_runs_stay() -> None:
    numbered = [(n, f"code {n}") for n in range(1, 11)]
    out = fold(numbered, live={1, 10})
    marker = "3-8| … 6 lines without request data or sinks"
    assert out == ["1|code 1", "2|code 2", marker, "9|code 9", "10|code 10"]
    assert fold(numbered, live={1, 5, 9}) == [f"{n}|code {n}" for n in range(1, 11)]


def test_a_long_handler_is_quoted_focused_in_its_route_chunk(tmp_path: Path) -> None:
    files = write(tmp_path, {"web.py": VIEW})
    sink = Sink(
        kind="command",
        call="subprocess.check_output",
        dynamic=True,
        location=Location(path="web.py", line=20),
    )
    facts = Facts(
        routes=[route("/run", "web.run", "web.py", 6, AuthStatus.PUBLIC, "flask")],
        # open (a call the engine could not resolve), so the handler is quoted, focused
        flows=[FLOW.model_copy(update={"unresolved": ["web.helper"]})],
        sinks=[sink],
    )
    (comp,) = [
        c
        for c in summarize(facts, RepoReader(tmp_path), 6000, files=files)
        if c.kind == "component"
    ]
    assert "--- handler: web.py lines 5-21" in comp.data
    assert "7|    name = request.args['name']" in comp.data
    assert "20|    out = subprocess.check_output(cmd, shell=True)" in comp.data
    assert "9-13| … 5 lines without request data or sinks" in comp.data
    assert "total += len(c)" not in comp.data


def test_a_short_handler_is_quoted_whole(tmp_path: Path) -> None:
    short = (
        "from flask import request\n\n@app.get('/a')\ndef a():\n    x = 1\n    y = 2\n"
        "    z = 3\n    return request.args['q']\n"
    )
    files = write(tmp_path, {"web.py": short})
    post = route("/a", "web.a", "web.py", 4, AuthStatus.PUBLIC, "flask")
    facts = Facts(routes=[post.model_copy(update={"method": "POST", "id": "POST /a"})])
    data = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000, files=files))
    assert "6|    y = 2" in data and "without request data" not in data


def test_flows_of_one_source_and_sink_are_one_line() -> None:
    again = FLOW.model_copy(update={"sink_location": Location(path="web.py", line=21)})
    safe = FLOW.model_copy(update={"broken_by": "shlex.quote"})
    (line,) = flow_lines([FLOW, again, safe], "web.py")
    assert line == (
        "flow command_injection: request.args line 7 reaches "
        "subprocess.check_output lines 20, 21 "
        "(unbroken on one path; broken by shlex.quote on another)"
    )
    other = FLOW.model_copy(update={"sink": "os.system"})
    assert len(flow_lines([FLOW, other], "web.py")) == 2


def test_small_risky_components_share_a_request(tmp_path: Path) -> None:
    app = {
        f"m{i}.py": f"from flask import request\n\n@app.get('/m{i}')\ndef m{i}():\n"
        f"    return eval(request.args['q'])\n"
        for i in range(3)
    }
    files = write(tmp_path, app)
    sinks = [
        Sink(kind="eval", call="eval", location=Location(path=f"m{i}.py", line=5), dynamic=True)
        for i in range(3)
    ]
    routes = [
        route(f"/m{i}", f"m{i}.m{i}", f"m{i}.py", 4, AuthStatus.PUBLIC, "flask") for i in range(3)
    ]
    chunks = summarize(Facts(routes=routes, sinks=sinks), RepoReader(tmp_path), 6000, files=files)
    (comp,) = [c for c in chunks if c.kind == "component"]
    assert set(comp.routes) == {"GET /m0", "GET /m1", "GET /m2"}


def test_a_flow_line_names_the_source_kind_only_when_its_name_does_not() -> None:
    at = Location(path="a.js", line=3)
    js = FLOW.model_copy(update={"source": "req.body", "source_location": at})
    assert flow_lines([js], "web.py") == [
        "flow command_injection: request value req.body at a.js:3 reaches "
        "subprocess.check_output line 20 (unbroken)"
    ]


def test_a_flow_line_names_each_sink_file_once() -> None:
    far = [Location(path="views.py", line=n) for n in (25, 73)]
    flows = [FLOW.model_copy(update={"sink_location": at}) for at in far]
    (line,) = flow_lines(flows, "web.py")
    assert line == (
        "flow command_injection: request.args line 7 reaches "
        "subprocess.check_output at views.py:25, 73 (unbroken)"
    )
