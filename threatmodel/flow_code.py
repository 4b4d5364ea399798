"""The dataflow engine's flows in the LLM's chunks (summarize.py packs them).

A route's chunk holds the flows that start in its code (handler, view, the repository
functions it calls): one line per flow naming its source, its sink and what breaks it, and
the code the flow passes through (the function around its source, each step and its sink)
when the route's own excerpts do not already hold those lines. Flows no route holds (a
helper module, a view no route table resolved) are shown on their own, by sink file.

Only flows that carry a value worth an attacker's look are shown: request, database,
config and random values, and the pattern kinds (a weak hash, a cookie without Secure).
A value the engine proved constant, or a call it proved safe (an argv list, no shell), is
not: the engine already decided it, and it would only spend the budget.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from threatmodel.code.jsast import is_test_path
from threatmodel.dataflow.proof import proves
from threatmodel.excerpts import CodeIndex, CodeRef
from threatmodel.models import Flow, Location

_DECIDED = frozenset({"constant", "safe_call"})
MAX_FLOW_UNIT_LINES = 60  # the function around a step: its head is where the value moves
POINT_CONTEXT = 3  # lines shown on each side of a point outside a (short) unit


def shown(flow: Flow) -> bool:
    """Whether a flow goes to the LLM (see the module docstring)."""
    return flow.source_kind not in _DECIDED


def _at(loc: Location, here: str) -> str:
    return f"line {loc.line}" if loc.path == here else f"{loc.path}:{loc.line}"


def _where(place: str) -> str:
    """`` line 7`` in the route's own file, `` at web.py:7`` in another."""
    return f" {place}" if place.startswith("line") else f" at {place}"


def _source(flow: Flow, here: str) -> str:
    """The source, with its kind only when its name does not say it (``request.args`` is a
    request value; ``req.body`` is said as ``request value req.body``)."""
    kind = "" if flow.source_kind in flow.source.lower() else f"{flow.source_kind} value "
    return f"{kind}{flow.source}{_where(_at(flow.source_location, here))}"


def flow_text(flow: Flow, here: str = "") -> str:
    """One line: claim, source → sink, and whether (and by what) it is broken. Places in
    ``here`` (the route's own file) are written as ``line N``."""
    sink = _where(_at(flow.sink_location, here))
    state = f"broken by {flow.broken_by}" if flow.broken_by else "unbroken"
    return f"flow {flow.claim}: {_source(flow, here)} reaches {flow.sink}{sink} ({state})"


def _places(locs: Sequence[Location], here: str) -> str:
    """Sink places, each file named once: ``lines 25, 52`` in the route's own file,
    ``a.py:25, 73; b.py:4`` elsewhere (both, ``;``-separated, when a flow reaches both)."""
    by_path: dict[str, list[int]] = {}
    for loc in locs:
        lines = by_path.setdefault("" if loc.path == here else loc.path, [])
        if loc.line not in lines:
            lines.append(loc.line)
    out = []
    for path, lines in by_path.items():
        nums = ", ".join(map(str, lines))
        out.append(f"{path}:{nums}" if path else f"line{'s' if len(lines) > 1 else ''} {nums}")
    return "; ".join(out)


def flow_lines(flows: Sequence[Flow], here: str = "") -> list[str]:
    """One line per source and sink callee: the engine reports a value once per path and per
    sink place (a handler's two ``return``s, one path through a sanitizer and one around it),
    the model needs it once, with every place and every state."""
    groups: dict[tuple[str, str, str, str, int, str], list[Flow]] = defaultdict(list)
    for f in flows:
        loc = f.source_location
        groups[(f.claim, f.source_kind, f.source, loc.path, loc.line, f.sink)].append(f)
    out = []
    for (claim, _k, _s, _p, _l, sink), held in groups.items():
        if len(held) == 1:
            out.append(flow_text(held[0], here))
            continue
        places = _places([f.sink_location for f in held], here)
        states = list(
            dict.fromkeys(f"broken by {f.broken_by}" if f.broken_by else "unbroken" for f in held)
        )
        if "unbroken" in states and len(states) > 1:
            states = [
                "unbroken on one path",
                *(t + " on another" for t in states if t != "unbroken"),
            ]
        out.append(
            f"flow {claim}: {_source(held[0], here)} reaches {sink}{_where(places)} "
            f"({'; '.join(states)})"
        )
    return out


