"""Routes the dataflow engine decided or proved: named by their line, sinks or points, not quoted.

A route is decided when every value that reaches its dangerous calls was judged by the
engine (``FlowIndex.decided``: broken by a sanitizer or guard, constant, a safe call) and no
dangerous call takes a value it did not follow. Its chunk section is the route's line and
one ``path:line | code`` line per sink with the verdict, so the model knows the code exists
and can cite it. Unless its code holds what the engine does not judge (``more_to_read``):
request data handed to a call on no decided flow (a login's lookup, an ownership test,
request text written to a file), or a hardcoded secret the collectors found.

A route the engine proved (``FlowIndex.proved``: a flow of request data reaches a sink
unbroken with nothing unresolved, TM120's proof, and every other flow is broken) needs no
handler either: the finding exists without the LLM. Unless ``more_to_read`` finds logic in
it, it is quoted by ``proved_lines``: the flows' points and its request reads.

A plain write route (``plain_write``: public, declared for writing, no flow, no dangerous
call, no table named) has no value the engine could decide; what a model judges there is who
may call it and what it does with the request's data. Its handler is quoted by its head and
the statements that touch request data only (``CodeRef.touched``), not its whole body.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.code.reader import PathRefused
from threatmodel.excerpt_focus import (
    assigned,
    is_function,
    names,
    passes_on,
    request_branches,
    request_reads,
    request_uses,
    statement_spans,
)
from threatmodel.excerpts import CodeRef
from threatmodel.flow_code import FlowIndex, decided_state, flow_points
from threatmodel.models import WRITE_METHODS, AuthStatus, Flow, Location, Route
from threatmodel.words import plural

DECIDED_HEAD = (
    "  code not quoted: the dataflow engine decided every value reaching its dangerous calls"
)
MAX_POINT_LINES = 4  # a point's statement up to this long is quoted whole
# Heads a proved route's first excerpt of points (no ": " in it: the label ends there). What
# it means is said once, in the system prompt, not beside each of a request's many routes.
PROVED_LABEL = "proved flow points"
# The environment read whole, not one variable of it: ``process.env`` not followed by a
# member nor destructured (``const { A } = process.env``), ``os.environ`` not followed by
# ``.get`` or a subscript (``dict(os.environ)``).
WHOLE_ENV = re.compile(
    r"(?<!\} = )(?<!\}=)\bprocess\.env\b(?!\s*(?:\.|\[|\?\.))"
    r"|\bos\.environ\b(?!\s*(?:\.get\b|\[))"
)

# A response header that names the software and its version (``X-Powered-By: Python 3.10,
# FastAPI 0.103``, ``Server``, ``X-AspNet-Version``, ``X-Runtime``, ``X-Generator``): what an
# attacker looks up known exploits by, written by the handler itself.
FINGERPRINT_HEADER = re.compile(
    r"""["'](?:x-powered-by|server|x-aspnet(?:mvc)?-version|x-runtime|x-generator)["']""", re.I
)


def plain_write(
    b: ChunkBuilder, r: Route, own: list[CodeRef], flows: list[Flow], sinks: list[str]
) -> bool:
    """Whether a route is a plain write: the collectors found it public (an unknown auth
    is judged by its whole code), it is declared for writing, and its code has no flow, no
    dangerous call and no hardcoded secret (the caller checks that it names no table). Its
    handler's quiet lines are not quoted: no value in them reaches anything the collectors
    know to be dangerous."""
    if flows or sinks or r.method not in WRITE_METHODS or r.auth.status != AuthStatus.PUBLIC:
        return False
    return not any(ref.start <= n <= ref.end for ref in own for n in b.secret_lines[ref.path])


def decided_lines(b: ChunkBuilder, flows: list[Flow], here: str = "") -> list[str]:
    """One line per sink place and claim, with the sink's code (it can be cited) and each
    verdict (``database value broken by X; request value broken by X``): the code is said
    once however many values reach it. A place in ``here`` (the file the route line names)
    is ``line N``."""
    states: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for f in flows:
        states[(f.sink_location.path, f.sink_location.line, f.claim)].add(decided_state(f))
    out = []
    for (path, line, claim), said in sorted(states.items()):
        where = b.at(Location(path=path, line=line))
        if path == here:
            where = "line " + where.removeprefix(f"{here}:")
        out.append(f"    {claim} at {where}: {'; '.join(sorted(said))}")
    return out


