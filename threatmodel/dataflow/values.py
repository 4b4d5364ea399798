"""The abstract values the Python taint engine computes: labels, constants and containers.

A ``Label`` says where (part of) a value comes from: the HTTP request, the database or
configuration, a parameter of the function being summarised, ``self.<attr>``, or a call to a
function whose summary is only known once every file is read (``call``: resolved in link).
A label remembers the claim kinds it was sanitized for and the lines it went through.

A ``Value`` is the labels of the whole value, its constant when one is known (so conditions
fold and dead branches are skipped), and the values of its items when it is a container
with known keys / positions (element-level taint: ``d['a'] = x; d['b']`` is clean).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ATTR = ".<attr>."  # in a call label's origin: ``Class.<attr>.name``, an attribute read
WHOLE = "<whole>"  # in a label's args: the value went through a function not the repository's
MAX_STEPS = 8  # lines kept per label: enough for a proof, bounded for loops


class _Unknown:
    def __repr__(self) -> str:
        return "?"


UNKNOWN: Any = _Unknown()

Args = tuple[tuple[str, frozenset["Label"]], ...]
# A line a value went through: a line of the label's own file (``Label.path``), or
# ``(path, line)`` for a line of another file, met when link follows the value through a
# function of another module (the engine reads one file: only link makes these).
Step = int | tuple[str, int]


# Labels and values are built millions of times on a large repository: they are slotted and
# not ``frozen`` (a frozen dataclass's __init__ is five times slower), and by convention
# never assigned to after they are built (they are hashed). A label's hash is computed once
# and kept (``_h``): labels are hashed again each time a set of them is built, and hashing
# one hashes its ``args`` (labels again), ~5% of the engine on saleor. The hash is the one
# ``unsafe_hash`` generated (the compared fields, in order), so set orders do not change.
@dataclass(eq=True, slots=True)
class Label:
    kind: str  # request | database | config | param | self | call | random
    origin: str  # request.args / param name / attr / callee qualified name
    line: int
    safe: frozenset[str] = frozenset()  # claim kinds a sanitizer made this value safe for
    args: Args = ()  # call: ("0"/"1"/kw name/"self", labels of that argument)
    # The lines a value went through are how it got here, not what it is: two labels that
    # differ only in their path are one label (the first path met is kept). Counted in the
    # label's identity, every loop and join doubled the paths a value could carry, which
    # made summaries grow exponentially in the number of loops (a 150-line management
    # command took seconds) and made the path a report shows depend on set order.
    steps: tuple[Step, ...] = field(default=(), compare=False)
    via: tuple[str, ...] = ()  # sanitizers met (names), for the report
    path: str = ""  # file of ``line``; set when a file's labels are read in link
    # Calls into the repository's own code that link could not resolve, which the value was
    # assumed to pass through (link only): a flow resting on one is not proof. Like the
    # path, how the value got here, not what it is.
    unknown: tuple[str, ...] = field(default=(), compare=False)
    _h: int = field(default=0, compare=False, repr=False)
    _ph: int = field(default=0, compare=False, repr=False)  # path_hash(), kept

    def path_hash(self) -> int:
        """A hash of the label with its path and its arguments' paths: two equal labels
        (equality leaves paths out) that came along different paths hash apart (almost
        surely), so a memo keyed by it never answers one with the other's path."""
        h = self._ph
        if not h:
            args = tuple((k, paths_hash(v)) for k, v in self.args)
            h = self._ph = hash((hash(self), self.steps, self.unknown, args)) or 1
        return h

    def __hash__(self) -> int:
        h = self._h
        if not h:
            h = self._h = (
                hash((self.kind, self.origin, self.line, self.safe, self.args, self.via, self.path))
                or 1
            )
        return h

    def sanitized(self, kinds: frozenset[str], name: str) -> Label:
        via = (*self.via, name)[-4:]
        safe = self.safe | kinds
        return Label(
            self.kind,
            self.origin,
            self.line,
            safe,
            self.args,
            self.steps,
            via,
            self.path,
            self.unknown,
        )

    def step(self, line: int) -> Label:
        steps = self.steps
        if (steps and steps[-1] == line) or line == self.line:
            return self
        steps = (*steps, line)[-MAX_STEPS:]
        return self._moved(steps)

    def step_in(self, path: str, line: Step) -> Label:
        """``step`` for a line of file ``path``, which need not be this label's file."""
        there = line if isinstance(line, tuple) else (path, line)
        if not there[0] or there[0] == self.path:
            return self.step(there[1])
        if self.steps and self.steps[-1] == there:
            return self
        steps = (*self.steps, there)[-MAX_STEPS:]
        return self._moved(steps)

    def _moved(self, steps: tuple[Step, ...]) -> Label:
        return Label(
            self.kind,
            self.origin,
            self.line,
            self.safe,
            self.args,
            steps,
            self.via,
            self.path,
            self.unknown,
        )

    def with_args(self, args: Args) -> Label:
        return Label(
            self.kind,
            self.origin,
            self.line,
            self.safe,
            args,
            self.steps,
            self.via,
            self.path,
            self.unknown,
        )

    def through_unknown(self, callee: str) -> Label:
        """This value as assumed to come out of ``callee``, a repository call link could
        not resolve (kept first-met, bounded like the steps)."""
        if callee in self.unknown:
            return self
        unknown = (*self.unknown, callee)[:4]
        return Label(
            self.kind,
            self.origin,
            self.line,
            self.safe,
            self.args,
            self.steps,
            self.via,
            self.path,
            unknown,
        )


