"""Request data rendered into a view's raw (unescaped) output: ``res.render(view, locals)``.

``res.render`` is XSS only where the view prints a local without escaping (EJS ``<%- x %>``,
Handlebars ``{{{ x }}}``, Pug ``!{x}`` / ``p!= x``); ``<%= x %>`` escapes. The engine reads one
file and cannot see the view, so at the call it records which local paths each source
reaches (``hits``: one hit per label, its paths in the callee). Link knows every file: there
``resolve`` reads the view and keeps a flow only when the view prints one of those paths raw,
with the view's line as the sink (the res.render line is a step), and drops it otherwise.
Views are found as Express finds them by default, ``<views>/<name>.<ext>``, else as the one
file whose path ends in the name (a views folder set elsewhere). What a view does with a
local depends on the kind of the row: XSS is a raw output (``RAW``); code injection is a
local the view's engine evaluates as JavaScript (``EVALED``: dustjs-helpers' ``{@if
cond="'{x}' == 'a'"}`` substitutes the references, escaped for HTML only, and ``eval``s
the text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from threatmodel.dataflow.values import Label, Value
from threatmodel.models import Flow, Location

# ``res.render <view> app/products <locals> output.searchTerm,output.id``: spaces, which no
# callee holds (a package's name may hold ``@``)
SEP, PATHS = " <view> ", " <locals> "
MAX_DEPTH = 4
# Raw output tags by view extension; group 1 is the expression printed without escaping.
RAW = {
    "ejs": re.compile(r"<%-(.*?)-?%>", re.S),
    "hbs": re.compile(r"\{\{\{(.*?)\}\}\}", re.S),
    "handlebars": re.compile(r"\{\{\{(.*?)\}\}\}", re.S),
    "pug": re.compile(r"!\{(.*?)\}|^\s*[\w.#-]*!=(?!=)\s*(.+)$", re.M),
    "jade": re.compile(r"!\{(.*?)\}|^\s*[\w.#-]*!=(?!=)\s*(.+)$", re.M),
    # Dust escapes a reference unless a filter of it is ``|s``
    "dust": re.compile(r"\{([A-Za-z_$][\w$.]*(?:\|\w+)*\|s(?:\|\w+)*)\}"),
}
# Views whose engine evaluates text holding locals, by extension: group 1 is that text,
# where ``REFERENCE`` finds the locals.
EVALED = {"dust": re.compile(r"\{@if\s+cond\s*=\s*\"([^\"]*)\"")}
REFERENCE = re.compile(r"\{([A-Za-z_$][\w$.]*)(?:\|\w+)*\}")
VIEW_EXTS = frozenset(RAW) | frozenset(EVALED)
# A dotted name with optional indexes (``output.products[i].name``), not a call's callee.
NAME = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*(?:\s*(?:\.\s*[A-Za-z_$][\w$]*|\[[^\]]*\]))*")
CALLED = re.compile(r"\s*\(")
INDEX = re.compile(r"\s*\[[^\]]*\]|\s+")
STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
INCLUDE = re.compile(r"^\s*include\b")  # ``<%- include(x) %>``: another view, not data


def leaves(value: Value, prefix: str = "", depth: int = 0) -> dict[Label, set[str]]:
    """Each label of ``value`` -> the local paths (``output.searchTerm``) it reaches; a list's
    positions are no part of a path (the view indexes them: ``products[i].name``)."""
    out: dict[Label, set[str]] = {}
    for lab in value.labels:
        out.setdefault(lab, set()).add(prefix)
    if value.items and depth < MAX_DEPTH:
        for key, item in value.items:
            sub = prefix if value.seq or not isinstance(key, str) else _join(prefix, key)
            for lab, paths in leaves(item, sub, depth + 1).items():
                out.setdefault(lab, set()).update(paths)
    return out


def hits(callee: str, view: str, value: Value) -> list[tuple[str, frozenset[Label]]]:
    """(callee naming the view and the paths, the one label) per label of the locals."""
    return [
        (f"{callee}{SEP}{view}{PATHS}{','.join(sorted(paths))}", frozenset({lab}))
        for lab, paths in leaves(value).items()
        if paths - {""}  # the locals object itself is no local a view prints
    ]


def raw_outputs(text: str, ext: str) -> list[tuple[int, str]]:
    """(line, local path) of each name a view prints without escaping; an element's name
    (``todo`` of ``todos.forEach(function (todo) {``) is its list's (``todos``)."""
    pattern = RAW.get(ext)
    if pattern is None:
        return []
    element = _elements(text) if ext == "ejs" else {}
    out: list[tuple[int, str]] = []
    for m in pattern.finditer(text):
        expr = next((g for g in m.groups() if g is not None), "")
        if INCLUDE.match(expr):
            continue
        line = text.count("\n", 0, m.start()) + 1
        expr = STRING.sub("''", expr.split("|", 1)[0] if ext == "dust" else expr)
        for name in NAME.finditer(expr):  # (a string's words are no names)
            if not CALLED.match(expr, name.end()):  # ``JSON.stringify(x)``: x is printed
                out.append((line, _listed(INDEX.sub("", name.group()), element)))
    return out


# An EJS loop's element: ``xs.forEach(function (x) {``, ``xs.map((x) =>``, ``for (const x of
# xs)``. The element is a position of the list, which is no part of a local's path.
_NAME = r"[A-Za-z_$][\w$]*"
LOOPS = (
    re.compile(
        rf"({_NAME}(?:\.{_NAME})*)\s*\.\s*(?:forEach|map)\s*\(\s*(?:function\s*)?\(?\s*({_NAME})"
    ),
    re.compile(rf"for\s*\(\s*(?:var|let|const)\s+({_NAME})\s+of\s+({_NAME}(?:\.{_NAME})*)"),
)


def _elements(text: str) -> dict[str, str]:
    """Loop element name -> the list it walks, as the view's code writes them."""
    out: dict[str, str] = {}
    for m in LOOPS[0].finditer(text):
        out.setdefault(m.group(2), m.group(1))
    for m in LOOPS[1].finditer(text):
        out.setdefault(m.group(1), m.group(2))
    return out


def _listed(name: str, element: dict[str, str], depth: int = 0) -> str:
    """``todo.content`` as the list's path (``todos.content``), nested loops too."""
    head, dot, rest = name.partition(".")
    if head not in element or depth > MAX_DEPTH:
        return name
    return _listed(element[head] + dot + rest, element, depth + 1)


def evaluated(text: str, ext: str) -> list[tuple[int, str]]:
    """(line, local path) of each local a view's engine evaluates as code."""
    pattern = EVALED.get(ext)
    if pattern is None:
        return []
    return [
        (text.count("\n", 0, m.start()) + 1, ref.group(1))
        for m in pattern.finditer(text)
        for ref in REFERENCE.finditer(m.group(1))
    ]


# What a view does with a local that makes a flow of each kind into ``res.render``.
READERS = {"xss": raw_outputs, "code_injection": evaluated}


def resolve(flows: Iterable[Flow], root: Path, files: Iterable[str]) -> list[Flow]:
    """Flows into ``res.render`` made concrete by the view: sink at the view's raw output of
    a path the value reaches, or dropped when the view escapes every one of them."""
    files = list(files)
    views = _views(files)
    cache: dict[tuple[str, str], list[tuple[str, int, str]]] = {}
    out: list[Flow] = []
    for flow in flows:
        callee, sep, rest = flow.sink.partition(SEP)
        if not sep:
            out.append(flow)
            continue
        view, _, paths = rest.partition(PATHS)
        if flow.source_kind in ("constant", "safe_call"):
            out.append(flow.model_copy(update={"sink": callee, "source": callee}))
            continue
        if (view, flow.claim) not in cache:
            name = _view_name(view)
            found = views.get(name) or _elsewhere(name, files)
            cache[(view, flow.claim)] = _printed(root, found, flow.claim)
        reached = paths.split(",")
        hit = next(
            (
                (p, n, name)
                for p, n, name in cache[(view, flow.claim)]
                if any(_meets(name, r) for r in reached)
            ),
            None,
        )
        if hit is None:
            continue
        path, line, _ = hit
        at = Location(path=path, line=line)
        out.append(
            flow.model_copy(
                update={"sink": callee, "sink_location": at, "steps": [*flow.steps, at]}
            )
        )
    return out


def _view_name(view: str) -> str:
    """``/app/products.ejs`` -> ``app/products``: a view named with its extension too."""
    name, dot, ext = view.lstrip("/").rpartition(".")
    return name if dot and ext in VIEW_EXTS else view.lstrip("/")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _meets(printed: str, reached: str) -> bool:
    """The view prints the value reached, part of it, or an object holding it."""
    return (
        printed == reached or printed.startswith(reached + ".") or reached.startswith(printed + ".")
    )


def _views(files: Iterable[str]) -> dict[str, list[str]]:
    """View name (``app/products``) -> the files under a ``views`` folder it names."""
    out: dict[str, list[str]] = {}
    for rel in files:
        head, sep, tail = rel.rpartition("views/")
        name, dot, ext = tail.rpartition(".")
        if (sep and (not head or head.endswith("/"))) and dot and ext in VIEW_EXTS:
            out.setdefault(name, []).append(rel)
    return out


def _elsewhere(name: str, files: list[str]) -> list[str]:
    """A view kept in another folder (``app.set('views', 'templates')``): the one file
    whose path ends in the name, or none when several do (no guess)."""
    found = [
        rel
        for rel in files
        if rel.rpartition(".")[2] in VIEW_EXTS
        and ("/" + rel.rpartition(".")[0]).endswith("/" + name)
    ]
    return found if len(found) == 1 else []


def _printed(root: Path, paths: list[str], kind: str) -> list[tuple[str, int, str]]:
    """(view, line, local path) of what the views do with a local that a flow of ``kind``
    needs (``READERS``): print it raw, evaluate it."""
    read = READERS.get(kind, raw_outputs)
    out: list[tuple[str, int, str]] = []
    for rel in sorted(paths):
        try:
            text = (root / rel).read_text(errors="replace")
        except OSError:
            continue
        out += [(rel, line, name) for line, name in read(text, rel.rpartition(".")[2])]
    return out
