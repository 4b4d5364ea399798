"""Element-level taint for the container operations Python has, as pure functions on values.

A list / tuple / deque value with known positions (``seq``) or a dict with known keys keeps
one value per element (``values.Value.items``); these functions say what each operation
makes of them: slicing with any bounds and step, negative indexes, ``dict(...)`` from
keywords, pairs or another dict, ``{**a, ...}`` and ``a | b`` merges, ``[*a, b]``,
``reversed``, ``keys`` / ``values`` / ``items``, ``next(iter(x))``, and which arguments a
constant format string really reads (``'{0}'.format(safe, tainted)`` reads only ``safe``).
When a shape is not known exactly the result is the flat value (every label), never less.
"""

from __future__ import annotations

import string
from typing import Any

from threatmodel.dataflow.values import CLEAN, Value, const, tainted

MAX_ITEMS = 64  # a comprehension over more known items is read as one element


def seq(vals: list[Value], labels: frozenset[Any] = frozenset()) -> Value:
    return Value(labels, items=tuple(enumerate(vals)), seq=True)


def exact_seq(v: Value) -> list[Value] | None:
    """The elements of a list whose every position is known (no unplaced labels)."""
    if v.seq and v.items is not None and not v.labels:
        return [x for _, x in v.items]
    return None


def exact_dict(v: Value) -> list[tuple[Any, Value]] | None:
    if not v.seq and v.items is not None and not v.labels and not v.known:
        return list(v.items)
    return None


def index(n: int, size: int) -> int | None:
    """A Python index (negative counts from the end) as a position, or None when out."""
    k = n + size if n < 0 else n
    return k if 0 <= k < size else None


def sliced(v: Value, lo: Value, hi: Value, step: Value, bounds: tuple[bool, bool, bool]) -> Value:
    """``v[lo:hi:step]`` of a list with known positions; ``bounds``: which were written."""
    vals = exact_seq(v)
    parts = (lo, hi, step)
    if vals is None or any(
        w and not (p.known and isinstance(p.const, int | None))
        for w, p in zip(bounds, parts, strict=True)
    ):
        return v.flat()
    args = [p.const if w else None for w, p in zip(bounds, parts, strict=True)]
    if args[2] == 0:
        return v.flat()
    return seq(vals[slice(*args)])


def merge(a: Value, b: Value) -> Value:
    """``{**a, **b}`` / ``a | b`` of two dicts: b's keys win."""
    da, db = exact_dict(a), exact_dict(b)
    if da is None or db is None:
        return tainted(a, b)
    keys = {k for k, _ in db}
    return Value(items=(*((k, x) for k, x in da if k not in keys), *db))


def dict_of(args: list[Value], kwargs: dict[str, Value]) -> Value:
    """``dict(a=1)``, ``dict([('a', 1)])``, ``dict(other, b=2)``."""
    base: Value = Value(items=())
    if args:
        src = args[0]
        pairs = exact_seq(src)
        if exact_dict(src) is not None:
            base = src
        elif pairs is not None and all(exact_seq(p) is not None for p in pairs):
            items = []
            for p in pairs:
                kv = exact_seq(p) or []
                if len(kv) != 2 or not kv[0].known or kv[0].labels:
                    return tainted(*args, *kwargs.values())
                items.append((kv[0].const, kv[1]))
            base = Value(items=tuple(items))
        else:
            return tainted(*args, *kwargs.values())
    extra = Value(items=tuple((k, v) for k, v in kwargs.items() if k != "**"))
    if "**" in kwargs:
        extra = merge(extra, kwargs["**"])
    return merge(base, extra)


def starred_list(parts: list[tuple[bool, Value]]) -> Value:
    """``[*a, b]``: (starred?, value) parts; exact when every starred part is exact."""
    vals: list[Value] = []
    for star, v in parts:
        if not star:
            vals.append(v)
            continue
        inner = exact_seq(v)
        if inner is None:
            return tainted(*(p for _, p in parts))
        vals.extend(inner)
    return seq(vals)


def reversed_of(v: Value) -> Value:
    vals = exact_seq(v)
    return seq(vals[::-1]) if vals is not None else v.flat()


def view(v: Value, method: str) -> Value | None:
    """``d.keys()`` / ``d.values()`` / ``d.items()`` of a dict with known keys."""
    pairs = exact_dict(v)
    if pairs is None:
        return None
    if method == "keys":
        return seq([const(k) for k, _ in pairs])
    if method == "values":
        return seq([x for _, x in pairs])
    return seq([seq([const(k), x]) for k, x in pairs])