def decided_state(flow: Flow) -> str:
    """What the engine decided about a flow it does not send as code (see ``decided``)."""
    if flow.source_kind == "constant":
        return "a constant value"
    if flow.source_kind == "safe_call":
        return "a safe call"
    return f"{flow.source_kind} value broken by {flow.broken_by}"


def flow_weight(flow: Flow) -> int:
    """How much a flow adds to its route's risk: unbroken request data most."""
    if flow.broken_by:
        return 1
    return 6 if flow.source_kind == "request" else 3


def _inside(loc: Location, refs: Iterable[CodeRef]) -> bool:
    return any(r.path == loc.path and r.start <= loc.line <= r.end for r in refs)


def _add_window(out: list[CodeRef], ref: CodeRef) -> None:
    """Append ``ref``, or widen an excerpt of ``out`` it overlaps or touches (same file and
    label): two points a few lines apart make one excerpt, not two that repeat lines."""
    for i, have in enumerate(out):
        if (have.path, have.label) == (ref.path, ref.label) and (
            ref.start <= have.end + 1 and ref.end >= have.start - 1
        ):
            start, end = min(have.start, ref.start), max(have.end, ref.end)
            out[i] = CodeRef(ref.path, start, end, ref.label)
            return
    out.append(ref)


def flow_points(flow: Flow) -> list[Location]:
    """Source, each step and sink of a flow, in order."""
    return [flow.source_location, *flow.steps, flow.sink_location]


