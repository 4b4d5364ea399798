"""JWT misuse in Python, as Setting facts.

Extract (per file): ``jwt.verify`` ("true" / "false") for every ``jwt.decode``,
``jwt.algorithms`` when an accepted algorithm is ``none``, and ``jwt.secret`` =
``literal-short`` when the key is a string literal shorter than 32 characters.
Link: adds the facts. (Python's dangerous calls are the claim catalog's rows: the dataflow
engine lists them as ``facts.sinks``, see ``dataflow.sink_facts``.)
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import register
from threatmodel.code.pyast import imports_of, skips_verification
from threatmodel.collect._pyexpr import Scope, call_sites, dotted
from threatmodel.collect._pygates import gate
from threatmodel.collect._pysettings import PythonSettingsCollector

SHORT_KEY = 32  # HS256 keys shorter than this are brute-forceable offline


def absolute(name: str, imported: Mapping[str, list[Any]]) -> str:
    """``decode`` after ``from jwt import decode`` (or ``as d``) -> ``jwt.decode``: the
    callee as the module it comes from spells it (a relative import is the repository's)."""
    head, dot, rest = name.partition(".")
    got = imported.get(head)
    if got is None or got[2]:
        return name
    module, member = str(got[0]), str(got[1])
    full = f"{module}.{member}" if member else module
    return full + dot + rest


def jwt_settings(
    call: ast.Call, scope: Scope, imported: Mapping[str, list[Any]] | None = None
) -> list[tuple[str, str]]:
    """Setting (key, value) pairs for a ``jwt.decode`` / ``jwt.encode`` call (``imported``:
    the module's imports, ``code.pyast.imports_of``, naming a bare ``decode``)."""
    name = absolute(dotted(call.func), imported or {})
    if not name.startswith("jwt.") or name.rsplit(".", 1)[-1] not in ("decode", "encode"):
        if name.endswith("get_unverified_claims"):
            return [("jwt.verify", "false")]
        return []
    out: list[tuple[str, str]] = []
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    if name.endswith("decode"):
        out.append(("jwt.verify", "false" if skips_verification(call) else "true"))
        algs = kw.get("algorithms")
        if isinstance(algs, ast.List | ast.Tuple):
            names = [e.value for e in algs.elts if isinstance(e, ast.Constant)]
            if any(str(n).lower() == "none" for n in names):
                out.append(("jwt.algorithms", ",".join(str(n) for n in names)))
    key = call.args[1] if len(call.args) > 1 else kw.get("key")
    if key is not None and _literal_length(key, scope) is not None:
        length = _literal_length(key, scope) or 0
        out.append(("jwt.secret", "literal-short" if length < SHORT_KEY else "literal"))
    return out


def _literal_length(node: ast.expr, scope: Scope) -> int | None:
    """Length of the string literal ``node`` always holds (through names), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return len(node.value)
    key = node.id if isinstance(node, ast.Name) else None
    if key is None and isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key = f"{dotted(node.value)}[{node.slice.value!r}]"
    values = scope.values(key) if key else None
    if values and len(values) == 1:
        return _literal_length(values[0], scope) if values[0] is not node else None
    return None


# What a file must spell for jwt_settings() to find a call: the jwt module or the helper.
GATE = gate(calls=[], words=["jwt"], substrings=["get_unverified_claims"])


@register
class PythonJwtCollector(PythonSettingsCollector):
    id = "jwt_python"
    version = 4  # 3: ``from jwt import decode`` then ``decode(...)``; 4: imports in a function
    gate = GATE

    def rows(self, tree: ast.Module) -> list[tuple[str, str, str, int]]:
        imported = imports_of(tree)
        return [
            (key, value, "pyjwt", site.call.lineno)
            for site in call_sites(tree)
            for key, value in jwt_settings(site.call, site.scope, imported)
        ]