def first(v: Value) -> Value:
    """``next(iter(v))``: the first element when positions are known, else any element."""
    vals = exact_seq(v)
    if vals:
        return vals[0]
    if v.items and v.seq:
        out = Value(v.labels)
        for _, x in v.items:
            out = tainted(out, x)
        return out
    return v.flat()


def format_reads(template: Any, args: list[Value], kwargs: dict[str, Value]) -> Value | None:
    """``'{0} {name}'.format(...)`` with a constant template: only the fields it names
    carry their labels (``{0[key]}`` reads one item); None when the template is unknown."""
    if not isinstance(template, str):
        return None
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return None
    out: list[Value] = []
    auto = 0
    for field in fields:
        head, _, rest = field.partition("[")
        head = head.split(".")[0]
        if head == "":
            head, auto = str(auto), auto + 1
        got = args[int(head)] if head.isdigit() and int(head) < len(args) else kwargs.get(head)
        if got is None:
            return tainted(*args, *kwargs.values())
        key = rest.rstrip("]").split("]")[0] if rest else None
        if key is not None and got.items is not None and not got.seq:
            got = got.item(key) or got.flat()
        elif key is not None and key.isdigit() and exact_seq(got) is not None:
            vals = exact_seq(got) or []
            got = vals[int(key)] if int(key) < len(vals) else got.flat()
        out.append(got)
    return tainted(*out) if out else CLEAN


def percent_reads(template: Any, arg: Value) -> Value | None:
    """``'%(a)s' % mapping`` with a constant template reads only the keys it names."""
    if not isinstance(template, str) or "%(" not in template:
        return None
    pairs = exact_dict(arg)
    if pairs is None:
        return None
    names = {p.split(")", 1)[0] for p in template.split("%(")[1:]}
    got = [x for k, x in pairs if k in names]
    return tainted(*got) if got else CLEAN


REORDER = frozenset({"remove", "reverse", "clear", "sort"})


def reorder(lst: Value, method: str, args: list[Value]) -> Value:
    """``remove`` / ``reverse`` / ``clear`` / ``sort`` on a list with known positions."""
    vals = [v for _, v in lst.items or ()]
    if method == "clear":
        vals = []
    elif method == "reverse":
        vals.reverse()
    elif method == "remove" and args and args[0].known:
        for i, v in enumerate(vals):
            if not v.known:
                return Value(lst.all_labels())  # which one goes is not known
            if v.const == args[0].const:
                del vals[i]
                break
    elif method in ("remove", "sort"):
        return Value(lst.all_labels())
    return Value(lst.labels, items=tuple(enumerate(vals)), seq=True)


def zipped(args: list[Value]) -> Value:
    """``zip(a, b)`` of lists with known positions: the tuples, position by position."""
    cols = [exact_seq(a) for a in args]
    if not args or any(c is None for c in cols):
        return tainted(*args)
    known = [c for c in cols if c is not None]
    return seq([seq([c[i] for c in known]) for i in range(min(len(c) for c in known))])


def enumerated(args: list[Value], kwargs: dict[str, Value]) -> Value:
    """``enumerate(a)``: (index, element) pairs; the index is a number, never input."""
    start = kwargs.get("start") or (args[1] if len(args) > 1 else const(0))
    vals = exact_seq(args[0]) if args else None
    if vals is None or not start.known or not isinstance(start.const, int):
        return tainted(*args)
    return seq([seq([const(start.const + i), v]) for i, v in enumerate(vals)])


CALLS = frozenset({"dict", "reversed", "next", "sorted", "zip", "enumerate"})


def call(qual: str, args: list[Value], kwargs: dict[str, Value]) -> Value:
    """``list(x)`` / ``copy.copy(x)`` keep elements (``list(d)``: the keys), ``dict(...)``
    builds one, ``reversed`` reorders, ``next`` takes the first, ``sorted`` mixes, ``zip``
    and ``enumerate`` pair positions."""
    if qual == "dict":
        return dict_of(args, kwargs)
    if qual == "zip":
        return zipped(args)
    if qual == "enumerate":
        return enumerated(args, kwargs)
    if not args:
        return seq([]) if qual != "next" else CLEAN
    if qual == "reversed":
        return reversed_of(args[0])
    if qual == "next":
        return first(args[0])
    if qual == "sorted":
        return seq([]) if exact_seq(args[0]) == [] else args[0].flat()
    if qual in ("list", "tuple", "collections.deque"):
        keys = view(args[0], "keys")
        if keys is not None:
            return keys
    return args[0]
