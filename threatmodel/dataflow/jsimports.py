"""Bare JS imports that name the repository's own files, resolved when every file is known.

A file's extract cannot tell ``@server/commands/share`` (a tsconfig ``paths`` alias) or
``@acme/db`` (a workspace package) from a library: the answer is in the repository's
``tsconfig.json`` and ``package.json`` files, and an extract is one file's, cached by its
content. So the engine names a call through a bare import by its specifier
(``@server/commands/share.loadPublicShare``) and keeps it a call (``JsExpr.call``), and
each file's extract lists the bare specifiers it imports (``bare``). Here, at link, the
one resolver every JS consumer uses (``code.jsast.resolve_module`` with the repository's
aliases and packages, ``code.jsworkspace``) says which file each names, for the importing
file's own nearest tsconfig; the file's call names are rewritten to that module's
(``./server/commands/share.loadPublicShare``) so link follows the function's summary. A
specifier no file answers stays a library's: link passes its arguments through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatmodel.code.jsast import resolve_module
from threatmodel.code.jsworkspace import RepoFiles
from threatmodel.dataflow.encode import renamed_calls
from threatmodel.dataflow.js import module_name
from threatmodel.dataflow.jsweak import CHECK, PIN


def resolve_bare(extracts: Mapping[str, Any], files: RepoFiles) -> dict[str, Any]:
    """``extracts`` with the calls through each file's bare imports of repository files
    named as those files' modules name them (a copy where anything changes)."""
    names = {q for data in extracts.values() if data for q in data["summaries"]}
    out = dict(extracts)
    for path, data in extracts.items():
        specs = data.get("bare") if data else None
        if not specs:
            continue
        modules: dict[str, str] = {}
        for spec in specs:
            target = resolve_module(path, spec, files)
            if target is not None:
                modules[spec] = module_name(target)
        if modules:
            out[path] = _renamed(data, modules, names)
    return out


def _renamed(data: dict[str, Any], modules: dict[str, str], names: set[str]) -> dict[str, Any]:
    """A copy of one file's extract whose call names through ``modules`` (specifier ->
    module) are the module's: ``spec.f`` -> ``mod.f``; the specifier alone (a default
    import or a ``require`` called) -> the module's default export, else the module
    itself (``module.exports = fn``). The longest specifier first: ``@a/b/c`` before ``@a/b``
    cannot clash (a name continues with ``.``), but a specifier may hold dots."""
    order = sorted(modules, key=len, reverse=True)

    def name(s: str) -> str:
        for spec in order:
            if s == spec:
                mod = modules[spec]
                return f"{mod}.default" if f"{mod}.default" in names else mod
            if s.startswith(spec) and s[len(spec)] == ".":
                return modules[spec] + s[len(spec) :]
        return s

    def mark(s: str) -> str:
        for head in (PIN, CHECK):  # ``~pin qual#i``: the check a guard passed the value to
            if s.startswith(head):
                qual, sep, index = s[len(head) :].rpartition("#")
                return f"{head}{name(qual)}{sep}{index}"
        return s

    out = renamed_calls(data, name, mark, (6,))  # 6: the checks a value went through
    links = data.get("exports")
    if links:
        out["exports"] = {
            "names": {k: name(v) for k, v in links["names"].items()},
            "star": [name(s) for s in links["star"]],
        }
    return out