def attr_read(lab: Label, name: str, line: int) -> Label:
    """``x.name`` where ``x`` carries ``lab``. A repository call's result becomes a ``call``
    label that link resolves by that field: what ``__init__`` stored as ``self.name``, or
    (JS) the returned object's ``name``. A JS parameter's field is the parameter with the
    field in its origin (``opts.<attr>.cmd``): link binds it to that field of the argument.
    A value a function outside the repository returned stays whole (``WHOLE``): what that
    function moved between fields is not known. Any other label is the field as it is."""
    if ATTR in lab.origin or any(k == WHOLE for k, _ in lab.args):
        return lab  # a field of a field: the first one read is kept (bounded)
    if lab.kind == "call":
        return Label("call", f"{lab.origin}{ATTR}{name}", line, args=(("self", frozenset({lab})),))
    if lab.kind == "param":
        origin = f"{lab.origin}{ATTR}{name}"
        return Label(
            "param", origin, lab.line, lab.safe, (), lab.steps, lab.via, lab.path, lab.unknown
        )
    return lab


def _whole(lab: Label) -> Label:
    if lab.kind not in ("call", "param") or any(k == WHOLE for k, _ in lab.args):
        return lab
    return lab.with_args((*lab.args, (WHOLE, frozenset())))


def param_name(origin: str) -> str:
    """The parameter a ``param`` label reads (``opts`` for ``opts.<attr>.cmd``)."""
    return origin.partition(ATTR)[0]


def paths_hash(labels: frozenset[Label]) -> int:
    """``Label.path_hash`` of a set: with the set, a memo key that tells equal sets whose
    labels came along different paths apart."""
    return hash(frozenset(x.path_hash() for x in labels))


def distinct(labels: Iterable[Label]) -> frozenset[Label]:
    """``labels`` as a set. Of labels that are one but for their path, the shortest path
    (then the lowest lines) is kept whatever order they come in, so where two values meet
    the path a report shows never depends on set order."""
    out: dict[Label, Label] = {}
    for lab in labels:
        old = out.setdefault(lab, lab)
        if old is not lab and _goes_first(lab, old):
            out[lab] = lab
    return frozenset(out.values())


def _goes_first(a: Label, b: Label) -> bool:
    """``path_order(a) < path_order(b)``, without building either when the counts decide
    or the paths are the same (most meetings: open-webui's link met 3.5 million)."""
    if a.steps == b.steps and a.unknown == b.unknown:
        return False
    counts_a, counts_b = (len(a.unknown), len(a.steps)), (len(b.unknown), len(b.steps))
    if counts_a != counts_b:
        return counts_a < counts_b
    return path_order(a) < path_order(b)


def path_order(lab: Label) -> tuple[int, int, list[tuple[str, int]]]:
    """A path through no unresolved call first (it is proof), then shorter, then lower
    lines (a line of the label's own file before another file's): a total order."""
    steps = [("", s) if isinstance(s, int) else s for s in lab.steps]
    return len(lab.unknown), len(lab.steps), steps


