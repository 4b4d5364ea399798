"""Which exports of a ``"use server"`` file a browser can call as server actions.

Next.js turns every export of a ``"use server"`` module into a server-action reference, but
since Next.js 15 a browser can only call the actions whose ids the build hands to client
code: unused actions are dropped from the client bundle (dead-code elimination) and the ids
are unguessable and change between builds. An action is handed to the client when client
code imports it (a ``"use client"`` module, or any module the client graph imports) or a
component passes it on (``<form action={save}>``, a prop of a client component). An
exported helper that only server code imports (another action, a route handler) is then no
endpoint of its own: the actions and routes that call it are, with their own guards.

Before Next.js 15 every export of an action module the app loads got a stable id, so with
an older (or unreadable) Next.js version nothing is hidden. An export that no module is
seen to import at all (a dynamic ``import()``, an alias this analysis does not resolve)
stays an action: not finding the caller is no proof that there is none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from threatmodel.code.collector import Extract
from threatmodel.code.jsast import resolve_module

FIRST_HIDING_MAJOR = 15  # Next.js 15: unused actions lose their ids (see the docstring)
_COMPONENT = (".tsx", ".jsx")
_MAJOR = re.compile(r"(\d+)")


def hidden_actions(
    extracts: Mapping[str, Extract], files: frozenset[str], root: Path
) -> set[tuple[str, str]]:
    """(module, export) pairs of ``"use server"`` modules that no client code can reach."""
    servers = [m for m, x in extracts.items() if x.get("server_module")]
    majors: dict[str, int | None] = {}
    servers = [
        m for m in servers if (next_major(root, m, files, majors) or 0) >= FIRST_HIDING_MAJOR
    ]
    if not servers:
        return set()
    # A barrel's ``export *`` hands nothing on by itself: what its importers take from it
    # does (``_through_barrels``), so only imports are uses; the client graph spans both.
    edges = _edges(extracts, files, reexports=False)
    client = _client_graph(extracts, _edges(extracts, files, reexports=True))
    handed: dict[str, set[str]] = {}  # action module -> names client code references
    imported: dict[str, set[str]] = {}  # action module -> names any other module imports
    for mod, outs in edges.items():
        # a component, even a server one, may hand an action on (``<form action={save}>``)
        exposing = mod in client or mod.endswith(_COMPONENT)
        for target, name in outs:
            for amod, aname in _through_barrels(target, name, extracts, files, 0):
                if amod == mod:
                    continue
                imported.setdefault(amod, set()).add(aname)
                if exposing:
                    handed.setdefault(amod, set()).add(aname)
    out: set[tuple[str, str]] = set()
    for mod in servers:
        refs, seen = handed.get(mod, set()), imported.get(mod, set())
        for h in extracts[mod]["handlers"]:
            name = h["name"]
            if not h.get("action") or h.get("inline"):
                continue
            if "*" in refs or name in refs:
                continue
            if name in seen or "*" in seen:
                out.add((mod, name))
    return out


def _edges(
    extracts: Mapping[str, Extract], files: frozenset[str], reexports: bool
) -> dict[str, list[list[str]]]:
    """Module -> [resolved module, imported name] for its imports (and its re-exports)."""
    out: dict[str, list[list[str]]] = {}
    for mod, x in extracts.items():
        pairs = [(spec, name) for spec, name in x.get("imports", {}).values()]
        if reexports:
            pairs += [(spec, imported) for spec, imported, _ in x.get("reexports", [])]
        resolved = []
        for spec, name in pairs:
            target = resolve_module(mod, spec, files)
            if target is not None and target != mod:
                resolved.append([target, name])
        if resolved:
            out[mod] = resolved
    return out


def _client_graph(extracts: Mapping[str, Extract], edges: dict[str, list[list[str]]]) -> set[str]:
    """``"use client"`` modules and everything they import, short of action modules (whose
    imports stay on the server: the client gets references, not their code)."""
    todo = [m for m, x in extracts.items() if x.get("client")]
    seen = set(todo)
    while todo:
        mod = todo.pop()
        for target, _ in edges.get(mod, []):
            x = extracts.get(target)
            if target in seen or x is None or x.get("server_module"):
                continue
            seen.add(target)
            todo.append(target)
    return seen


def _through_barrels(
    target: str, name: str, extracts: Mapping[str, Extract], files: frozenset[str], depth: int
) -> list[tuple[str, str]]:
    """The action modules and names an import of ``name`` from ``target`` ends at, following
    ``export * from`` / ``export { x } from`` barrels."""
    x = extracts.get(target)
    if x is None or depth > 4:
        return []
    if x.get("server_module"):
        return [(target, name)]
    out: list[tuple[str, str]] = []
    for spec, imported, exported in x.get("reexports", []):
        if name != "*" and exported not in ("*", name):
            continue
        other = resolve_module(target, spec, files)
        if other is not None and other != target:
            want = name if imported == "*" else imported
            out += _through_barrels(other, want, extracts, files, depth + 1)
    return out


def next_major(
    root: Path, mod: str, files: frozenset[str], memo: dict[str, int | None]
) -> int | None:
    """The major version of ``next`` the nearest ``package.json`` above ``mod`` depends on
    (None: not found, or not a plain version such as ``15.5.8`` / ``^14.2``); ``memo`` holds
    the answer per folder."""
    folder = PurePosixPath(mod).parent
    climbed: list[str] = []
    answer: int | None = None
    while True:
        key = str(folder)
        if key in memo:
            answer = memo[key]
            break
        climbed.append(key)
        rel = "package.json" if key == "." else f"{key}/package.json"
        # only a file of the repository's own listing is read (no symlink out of it)
        names, major = _declared(root / rel) if rel in files else (False, None)
        if names:
            answer = major
            break
        if folder == folder.parent:
            break
        folder = folder.parent
    for key in climbed:
        memo[key] = answer
    return answer


def _declared(path: Path) -> tuple[bool, int | None]:
    """Does this package.json depend on ``next``, and on which major version?"""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, None
    if not isinstance(data, dict):
        return False, None
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        deps = data.get(key)
        spec = deps.get("next") if isinstance(deps, dict) else None
        if isinstance(spec, str):
            m = _MAJOR.match(spec.lstrip("^~>=v "))
            return True, int(m.group(1)) if m else None
    return False, None