class FlowIndex:
    """The shown flows of a scan, found by the code a route's chunk holds."""

    def __init__(self, index: CodeIndex, flows: Sequence[Flow]) -> None:
        self.index = index
        self.by_path: dict[str, list[Flow]] = defaultdict(list)
        # Every flow by the file of its sink: what reaches a route's code from outside it
        # (a request wrapper in a helper), and the flows the engine decided (not shown).
        self.by_sink: dict[str, list[Flow]] = defaultdict(list)
        # Shown flows by the files of their points: what enters a handler from outside.
        self.by_point: dict[str, list[Flow]] = defaultdict(list)
        for f in flows:
            if shown(f):
                self.by_path[f.source_location.path].append(f)
                for path in dict.fromkeys(p.path for p in flow_points(f)):
                    self.by_point[path].append(f)
            self.by_sink[f.sink_location.path].append(f)
        self.claimed: set[int] = set()  # ids of flows some route holds

    def for_code(self, code: Sequence[CodeRef]) -> tuple[list[Flow], list[CodeRef]]:
        """(flows that start in ``code``, the code they pass through that ``code`` lacks)."""
        flows = [
            f
            for path in sorted({r.path for r in code})
            for f in self.by_path.get(path, ())
            if _inside(f.source_location, code)
        ]
        self.claimed.update(id(f) for f in flows)
        return flows, self.refs(flows, code)

    def entering(
        self,
        own: Sequence[CodeRef],
        code: Sequence[CodeRef],
        handlers: Mapping[str, Sequence[CodeRef]],
    ) -> list[Flow]:
        """Shown flows from outside ``code`` whose first point inside any route's handler
        (``handlers``, by path) lies in ``own`` (this route's): a request wrapper the
        handler calls (``wrapped = request_wrapper(request)``) reaching its sink, or its
        response returned by another handler. They are this handler's flows, once: not the
        other handler's (a GET handler returning the POST handler's response), nor those of
        every route calling a function that holds a sink."""
        out = []
        for path in sorted({r.path for r in own}):
            for f in self.by_point.get(path, ()):
                if id(f) in self.claimed or _inside(f.source_location, code):
                    continue
                first = next(
                    (p for p in flow_points(f) if _inside(p, handlers.get(p.path, ()))), None
                )
                if first is not None and _inside(first, own):
                    out.append(f)
        self.claimed.update(id(f) for f in out)
        return out

    def decided(self, code: Sequence[CodeRef], found: Sequence[Flow]) -> list[Flow] | None:
        """The flows that make ``code`` decided, or None when it is not: some flow reaches
        it (from its own lines or from outside, shown or proved constant / a safe call) and
        every one the engine would show is broken. Such code is named, not quoted
        (summarize.py): the engine already judged each value that reaches its sinks."""
        # A module-level value the code reads (``constant`` excerpts: a key read from a file
        # at import) is not the route's: its flows decide nothing about the route.
        own = [r for r in code if not r.label.startswith("constant")]
        reaching = [
            f
            for path in sorted({r.path for r in own})
            for f in self.by_sink.get(path, ())
            if _inside(f.sink_location, own)
        ]
        if any(shown(f) and not f.broken_by for f in [*found, *reaching]):
            return None
        mine = [f for f in found if _inside(f.source_location, own)]
        held = list({id(f): f for f in [*mine, *reaching]}.values())
        return held or None

    def constant_sinks(self, code: Sequence[CodeRef]) -> set[Location]:
        """The dangerous calls in ``code`` that only ever take constants (``redirect('login')``):
        every flow the engine followed to them starts at a constant, so an attacker has
        nothing to put there. A route whose code is quoted need not name them."""
        states: dict[Location, set[bool]] = defaultdict(set)
        for path in sorted({r.path for r in code}):
            for f in self.by_sink.get(path, ()):
                if _inside(f.sink_location, code):
                    states[f.sink_location].add(f.source_kind == "constant")
        return {loc for loc, kinds in states.items() if kinds == {True}}

    def proved(self, code: Sequence[CodeRef], found: Sequence[Flow]) -> list[Flow] | None:
        """The flows that make ``code`` proved, or None when it is not: some flow reaching
        it proves its claim (``dataflow.proof.proves``: request data, unbroken, nothing
        unresolved; TM120 reports it without the LLM) and every other one the engine would
        show is broken. What the model would judge in such code the engine has already
        shown, point by point (summarize.py quotes those points, not the code)."""
        own = [r for r in code if not r.label.startswith("constant")]
        reaching = [
            f
            for path in sorted({r.path for r in own})
            for f in self.by_sink.get(path, ())
            if _inside(f.sink_location, own)
        ]
        held = list({id(f): f for f in [*found, *reaching] if shown(f)}.values())
        if not any(proves(f) for f in held):
            return None
        if any(not f.broken_by and not proves(f) for f in held):
            return None
        return held

    def refs(self, flows: Sequence[Flow], have: Sequence[CodeRef] = ()) -> list[CodeRef]:
        """The functions around each flow's points, once each, skipping lines ``have`` holds."""
        out: list[CodeRef] = []
        for f in flows:
            for loc in flow_points(f):
                if _inside(loc, [*have, *out]):
                    continue
                unit = self.index.unit_at(loc.path, loc.line)
                # A long unit, or no unit (a template's line, a manifest's dependency):
                # the lines around the point. A fixed window from the point on showed a
                # template's markup for twenty lines past its sink.
                if unit is None:
                    start, end = max(1, loc.line - POINT_CONTEXT), loc.line + POINT_CONTEXT
                elif unit[1] - unit[0] >= MAX_FLOW_UNIT_LINES:
                    start, end = (
                        max(unit[0], loc.line - POINT_CONTEXT),
                        min(unit[1], loc.line + POINT_CONTEXT),
                    )
                else:
                    start, end = unit
                _add_window(out, CodeRef(loc.path, start, end, f"flow {f.claim}"))
        return out

    def unclaimed(self) -> dict[str, list[Flow]]:
        """Shown flows no route holds, by the file of their sink (after every route asked)."""
        out: dict[str, list[Flow]] = defaultdict(list)
        for flows in self.by_path.values():
            for f in flows:
                # A test's flow is not the application's: it would only spend the budget.
                if id(f) not in self.claimed and not is_test_path(f.sink_location.path):
                    out[f.sink_location.path].append(f)
        return dict(out)