@dataclass(unsafe_hash=True, slots=True)
class Value:
    labels: frozenset[Label] = frozenset()
    const: Any = UNKNOWN
    items: tuple[tuple[Any, Value], ...] | None = None  # known keys (dict) or positions (list)
    seq: bool = False  # items are list positions 0..n-1
    # a string whose middle is unknown but whose first / last characters are known
    # (``'help' + p + 'tail'``): slices inside those ends are constants (``affix.py``)
    affix: tuple[str, str] | None = None

    @property
    def known(self) -> bool:
        return self.const is not UNKNOWN

    def all_labels(self) -> frozenset[Label]:
        if not self.items:
            return self.labels
        out = set(self.labels)
        for _, v in self.items:
            out |= v.all_labels()
        return frozenset(out)

    def flat(self) -> Value:
        """The value as one thing (str(x), x.format(), a call's result)."""
        return Value(self.all_labels(), self.const if self.items is None else UNKNOWN)

    def item(self, key: Any) -> Value | None:
        for k, v in self.items or ():
            if k == key:
                return v
        return None

    def step(self, line: int) -> Value:
        if not self.labels and not self.items:
            return self
        items = None if self.items is None else tuple((k, v.step(line)) for k, v in self.items)
        labels = frozenset(x.step(line) for x in self.labels)
        return Value(labels, self.const, items, self.seq, self.affix)

    def sanitized(self, kinds: frozenset[str], name: str) -> Value:
        return Value(distinct(x.sanitized(kinds, name) for x in self.all_labels()), self.const)


CLEAN = Value()


def field_of(value: Value, name: str, line: int) -> Value:
    """Field ``name`` of a value known only by its labels (``attr_read`` on each)."""
    return Value(distinct(attr_read(x, name, line) for x in value.labels))


# A lookup's method name (``cache.get(key)``, ``store.findLink({ key })``, ``fetch``): called
# on an object outside the code read, it returns what is stored under the key, not the key.
LOOKUP = re.compile(r"^(get|find|lookup|load|read|fetch|select|count|exists|has)([A-Z_]|$)")


def whole(value: Value) -> Value:
    """``value`` as a function outside the repository returns it: a later field read of
    it reads the whole value (``attr_read``)."""
    return Value(frozenset(_whole(x) for x in value.labels))


def request_object(v: Value) -> bool:
    """``v`` is the request object as a whole (the handler's ``request``), not a text read
    from it (``request.args``)."""
    labels = v.all_labels()
    return bool(labels) and all(x.kind == "request" and x.origin == "request" for x in labels)


def const(value: Any) -> Value:
    return Value(const=value)


def tainted(*values: Value) -> Value:
    """A value built from all of ``values`` (no constant known)."""
    out: set[Label] = set()
    for v in values:
        out |= v.all_labels()
    return Value(frozenset(out))


def join(a: Value, b: Value) -> Value:
    """Either ``a`` or ``b`` (two branches meet)."""
    if a is b:
        return a
    same = a.known and b.known and type(a.const) is type(b.const) and a.const == b.const
    items = None
    if a.items is not None and b.items is not None and a.seq == b.seq:
        keys = [k for k, _ in a.items] + [k for k, _ in b.items if a.item(k) is None]
        if not a.seq or len(a.items) == len(b.items):
            items = tuple((k, join(a.item(k) or CLEAN, b.item(k) or CLEAN)) for k in keys)
    labels = a.labels | b.labels
    if items is None and (a.items or b.items):
        labels = a.all_labels() | b.all_labels()
    affix = None if same else _common_ends(a, b)
    return Value(labels, a.const if same else UNKNOWN, items, a.seq and items is not None, affix)


def _string_ends(v: Value) -> tuple[str, str] | None:
    if v.known:
        return (v.const, v.const) if isinstance(v.const, str) else None
    return None if v.items is not None else v.affix


def _common_ends(a: Value, b: Value) -> tuple[str, str] | None:
    """The start and end both branches' strings share (``f"https://h/a?{q}" if q else
    f"https://h/b"``: both start ``https://h/``), so a URL's fixed host survives a branch."""
    ea, eb = _string_ends(a), _string_ends(b)
    if ea is None or eb is None:
        return None
    prefix = _shared_start(ea[0], eb[0])
    suffix = _shared_start(ea[1][::-1], eb[1][::-1])[::-1]
    return (prefix, suffix) if prefix or suffix else None


def _shared_start(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]
