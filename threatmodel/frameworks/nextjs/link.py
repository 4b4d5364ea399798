"""Link-time pieces of the Next.js collector that reach into other files.

``middleware_guards`` runs each middleware of a route's app for the route's path (and, for
a page in a host folder, its host) through ``nextjs_run``, following the helpers and
constants it names through imports, barrels and workspace packages (``exported``);
``owned`` upgrades a signed-in route whose handler fetches only the caller's record
(``nextjs_owner``) to restricted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from threatmodel.code.collector import Extract
from threatmodel.code.jsast import resolve_module, walk
from threatmodel.frameworks._js.handler import is_auth_lookup
from threatmodel.frameworks.nextjs import middleware as nextjs_mw
from threatmodel.frameworks.nextjs import run as nextjs_run
from threatmodel.frameworks.nextjs.owner import library_throws

if TYPE_CHECKING:
    from tree_sitter import Node


def middleware_guards(
    mws: dict[str, dict[str, Any]],
    root: str,
    host: str | None,
    url: str,
    extracts: Mapping[str, Extract],
    files: frozenset[str],
) -> list[tuple[str, dict[str, Any]]]:
    """middleware.ts files of this app whose matcher covers ``url`` and that reject there
    (for a page in a host folder, as a request to that host)."""
    out = []
    for mod, mw in mws.items():
        if mw_root(mod) != root or not mw["program"] or not nextjs_mw.matches(mw["matcher"], url):
            continue

        def resolve(name: str, where: str, spec: str) -> tuple[list[Any], str] | None:
            other = resolve_module(where, spec, files) if spec else where
            found = exported(other, name, "programs", extracts, files) if other else None
            if found is None:
                return None
            helper_mod = found[1]

            def getter(n: str) -> bool:
                return exported(helper_mod, n, "getters", extracts, files) is not None

            # its refusals are quoted from the helper's file
            return nextjs_mw.located(found[0], helper_mod, getter=getter), helper_mod

        def lookup(kind: str, name: str, where: str) -> Any:
            key = {"hosts": "hostsets", "hostfn": "hostfns"}.get(kind, "getters")
            found = exported(where, name, key, extracts, files)
            if found is None:
                return None
            return found[0] if kind == "hosts" else found

        known = host if host is not None and ("." in host or host == "localhost") else None
        stmt = nextjs_run.run(mw["program"], url, resolve, known, lookup, mod)
        if stmt is not None:
            how = stmt[3] if len(stmt) > 3 else "redirects or rejects signed-out requests"
            verdict = {
                "v": "authenticated",
                "line": stmt[1],
                "s": stmt[2],
                "why": f"middleware: {how}",
            }
            out.append((stmt[4] if len(stmt) > 4 else mod, verdict))
            member = (
                nextjs_run.turns_members_away(mw["program"], url, resolve, known, lookup, mod)
                if known is not None
                else None
            )
            if member is not None:
                # a signed-in caller without the role it looks up never reaches the page
                why = "middleware: a signed-in caller without the role it looks up gets next()"
                where = member[4] if len(member) > 4 else mod
                got = {"v": "restricted", "line": member[1], "s": member[2], "why": why}
                out.append((where, got))
    return out


def exported(
    mod: str,
    name: str,
    key: str,
    extracts: Mapping[str, Extract],
    files: frozenset[str],
    depth: int = 0,
) -> tuple[Any, str] | None:
    """``extracts[m][key][n]`` for the definition ``name`` means in ``mod``: a local one, or
    the one an import names, followed through barrels (``export * from``) and workspace
    packages. Gives (value, defining module)."""
    x = extracts.get(mod) or {}
    local = (x.get(key) or {}).get(name)
    if local is not None:
        return local, mod
    if depth > 4:
        return None
    imported = (x.get("imports") or {}).get(name)
    if imported is not None and depth == 0:
        other = resolve_module(mod, imported[0], files)
        return exported(other, imported[1], key, extracts, files, 1) if other else None
    for spec, inner, outer in x.get("reexports", []):
        if outer not in ("*", name):
            continue
        other = resolve_module(mod, spec, files)
        if other is not None and other != mod:
            hit = exported(other, name if inner == "*" else inner, key, extracts, files, depth + 1)
            if hit is not None:
                return hit
    return None


def owned(
    h: dict[str, Any],
    mod: str,
    cands: list[tuple[str, dict[str, Any]]],
    extracts: Mapping[str, Extract],
    files: frozenset[str],
) -> list[tuple[str, dict[str, Any]]]:
    """A signed-in caller's handler that fetches the URL's record for that caller with a
    function that refuses when there is none: restricted (``nextjs_owner``)."""
    if not h.get("owned") or not any(
        v["v"] == "authenticated" and not v.get("mechanism") for _m, v in cands
    ):
        return []
    for name, line, quote in h["owned"]:
        root = name.split(".")[0]
        if library_throws(name) or exported(mod, root, "throwers", extracts, files):
            why = f"fetches the record for the signed-in caller with {name}(), which refuses"
            return [(mod, {"v": "restricted", "why": why, "line": line, "s": quote})]
    return []


def returns_lookup(fn: Node) -> bool:
    nodes = list(walk(fn))
    return any(n.type == "return_statement" for n in nodes) and any(
        n.type == "call_expression" and is_auth_lookup(n) for n in nodes
    )


def mw_root(path: str) -> str:
    return (
        str(PurePosixPath(path).parent).removesuffix("src").rstrip("/").replace(".", "")
        if "/" in path
        else ""
    )