def proved_lines(
    b: ChunkBuilder, index: FlowIndex, r: Route, own: list[CodeRef], flows: list[Flow]
) -> tuple[list[str], list[CodeRef], bool]:
    """(lines, excerpts, whether the lines hold the route's own line) for a route the engine
    proved. Its handler (``own``) is quoted by the flows' points (source, each step, sink)
    and its statements that read the request (input no proved flow may follow: a value
    read and only compared): per file an excerpt of those lines only (``--- flow points:
    path lines a-b`` and ``n|code``; the first says the engine proved the flows). Of a broken
    flow, its sink's line. A function outside it that a flow passes through is
    quoted focused (its parameters are the flow's data: a DAO's query built from them),
    unless it only returns a call (a GET handler answering with the POST handler's
    response): its point is one line. The route's line is a point when its file holds one
    (the route line above then need not say its handler and place)."""
    # A broken flow the engine decided: its sink's line says where (its flow line says by
    # what); the lines it passes through are the proving flows' or judged already.
    proving = [f for f in flows if not f.broken_by]
    outside = []
    for ref in index.refs(proving, own):
        try:
            lines = b.reader.lines(ref.path)[ref.start - 1 : ref.end]
        except PathRefused:
            continue
        if not passes_on(lines):
            outside.append(replace(ref, fold=True))
    by_path: dict[str, set[int]] = {}
    for f in flows:
        for loc in flow_points(f) if not f.broken_by else [f.sink_location]:
            if not any(x.path == loc.path and x.start <= loc.line <= x.end for x in outside):
                by_path.setdefault(loc.path, set()).add(loc.line)
    for ref in own:
        try:
            lines = b.reader.lines(ref.path)[ref.start - 1 : ref.end]
        except PathRefused:
            continue
        held = by_path.setdefault(ref.path, set())
        held.update(request_reads(lines, ref.start))
        # A short statement over several lines is read whole (`const {` ... `} = req.query;`).
        for a, z in statement_spans(lines, ref.start):
            if a < z < a + MAX_POINT_LINES and held & set(range(a, z + 1)):
                held.update(range(a, z + 1))
    located = bool(by_path.get(r.location.path))
    if located:
        by_path[r.location.path].add(r.location.line)
    out: list[str] = []
    for path, numbers in sorted(by_path.items()):
        shown = b.points(path, sorted(numbers))
        if shown:
            label = PROVED_LABEL if not out else "flow points"
            out += [f"--- {label}: {path} lines {min(numbers)}-{max(numbers)}", *shown]
    return out, outside, located


def more_to_read(
    b: ChunkBuilder, own: list[CodeRef], code: list[CodeRef], flows: list[Flow]
) -> bool:
    """Whether a route's code hands request data to a call no decided flow passes through
    (a login's lookup, an ownership test, request text written to a file): logic the engine
    does not judge, which the model must read whatever flows it decided. In the route's
    ``own`` code (its handler) every parameter is request data; in the functions it calls
    only the request objects (``req``, ``request``) are: a helper's uses of its parameters
    are the data's (an escaping loop). Or a hardcoded secret the collectors found in that
    code: the model judges what it grants."""
    points = {(loc.path, loc.line) for f in flows for loc in flow_points(f)}
    mine = {(r.path, r.start, r.end) for r in own}
    for ref in code:
        if any(ref.start <= n <= ref.end for n in b.secret_lines[ref.path]):
            return True
        if ref.label.startswith("constant"):
            continue
        try:
            lines = b.reader.lines(ref.path)[ref.start - 1 : ref.end]
        except PathRefused:
            continue
        params = (ref.path, ref.start, ref.end) in mine
        # The engine names a statement by one line (``x += (`` of a call below it): a use
        # is followed when a point of a flow lies in the same statement.
        spans = statement_spans(lines, ref.start)
        # the statements the flows' points lie in, by their first line
        stated = {
            a: "\n".join(lines[a - ref.start : z - ref.start + 1])
            for a, z in spans
            if any((ref.path, m) in points for m in range(a, z + 1))
        }
        for n in request_uses(lines, ref.start, params):
            a, z = next(((a, z) for a, z in spans if a <= n <= z), (n, n))
            if any((ref.path, m) in points for m in range(a, z + 1)):
                continue
            # A call whose result a later point reads is on the flow (``bar =
            # thing.process(param)`` then ``query = ... bar``): the engine carried the value
            # through it, whether or not it names the line.
            made = assigned("\n".join(lines[a - ref.start : z - ref.start + 1]))
            if not made or not any(made & names(t) for m, t in stated.items() if m > z):
                return True
    return False


def acts_on_request(b: ChunkBuilder, own: list[CodeRef]) -> bool:
    """Whether a route's handler does something with what the caller sent: hands it to a
    call (a lookup, a file write, a helper) or branches on it (a header that unlocks a
    page), or reads the process's whole environment (``res.json({env: process.env})``, the
    app's secrets handed to whoever asks), or writes a header naming the software it runs
    (``X-Powered-By``: the versions to look exploits up by). A handler that only renders a
    page for the method or the logged-in user does not: it is quiet (summarize.py)."""
    for ref in own:
        try:
            lines = b.reader.lines(ref.path)[ref.start - 1 : ref.end]
        except PathRefused:
            continue
        if is_function(lines) and (
            request_branches(lines, ref.start)
            or request_uses(lines, ref.start)
            or any(WHOLE_ENV.search(line) or FINGERPRINT_HEADER.search(line) for line in lines)
        ):
            return True
    return False


def left_out_lines(decided: list[str], proved: list[str], plain: list[str]) -> list[str]:
    """What the plan says was not quoted of the routes above (ids of each kind), and why."""
    out = []
    if decided:
        out.append(
            f"the code of {plural(len(decided), 'route')} (named by their route line and "
            "one line per dangerous call): the dataflow engine decided every value reaching "
            "their dangerous calls (broken by a sanitizer or guard, constant, a safe call)"
        )
    if proved:
        out.append(
            f"the code of {plural(len(proved), 'route')} (only the lines their flows pass "
            "through, their request reads and their route line are quoted): the dataflow "
            "engine proved a flow of request data to a dangerous call (reported without the "
            "LLM) and broke every other one"
        )
    if plain:
        out.append(
            f"the handler lines of {plural(len(plain), 'route')} that do not touch request "
            "data (public write routes with no flow, no dangerous call and no table: their "
            "head, the statements that read or pass on request data, their exits and the "
            "branch each ends are quoted)"
        )
    return out
