"""Tokens spent on what is risky first (issue 19): code the dataflow engine decided is named,
not quoted; small setup sections share a request; the overview does not repeat what the
component requests hold; and the plan says what was left out and why.

Fixtures are written here; facts are built by hand so these tests check summarize.py.
"""

from __future__ import annotations

from pathlib import Path

from conftest import overview_of
from test_chunks_program import route, write

from threatmodel.chunk_builder import ChunkBuilder, count_tokens
from threatmodel.chunk_overview import OVERVIEW_HEAD, cross_text, join_overview
from threatmodel.chunk_pack import Chunk
from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.excerpt_focus import request_uses
from threatmodel.models import AuthStatus, EnvVar, Facts, Flow, Location, Sink, Table
from threatmodel.plan import plan_llm_pass, plan_text
from threatmodel.summarize import summarize

WEB = {
    "web.py": (
        "from flask import Flask, request, redirect\nimport db\n\napp = Flask(__name__)\n\n\n"
        '@app.get("/safe")\ndef safe():\n    q = request.args["q"]\n'
        '    return db.conn().execute("SELECT * FROM t WHERE a = ?", (q,))\n\n\n'
        '@app.get("/login")\ndef login():\n    user = request.args["user"]\n'
        '    if Users.find(user, request.args["pw"]):\n        return redirect("/home")\n'
        '    return redirect("/login")\n\n\n'
        '@app.get("/raw")\ndef raw():\n    q = request.args["q"]\n'
        '    return db.conn().execute("SELECT * FROM t WHERE a = " + q)\n'
    ),
}


def at(line: int) -> Location:
    return Location(path="web.py", line=line)


def flow(src: int, sink: int, kind: str = "request", broken: str | None = None) -> Flow:
    claim = "sql_injection" if sink in (10, 24) else "open_redirect"
    call = "execute" if claim == "sql_injection" else "redirect"
    return Flow(
        claim=claim,
        source_kind=kind,
        source="request.args" if kind == "request" else "'/home'",
        source_location=at(src),
        sink=call,
        sink_location=at(sink),
        steps=[at(src), at(sink)],
        broken_by=broken,
    )


def facts() -> Facts:
    return Facts(
        routes=[
            route("/safe", "web.safe", "web.py", 8, AuthStatus.PUBLIC, "flask"),
            route("/login", "web.login", "web.py", 14, AuthStatus.PUBLIC, "flask"),
            route("/raw", "web.raw", "web.py", 22, AuthStatus.PUBLIC, "flask"),
        ],
        sinks=[
            Sink(kind="redirect", call="redirect", dynamic=False, location=at(n)) for n in (17, 18)
        ],
        flows=[
            flow(9, 10, broken="parameterised query"),  # decided: the engine broke it
            flow(17, 17, kind="constant", broken="constant"),
            flow(18, 18, kind="constant", broken="constant"),
            flow(23, 24),  # unbroken: shown whole
        ],
    )


def test_decided_code_is_named_not_quoted(tmp_path: Path) -> None:
    files = write(tmp_path, WEB)
    left_out: list[str] = []
    chunks = summarize(facts(), RepoReader(tmp_path), 6000, files=files, left_out=left_out)
    (comp,) = [c for c in chunks if c.kind == "component"]
    # /safe: the route's line and its sink's line (citable code), not its handler
    assert "9|    q = request.args" not in comp.data
    assert "code not quoted: the dataflow engine decided every value" in comp.data
    assert (
        'sql_injection at line 10 | return db.conn().execute("SELECT * FROM t WHERE a = ?", '
        "(q,)): request value broken by parameterised query" in comp.data
    )
    # /login: its sinks take constants, but it checks request data through a lookup
    assert '16|    if Users.find(user, request.args["pw"]):' in comp.data
    # /raw: an unbroken flow the engine proves, quoted by its points (test_chunks_proved.py)
    assert "proved flow points: web.py lines 22-24" in comp.data
    assert '24|return db.conn().execute("SELECT * FROM t WHERE a = " + q)' in comp.data
    # within a component the riskiest route comes first, the decided one last
    heads = [t for t in comp.data.splitlines() if t.startswith("route ")]
    assert [t.split()[2] for t in heads] == ["/raw", "/login", "/safe"]
    assert left_out and left_out[0].startswith("the code of 1 route ")


