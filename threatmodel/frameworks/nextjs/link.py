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
from threatmodel.frameworks._js.refusal import ACCESS
from threatmodel.frameworks._js.report import skipped
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
    if name == "default":  # summaries are by the function's own name
        name = x.get("default") or name
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


def reported(
    h: dict[str, Any], mod: str, extracts: Mapping[str, Extract], files: frozenset[str]
) -> list[tuple[str, dict[str, Any]]]:
    """A handler that refuses on what a repository helper reports about the caller
    (``_js/report``): ``const { error } = await parseRequest(req); if (error) return
    error()`` where ``parseRequest`` flags ``error`` when ``checkAuth`` finds no one, or
    ``const user = await checkAuth(req); if (!user) return unauthorized()``."""
    out: list[tuple[str, dict[str, Any]]] = []
    access: list[tuple[str, dict[str, Any]]] = []
    for name, prop, truthy, role, line, quote, args, refuses in h.get("reports", []):
        if "." in name:
            continue  # a method of some object: not a repository function we can name
        v = "restricted" if role else "authenticated"
        into = access if role == ACCESS else out
        lookup = exported(mod, name, "lookups", extracts, files)
        if lookup is not None and prop is not None and not truthy and refuses:
            why = f"calls {name}() ({lookup[1]}), which looks up the caller, and refuses"
            into.append(
                (mod, {"v": v, "why": f"{why} when it finds no one", "line": line, "s": quote})
            )
            continue
        found = exported(mod, name, "reporters", extracts, files)
        for summary in found[0] if found is not None else []:
            helper_mod = found[1] if found is not None else mod
            if not _reads_caller(summary, helper_mod, extracts, files) or skipped(summary, args):
                continue
            if role == ACCESS and _reported(summary, prop or "", False):
                why = f"hands the caller {name}() reports to a check, and refuses when it fails"
            elif summary["rejects"] and summary["stops"] and prop is None:
                # the helper's refusal throws (or redirects): the handler stops there too
                why = f"calls {name}(), which refuses when {summary['lookup']}() finds no one"
            elif summary["rejects"] and prop is not None and _reported(summary, prop, truthy):
                # the helper answered the refusal itself (``res.status(401)``) and the
                # handler stops on what it reports: ``if (!user) return;``
                why = (
                    f"stops on {prop or 'the answer'} of {name}(), which refuses when "
                    f"{summary['lookup']}() finds no one ({helper_mod}:{summary['line']})"
                )
            elif prop is not None and (truthy or refuses) and _reported(summary, prop, truthy):
                # a flag the helper sets for an anonymous caller (error) is a refusal
                # however it is returned; an empty answer must be refused as such
                why = (
                    f"refuses on {prop or 'the answer'} of {name}(), which reports "
                    f"an empty {summary['lookup']}() ({helper_mod}:{summary['line']})"
                )
            else:
                continue
            into.append((mod, {"v": v, "why": why, "line": line, "s": quote}))
            break
    # a predicate over the caller (canUpdateWebsite(auth, id)) restricts a route only
    # once the caller is known to be signed in
    return out + access if out else []


def _reads_caller(
    summary: dict[str, Any], mod: str, extracts: Mapping[str, Extract], files: frozenset[str]
) -> bool:
    """Is the helper's lookup an auth lookup by name, or a repository function that reads
    a credential and answers nothing when there is no caller?"""
    name = summary["lookup"]
    if summary["known"]:
        return True
    return "." not in name and exported(mod, name, "lookups", extracts, files) is not None


def _reported(summary: dict[str, Any], prop: str, truthy: bool) -> bool:
    """Does the handler's test catch what the helper answers for an anonymous caller?
    A prop falsy for the anonymous caller is falsy (or throws) all the way down."""
    if truthy:
        return prop in summary["truthy"]
    head = prop.partition(".")[0]
    return prop in summary["falsy"] or head in summary["falsy"] or "" in summary["falsy"]


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
