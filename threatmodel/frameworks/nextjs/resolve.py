"""Where a Next.js route's code decides: the helpers, wrappers and re-exports it reaches.

``helper`` follows a call a handler makes (``withSession(...)``, ``requireUser()``,
``client.action(...)``) to the module that defines it, through barrels (``export * from``)
and through exported functions that decide nothing but call one that does;
``reexported`` gives the handlers a route file re-exports; ``library_wrapper`` knows the
library handlers that verify a caller's signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import Extract
from threatmodel.code.jsast import resolve_module
from threatmodel.frameworks.nextjs.files import HTTP

# Library handlers that verify the caller's signature before running the code they wrap.
_VERIFYING_WRAPPERS = {
    ("@upstash/workflow/nextjs", "serve"): "Upstash Workflow serve() checks the QStash signature",
    ("@upstash/qstash/nextjs", "verifySignatureAppRouter"): "QStash verifySignatureAppRouter()",
    (
        "@upstash/qstash/dist/nextjs",
        "verifySignatureAppRouter",
    ): "QStash verifySignatureAppRouter()",
}


def library_wrapper(call: str, imports: dict[str, list[str]]) -> dict[str, Any] | None:
    spec, name = imports.get(call, ["", ""])
    why = _VERIFYING_WRAPPERS.get((spec, name))
    if why is None:
        return None
    return {"v": "authenticated", "why": why, "mechanism": "webhook_signature"}


def reexported(
    mod: str, x: Extract, files: frozenset[str], extracts: Mapping[str, Extract]
) -> list[tuple[dict[str, Any], str]]:
    """Handlers a route file re-exports (``export { GET } from '../other/route'``,
    ``export * from``, ``export { default } from`` a page), judged where they are defined."""
    if not x.get("route") or x["route"][0] == "layout":
        return []
    out: list[tuple[dict[str, Any], str]] = []
    own = {h["method"] for h in x["handlers"]}
    for spec, imported, exported in x.get("reexports", []):
        other = resolve_module(mod, spec, files)
        if other is None or other == mod or other not in extracts:
            continue
        for h in extracts[other]["handlers"]:
            if h.get("action") or h["method"] in own:
                continue
            if imported == "*" or h["name"] == imported:
                name = h["method"] if exported in ("*", imported) else exported
                out.append(({**h, "method": name if name in HTTP else h["method"]}, other))
    return out


def helper(
    call: str,
    mod: str,
    x: dict[str, Any],
    helpers: Mapping[tuple[str, str], dict[str, Any]],
    files: frozenset[str],
    extracts: Mapping[str, Extract] | None = None,
) -> tuple[str, dict[str, Any]] | None:
    root = call.split(".")[0]
    last = call.rpartition(".")[2]
    if root in x["imports"]:
        spec, imported = x["imports"][root]
        target = resolve_module(mod, spec, files)
        # ns.requireUser() names the export; client.action() is a method of the export
        want = last if "." in call and imported == "*" else imported
        return exported_helper(target, want, helpers, files, extracts or {}, 0)
    local = helpers.get((last, mod))
    return (mod, local) if local is not None else None


def exported_helper(
    mod: str | None,
    name: str,
    helpers: Mapping[tuple[str, str], dict[str, Any]],
    files: frozenset[str],
    extracts: Mapping[str, Extract],
    depth: int,
) -> tuple[str, dict[str, Any]] | None:
    """The helper ``mod`` exports as ``name``, following barrels (``export * from './x'``)."""
    if mod is None or depth > 4:
        return None
    found = helpers.get((name, mod))
    if found is not None:
        return mod, found
    x = extracts.get(mod) or {}
    for call in x.get("calls", {}).get(name, []) if depth < 2 else []:
        root = call.split(".")[0]
        if root in x["imports"]:
            target = resolve_module(mod, x["imports"][root][0], files)
            want = call.rpartition(".")[2] if "." in call else x["imports"][root][1]
            hit = exported_helper(target, want, helpers, files, extracts, depth + 1)
        else:
            local = helpers.get((call, mod))
            hit = (mod, local) if local is not None else None
        if hit is not None and hit[1]["v"] != "none":
            return hit[0], why(hit[1], f"calls {call}(), which")
    if name in x.get("calls", {}):
        return mod, {"v": "none", "why": "", "line": 0}  # defined here, and it checks nothing
    for spec, imported, exported in (extracts.get(mod) or {}).get("reexports", []):
        if exported not in ("*", name):
            continue
        other = resolve_module(mod, spec, files)
        hit = exported_helper(
            other, name if imported == "*" else imported, helpers, files, extracts, depth + 1
        )
        if hit is not None:
            return hit
    return None


def why(v: dict[str, Any], who: str) -> dict[str, Any]:
    return {**v, "why": f"{who} {v['why'].replace(' in the handler', '')}"}
