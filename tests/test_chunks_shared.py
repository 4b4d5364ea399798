"""A fact every route of a request shares (auth, flags, framework) is said once at the
request's head, not on every route (issue 19); a fact only some share stays on each route.
Fixtures are written here; facts built by hand."""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route, write

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.chunk_pack import Packer, Section
from threatmodel.chunk_shared import DEFAULT_HEAD, SHARED_HEAD, Plan, plan, shared_lines
from threatmodel.code.reader import RepoReader
from threatmodel.models import AuthStatus, Facts, Location, Route, Sink
from threatmodel.summarize import summarize

N = 4
WEB = {
    f"web{i}.py": (
        "import os\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"  # 1-6
        f'@app.get("/run{i}")\n'  # 7
        f"def run{i}():\n"  # 8
        '    os.system(request.args["c"])\n'  # 9
        "    return 'ok'\n"  # 10
    )
    for i in range(N)
}


def routes(statuses: list[AuthStatus]) -> tuple[list[Route], list[Sink]]:
    rs, sinks = [], []
    for i, status in enumerate(statuses):
        r = route(f"/run{i}", f"web{i}.run{i}", f"web{i}.py", 7, status, "flask")
        rs.append(r.model_copy(update={"rate_limited": False}))
        loc = Location(path=f"web{i}.py", line=9)
        sinks.append(Sink(kind="command", call="os.system", location=loc, dynamic=True))
    return rs, sinks


def components(tmp_path: Path, statuses: list[AuthStatus]) -> list[str]:
    files = write(tmp_path, WEB)
    rs, sinks = routes(statuses)
    chunks = summarize(Facts(routes=rs, sinks=sinks), RepoReader(tmp_path), 6000, files=files)
    return [c.data for c in chunks if c.kind == "component"]


def test_shared_auth_flags_and_framework_are_said_once(tmp_path: Path) -> None:
    (data,) = components(tmp_path, [AuthStatus.PUBLIC] * N)
    head = data.split("\n\n")[0]
    assert head == f"{SHARED_HEAD}\n  auth: public\n  flags: not rate limited\n  framework: flask"
    assert data.count("auth: public") == 1 and data.count("not rate limited") == 1
    assert "(flask)" not in data
    for i in range(N):  # every route is still there, with its own dangerous call
        assert f"route GET /run{i}\n" in data
        assert f"command os.system at web{i}.py:9 with a non-constant argument" in data
        assert '9|    os.system(request.args["c"])' in data


def test_the_commonest_auth_is_said_once_and_the_others_on_their_route(tmp_path: Path) -> None:
    statuses = [AuthStatus.PUBLIC] * (N - 1) + [AuthStatus.AUTHENTICATED]
    (data,) = components(tmp_path, statuses)
    assert data.startswith(
        f"{SHARED_HEAD}\n  flags: not rate limited\n  framework: flask\n"
        f"{DEFAULT_HEAD}\n  auth: public\n\n"
    )
    assert data.count("  auth: public") == 1
    assert data.count("  auth: authenticated") == 1  # the one route that differs says so
    i = data.index("route GET /run3")
    assert data.index("  auth: authenticated") > i


def test_a_sentence_many_routes_repeat_is_said_once_and_named() -> None:
    said = "  code not quoted: the dataflow engine decided every value"
    heads = [
        f"route GET /a (flask)\n  auth: public\n{said}",
        f"route GET /b (flask)\n  auth: public\n{said}",
        "route GET /c (flask)\n  auth: public\n  dangerous calls: os.system at c.py:5",
    ]
    p = plan(heads)
    assert p.named == (said,) and "  auth: public" in p.every
    assert p.apply(heads[0]) == "route GET /a\n  code not quoted"
    # a line with a place (relative to the route's file) is never said once for several
    twice = [h.replace("/a", "/x") for h in heads[2:]] + heads[2:]
    assert plan(twice).named == ()


def test_one_route_is_not_given_a_shared_head(tmp_path: Path) -> None:
    (data,) = components(tmp_path, [AuthStatus.PUBLIC])
    assert SHARED_HEAD not in data
    assert "route GET /run0  handler" in data or "route GET /run0 (flask)" in data
    assert "  auth: public" in data


def test_shared_lines_never_take_a_flow_line() -> None:
    # a flow's `line N` is relative to the route's own file: the same words in two files
    # are two facts, so flow lines stay on their route
    head = (
        "route GET /a (flask)\n  auth: public\n"
        "  flow xss: request value request.args at line 3 reaches return at line 4 (unbroken)"
    )
    assert shared_lines(head) == ["  auth: public", "  framework: flask"]
    assert Plan(every=("  auth: public", "  framework: flask")).apply(head) == (
        "route GET /a\n"
        "  flow xss: request value request.args at line 3 reaches return at line 4 (unbroken)"
    )


def _sections(name: str, n: int, words: int) -> list[tuple[str, Section]]:
    text = " ".join(["word"] * words)
    head = f"route GET /{name}{{}} (flask)\n  note: {text}"
    return [(name, Section(head.format(i), routes=[f"GET /{name}{i}"])) for i in range(n)]


def test_a_component_that_fits_whole_fills_the_request(tmp_path: Path) -> None:
    """A risky component starts a request of its own once the current one is half full,
    unless all its sections fit in what is left: then it fills that request (one fixed
    prompt less), and it is never cut in two by that rule."""
    packer = Packer(ChunkBuilder(Facts(), RepoReader(tmp_path)), 1000)
    big = _sections("big", 3, 180)  # ~600 tokens: past half the budget
    small = _sections("small", 2, 60)  # ~140 tokens: fits in what is left
    large = _sections("large", 3, 100)  # ~330 tokens: does not
    names = {"big", "small", "large"}
    chunks = packer.pack("routes in", "component", big + small + large, 500, split_names=names)
    assert [sorted({r.rstrip("0123456789") for r in c.routes}) for c in chunks] == [
        ["GET /big", "GET /small"],
        ["GET /large"],
    ]
    assert all(c.tokens <= 1000 for c in chunks)