def test_a_flow_from_outside_keeps_the_code(tmp_path: Path) -> None:
    """An unbroken flow that starts in a helper (a request wrapper) and reaches the route's
    sink: the route is not decided, whatever its own flows say (an open one: resting on a
    call the engine could not resolve; a proved one is quoted by its points)."""
    files = write(tmp_path, WEB)
    f = facts()
    outside = flow(10, 10).model_copy(
        update={
            "source_location": Location(path="wrap.py", line=3),
            "steps": [at(10)],
            "unresolved": ["wrap.read"],
        }
    )
    f = f.model_copy(update={"flows": [*f.flows, outside]})
    chunks = summarize(f, RepoReader(tmp_path), 6000, files=files, left_out=[])
    comp = "\n".join(c.data for c in chunks if c.kind == "component")
    assert "decided every value" not in comp
    assert '9|    q = request.args["q"]' in comp


def test_request_uses_are_hand_offs_not_reads() -> None:
    lines = [
        "def view(request):",
        "    user = request.POST.get('name')",
        "    if not user:",
        "        return render(request, 'login.html')",
        "    if isinstance(user, str) and request.POST.get('x'):",
        "        pass",
        "    if login.objects.filter(user=user):",
        "        return 1",
        "    open('log.txt', 'w').write(user)",
        "    audit(request.POST['pw'])",
    ]
    assert request_uses(lines, 1) == {7, 9, 10}
    # in a helper the handler calls, a parameter is not request data
    helper = ["def escape(s):", "    for c in s:", "        out.append(ord(c))"]
    assert request_uses(helper, 1, params=False) == set()
    assert request_uses(helper, 1) == {3}


def test_a_request_value_inside_a_multi_line_call_is_handed_on() -> None:
    # The value sits on a line of its own inside the call's object argument: the line
    # holds no call, the statement does.
    lines = [
        "app.get('/page/:name', function (req, res) {",  # 1
        "  res.render('pages/frame', {",
        "    title: titles[req.params.name],",  # 3
        "    body: req.params.name + '/body',",  # 4
        "    count: 3",
        "  }, function (err, html) {",
        "    if (err) { console.log(req.params.name) }",  # printed, not handed on
        "    res.send(html)",
        "  })",
        "})",
    ]
    assert request_uses(lines, 1) == {3, 4}
    python = [
        "def page(request):",
        "    return render(",
        "        request,",  # the request object handed to the framework: no use
        "        'page.html',",
        "        {'q': (request.GET['q'],)},",  # 5: inside a tuple inside a dict
        "    )",
    ]
    assert request_uses(python, 1) == {5}


def test_overview_groups_the_routes_a_component_holds(tmp_path: Path) -> None:
    files = write(tmp_path, WEB)
    b = ChunkBuilder(facts(), RepoReader(tmp_path))
    cross = cross_text(b, None, 6000, {"GET /login", "GET /raw", "GET /safe"}, False)
    assert (
        "routes declared in web.py with auth public (shown in a component request): "
        "GET /login :14, GET /raw :22, GET /safe :8" in cross
    )
    assert "route GET /raw: auth public; handler" not in cross
    # Ending the request that holds those routes, the overview does not list them again:
    # that request says each one with its auth and code.
    chunks = summarize(facts(), RepoReader(tmp_path), 6000, files=files)
    assert chunks[-1].overview and "GET /raw" not in overview_of(chunks)
    assert "route GET /raw" in chunks[-1].data


def test_overview_lists_a_route_registered_twice_at_one_line_once(tmp_path: Path) -> None:
    """One blueprint mounted by two entry points: ids ``GET /a`` and ``GET /a #2``, one
    declaration. Copied into a second folder, the same entry is listed under each file."""
    files = write(tmp_path, {"one/pages.py": "def page():\n", "two/pages.py": "def page():\n"})
    routes = [
        route("/a", "one.pages.page", "one/pages.py", 1, AuthStatus.PUBLIC, "flask"),
        route("/a", "one.pages.page", "one/pages.py", 1, AuthStatus.PUBLIC, "flask"),
        route("/a", "two.pages.page", "two/pages.py", 1, AuthStatus.PUBLIC, "flask"),
    ]
    routes[1] = routes[1].model_copy(update={"id": "GET /a #2"})
    routes[2] = routes[2].model_copy(update={"id": "GET /a #3"})
    b = ChunkBuilder(Facts(routes=routes), RepoReader(tmp_path))
    cross = cross_text(b, None, 6000, set(), False)
    assert cross.count("  GET /a :1 | def page():") == 2 and "#" not in cross
    assert "routes declared in one/pages.py" in cross and "routes declared in two/pages.py" in cross
    del files


