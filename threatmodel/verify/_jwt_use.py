"""What an unverified JWT payload decides (Python): identity, access, a response, or nothing.

``jwt.decode(token, options={"verify_signature": False})`` is harmless when its payload is
only read for a routing claim (``iss``, ``owner``, ``kid``: which verifier to use next) and
dangerous when it decides who the caller is or what they may do, or reaches a response.
``payload_use`` finds the unverified decode at a line, the name its payload is bound to,
and classifies every use of that name in the enclosing function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from threatmodel.code.pyast import dotted, str_const
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.models import Location

# Claims that choose how to verify a token, not who the caller is.
ROUTING = frozenset({"iss", "issuer", "owner", "kid", "alg", "typ", "aud", "type", "token_type"})
_LOGS = ("print", "logger.", "logging.", "log.", "console.")


@dataclass(frozen=True)
class PayloadUse:
    decides: Location | None  # where the payload decides identity / access / a response
    what: str  # a short description of that use, or of the harmless uses
    verifying: Location | None  # a verifying decode in the same file


def payload_use(reader: RepoReader, loc: Location) -> PayloadUse | None:
    """None when the line holds no unverified Python decode that can be analysed."""
    try:
        text = "\n".join(reader.lines(loc.path))
    except PathRefused:
        return None
    tree = python_tree(text)
    if tree is None:
        return None
    consts = {
        t.id: v
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and (v := str_const(n.value)) is not None
    }
    decodes = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and dotted(n.func).endswith("decode")
    ]
    unverified = [n for n in decodes if _unverified(n) and abs(n.lineno - loc.line) <= 3]
    verifying = next((n for n in decodes if "jwt" in dotted(n.func) and not _unverified(n)), None)
    verified_at = Location(path=loc.path, line=verifying.lineno) if verifying else None
    if not unverified:
        return None
    call = unverified[0]
    fn = _enclosing(tree, call)
    if fn is None:
        return None
    parents = {c: p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
    holder = parents.get(call)
    if isinstance(holder, ast.Return):
        return PayloadUse(Location(path=loc.path, line=call.lineno), "returned to the caller", None)
    if not (isinstance(holder, ast.Assign) and isinstance(holder.targets[0], ast.Name)):
        return PayloadUse(Location(path=loc.path, line=call.lineno), "used directly", None)
    name = holder.targets[0].id
    routing: set[str] = set()
    logged = False
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(node)
        key = _key(parent, node, consts, parents)
        if key is not None and key.lower() in ROUTING:
            routing.add(key)
            continue
        if isinstance(parent, ast.Call) and dotted(parent.func).startswith(_LOGS):
            logged = True
            continue
        what = f"`{name}[{key!r}]` is read" if key else f"`{name}` is used"
        return PayloadUse(Location(path=loc.path, line=node.lineno), what, verified_at)
    uses = [f"read for {', '.join(sorted(routing))}"] if routing else []
    uses += ["logged"] if logged else []
    return PayloadUse(None, " and ".join(uses) or "never used", verified_at)


def _unverified(call: ast.Call) -> bool:
    for k in call.keywords:
        if k.arg == "verify" and isinstance(k.value, ast.Constant) and k.value.value is False:
            return True
        if k.arg == "options" and isinstance(k.value, ast.Dict):
            for kk, vv in zip(k.value.keys, k.value.values, strict=False):
                if str_const(kk) == "verify_signature" and isinstance(vv, ast.Constant):
                    return vv.value is False
    return False


def _enclosing(tree: ast.Module, call: ast.Call) -> ast.AST | None:
    best: ast.AST | None = None
    for n in ast.walk(tree):
        inside = isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and (
            n.lineno <= call.lineno <= (n.end_lineno or n.lineno)
        )
        if inside:
            best = n  # the innermost wins: ast.walk visits outer functions first
    return best


def _key(
    parent: ast.AST | None, node: ast.Name, consts: dict[str, str], parents: dict[ast.AST, ast.AST]
) -> str | None:
    """The claim read: ``payload["k"]`` or ``payload.get("k")`` (constants resolved)."""

    def value(expr: ast.AST | None) -> str | None:
        if isinstance(expr, ast.Name):
            return consts.get(expr.id)
        return str_const(expr)

    if isinstance(parent, ast.Subscript) and parent.value is node:
        return value(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.attr == "get":
        call = parents.get(parent)
        if isinstance(call, ast.Call) and call.args:
            return value(call.args[0])
    return None
