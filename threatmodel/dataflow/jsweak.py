"""Weak checks: an allow-list test that a crafted value passes (JavaScript / TypeScript).

``url.includes(allowed)``, ``url.indexOf(allowed) !== -1``, ``url.startsWith('https://a.com')``
(no path slash after the host: ``https://a.com.evil.net`` passes), ``/a\\.com/.test(url)``
(no ``^...$`` anchors) test whether the input *contains* an allowed text, not whether it *is*
one, so they sanitize nothing. A flow through such a check stays unbroken; the check's line
and the allow-list data it reads (the elements of the constant list it loops over, in the
same file) are kept so the flow, and the finding, point at the check that lets it pass.

The engine notes each check while it reads a condition (``note``); a function that runs one on
its parameter says so in its summary (``"weak": {param index: check line}``), and a caller's
``if (isAllowed(x))`` marks ``x`` with a ``~check`` sanitizer name that ``annotate`` resolves
across files once every summary is known. ``~`` names sort after every real sanitizer name,
so they never become a flow's ``broken_by``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import call_args, dotted, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.checks import param_named
from threatmodel.dataflow.values import Value
from threatmodel.models import Flow, Location

if TYPE_CHECKING:
    from tree_sitter import Node

SUBSTRING = frozenset({"includes", "indexOf", "startsWith"})
REGEX_SUBJECT = frozenset({"match", "search"})
WEAK_METHODS = SUBSTRING | REGEX_SUBJECT | {"test"}
# A prefix that ends the host (``https://a.com/``) or starts a path (``/app``) pins the
# origin; any other prefix (``https://a.com``, ``/``, ``http``) does not.
PINNED_PREFIX = re.compile(r"^((https?:)?//[^/?#\\]+/|/[^/\\])")
ITERATORS = frozenset({"some", "every", "find", "findIndex", "filter"})
COLLECTIONS = frozenset({"Set", "Object.freeze", "Array.from", "Array.of"})
INPUT = frozenset({"request", "param"})
MAX_DATA = 16
WEAK = "~weak "  # ``~weak ./module:line``: a check of this value, in that module
CHECK = "~check "  # ``~check qual#i``: passed as argument i to a function that checks it
PIN = "~pin "  # ``~pin qual#i``: held where argument i passed a function's host pin (jspin)
PIN_KINDS = frozenset({"ssrf", "open_redirect"})


def is_input(value: Value) -> bool:
    return any(x.kind in INPUT for x in value.all_labels())


def weak_test(
    call: Node, method: str, receiver: Node | None, args: list[Value]
) -> tuple[bool, str, list[int]] | None:
    """(whether the receiver is what is tested (else the first argument), what the check
    is, the check's and its allow-list data's lines) when ``call`` is a weak allow-list
    test of input."""
    nodes = call_args(call)
    if not nodes or receiver is None:
        return None
    needle = unwrap(nodes[0])
    if method == "test":
        pattern = unwrap(receiver)
        if pattern is None or pattern.type != "regex" or _anchored(pattern):
            return None
        return False, f"{node_text(pattern)[:60]}.test() has no ^...$ anchors", [_line(call)]
    if method in REGEX_SUBJECT:
        if needle is None or needle.type != "regex" or _anchored(needle):
            return None
        return True, f".{method}({node_text(needle)[:60]}) has no ^...$ anchors", [_line(call)]
    if needle is None or (args and any(x.kind == "request" for x in args[0].all_labels())):
        return None  # the input is what is looked for, not what is looked in
    text = string_value(needle)
    if text is None and args and isinstance(args[0].const, str):
        text = args[0].const  # a name bound to a constant
    if text is not None:
        if not _weak_needle(method, text):
            return None
        return True, _describe(method, node_text(needle)[:60]), [_line(call)]
    if needle.type != "identifier":
        return None
    items = _collection(call, node_text(needle))
    if items and not any(_weak_needle(method, t) for _, t in items):
        return None  # every allowed prefix pins the origin
    lines = sorted({n for n, _ in items} - {_line(call)})
    return True, _describe(method, node_text(needle)[:60]), [_line(call), *lines]


def _weak_needle(method: str, text: str) -> bool:
    """Is looking for ``text`` an allow-list test that a crafted value passes? A needle
    without a letter or digit (``'..'``, ``'/'``, ``'<'``) is a deny test of characters,
    which the catalog's guards judge; one that names something (a host, a URL) is allowed
    text found anywhere in the input."""
    if not any(c.isalnum() for c in text):
        return False
    return method != "startsWith" or not PINNED_PREFIX.match(text)


def _describe(method: str, needle: str) -> str:
    if method == "startsWith":
        return f".startsWith({needle}) tests a prefix that does not end the host"
    return f".{method}({needle}) is a substring test, not an exact match"


def _anchored(regex: Node) -> bool:
    pattern = regex.child_by_field_name("pattern")
    text = node_text(pattern) if pattern is not None else ""
    return text.startswith("^") and text.endswith("$") and not text.endswith("\\$")


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def _collection(call: Node, name: str) -> list[tuple[int, str]]:
    """The (line, text) items of the constant list ``name`` is drawn from: ``for (const name
    of LIST)`` or ``LIST.some(name => ...)``, LIST an array literal or a constant of this
    file; empty when it is not known."""
    node = call.parent
    while node is not None:
        source = None
        if node.type == "for_in_statement":
            left = node.child_by_field_name("left")
            if left is not None and node_text(left) == name:
                source = node.child_by_field_name("right")
        elif node.type in ("arrow_function", "function_expression"):
            params = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
            holder = node.parent.parent if node.parent is not None else None
            if params is not None and name in node_text(params).strip("()").split(","):
                fn = holder.child_by_field_name("function") if holder is not None else None
                prop = fn.child_by_field_name("property") if fn is not None else None
                if prop is not None and node_text(prop) in ITERATORS and fn is not None:
                    source = fn.child_by_field_name("object")
        if source is not None:
            return _elements(source)
        node = node.parent
    return []


def _elements(node: Node | None, depth: int = 0) -> list[tuple[int, str]]:
    """The string items of a constant collection (a literal, ``new Set([...])``,
    ``Object.freeze([...])``, or a name this file declares as one)."""
    node = unwrap(node)
    if node is None or depth > 3:
        return []
    if node.type == "array":
        out = []
        for c in node.named_children:
            if c.type == "comment":
                continue
            text = string_value(c)
            if text is None:
                return []  # not all constant: unknown
            out.append((_line(c), text))
        return out[:MAX_DATA]
    if node.type in ("new_expression", "call_expression"):
        fn = node.child_by_field_name("constructor") or node.child_by_field_name("function")
        if fn is not None and dotted(unwrap(fn)) in COLLECTIONS:
            args = call_args(node)
            return _elements(args[0], depth + 1) if args else []
        return []
    if node.type == "identifier":
        root = node
        while root.parent is not None:
            root = root.parent
        for decl in _declarations(root, node_text(node)):
            return _elements(decl, depth + 1)
    return []


def _declarations(root: Node, name: str) -> list[Node]:
    out = []
    for s in root.named_children:
        s = s.child_by_field_name("declaration") or s if s.type == "export_statement" else s
        if s.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for d in s.named_children:
            target = d.child_by_field_name("name")
            value = d.child_by_field_name("value")
            if target is not None and node_text(target) == name and value is not None:
                out.append(value)
    return out


def annotate(
    flows: list[Flow], extracts: Mapping[str, Any], aliases: Mapping[str, str]
) -> list[Flow]:
    """Flows with their ``~`` marks resolved: a weak check becomes a sanitizer entry naming
    it and its lines become steps; a check that is not weak leaves no trace."""
    paths = {data["module"]: path for path, data in extracts.items() if data}
    summaries: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, data in extracts.items():
        for qual, summ in (data or {}).get("summaries", {}).items():
            summaries[qual] = (path, summ)
    out = []
    for flow in flows:
        if not any(s.startswith("~") for s in flow.sanitizers):
            out.append(flow)
            continue
        named: list[str] = []
        extra: list[Location] = []
        pinned: str | None = None
        unread = list(flow.unread_checks)
        for s in flow.sanitizers:
            if not s.startswith("~"):
                named.append(s)
                continue
            if s.startswith(PIN):
                got_pin = _pin(s, summaries, aliases)
                if got_pin is not None and flow.claim in PIN_KINDS:
                    pinned = f"host allow-list: {got_pin}"
                    named.append(pinned)
                elif got_pin is None:
                    unread += _unread(s, summaries, aliases)
                continue
            got = _resolve(s, paths, summaries, aliases, extracts)
            if got is not None:
                path, desc, lines = got
                named.append(f"weak check: {desc}")
                extra += [Location(path=path, line=n) for n in lines]
        steps = [*flow.steps[:-1], *(e for e in extra if e not in flow.steps), *flow.steps[-1:]]
        broken = flow.broken_by
        if broken is None and pinned is not None:
            broken = pinned
        if broken is not None and broken.startswith("~"):
            broken = next((s for s in sorted(named) if not s.startswith("weak")), "sanitizer")
        update: dict[str, Any] = {"sanitizers": sorted(set(named)), "steps": steps}
        if broken != flow.broken_by:
            update["broken_by"] = broken
        if unread != flow.unread_checks:
            update["unread_checks"] = sorted(set(unread))
        out.append(flow.model_copy(update=update))
    return out


def _pin(
    mark: str,
    summaries: Mapping[str, tuple[str, dict[str, Any]]],
    aliases: Mapping[str, str],
) -> str | None:
    """The function a ``~pin`` mark names when its summary says it pins that argument."""
    qual, _, index = mark[len(PIN) :].rpartition("#")
    found = summaries.get(qual) or summaries.get(aliases.get(qual, ""))
    if found is None or not index.isdigit():
        return None
    return qual if int(index) in found[1].get("pins", []) else None


def _unread(
    mark: str,
    summaries: Mapping[str, tuple[str, dict[str, Any]]],
    aliases: Mapping[str, str],
) -> list[str]:
    """``[name()]`` when the function a ``~pin`` mark names pins nothing but is a yes/no
    check of that argument (``jsdecide``): a check the engine cannot read."""
    qual, _, index = mark[len(PIN) :].rpartition("#")
    found = summaries.get(qual) or summaries.get(aliases.get(qual, ""))
    if found is None or param_named(found[1], index) not in found[1].get("decides", ()):
        return []
    if index in found[1].get("weak", {}):
        return []  # read: a weak allow-list test, which a crafted value passes
    return [f"{qual.rsplit('.', 1)[-1]}()"]


def _resolve(
    mark: str,
    paths: Mapping[str, str],
    summaries: Mapping[str, tuple[str, dict[str, Any]]],
    aliases: Mapping[str, str],
    extracts: Mapping[str, Any],
) -> tuple[str, str, list[int]] | None:
    if mark.startswith(WEAK):
        module, _, line = mark[len(WEAK) :].rpartition(":")
        path = paths.get(module)
    elif mark.startswith(CHECK):
        qual, _, index = mark[len(CHECK) :].rpartition("#")
        found = summaries.get(qual) or summaries.get(aliases.get(qual, ""))
        if found is None:
            return None
        path, summ = found
        line = str(summ.get("weak", {}).get(index, ""))
    else:
        return None
    row = (extracts.get(path) or {}).get("checks", {}).get(line) if path else None
    if path is None or row is None:
        return None
    return path, row[0], [int(line), *(n for n in row[1] if n != int(line))]