def test_plan_says_what_was_left_out(tmp_path: Path) -> None:
    files = write(tmp_path, WEB)
    settings = Settings(provider=None, cache_dir=tmp_path / "c")
    plan = plan_llm_pass(facts(), RepoReader(tmp_path), settings, files)
    assert plan.left_out and "decided every value" in plan.left_out[0]
    assert '"left_out": [' in plan.to_json()
    text = plan_text(plan)
    assert "Not quoted (named in the requests instead):" in text
    assert "the code of 1 route" in text


def test_overview_cut_drops_quiet_routes_before_tables_and_env_vars(tmp_path: Path) -> None:
    """A large app's quiet pages (routes no request holds) are cut from the overview before
    its tables and env vars, which are what the overview's cross-component question is
    about: sorted first and cut from the end, they had left room for none of them."""
    files = write(tmp_path, {"pages.py": "def page():\n    return 'ok'\n"})
    routes = [
        route(f"/page/{i:03}", "pages.page", "pages.py", 1, AuthStatus.PUBLIC, "flask")
        for i in range(300)
    ]
    tables = [
        Table(name=f"orders_{i}", source="django", location=Location(path="pages.py", line=1))
        for i in range(5)
    ]
    env = [EnvVar(name="STRIPE_SECRET_KEY", client_exposed=False)]
    left_out: list[str] = []
    chunks = summarize(
        Facts(routes=routes, tables=tables, env_vars=env),
        RepoReader(tmp_path),
        1500,
        files=files,
        left_out=left_out,
    )
    cross = overview_of(chunks)
    for i in range(5):  # said by the request the overview ends (its database section)
        assert f"table orders_{i}" in chunks[-1].data
    assert "env var STRIPE_SECRET_KEY" in cross
    kept = cross.count("  GET /page/")
    assert 0 < kept < 300  # the head of the quiet routes, the rest cut
    assert f"overview cut to fit: {300 - kept} lines left out" in cross
    assert any("routes no request holds first" in x for x in left_out)


def test_the_overview_joins_the_last_request_only_when_both_fit() -> None:
    routes = Chunk("a#1", "component", "routes in a.py", "route GET /a", 4, ("GET /a",))
    overview = Chunk("cross-component", "cross", "cross-component overview", "env var K", 3)
    (joined,) = join_overview([routes], overview, budget=100)
    assert joined.overview and joined.id == routes.id and joined.routes == ("GET /a",)
    assert joined.data == f"route GET /a\n\n{OVERVIEW_HEAD}\nenv var K"
    assert joined.tokens == count_tokens(joined.data)
    # no room: the overview is a request of its own, the routes' request as it was
    assert join_overview([routes], overview, budget=10) == [routes, overview]
    assert join_overview([], overview, budget=100) == [overview]


def test_the_overview_joins_the_request_with_most_room_when_the_last_is_full() -> None:
    first = Chunk("a#1", "component", "routes in a.py", "route GET /a", 4, ("GET /a",))
    full = "\n".join(f"route GET /b{i}" for i in range(40))
    last = Chunk("b#2", "component", "routes in b.py", full, count_tokens(full), ("GET /b0",))
    overview = Chunk("cross-component", "cross", "cross-component overview", "env var K", 3)
    ends: list[str] = []

    def inner(host: Chunk) -> str:
        ends.append(host.id)
        return f"env var K (ending {host.id})"

    joined = join_overview([first, last], overview, budget=100, inner=inner)
    assert ends == ["b#2", "a#1"]  # the last request first, then the roomiest
    assert [c.id for c in joined] == ["a#1", "b#2"] and joined[1] == last
    assert joined[0].overview and joined[0].data.endswith("env var K (ending a#1)")
    # neither has room: a request of its own
    assert join_overview([first, last], overview, budget=10) == [first, last, overview]
