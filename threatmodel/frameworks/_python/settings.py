"""Security settings of Python web apps: where a secret key comes from, CORS options, and
turning the framework modules' raw records into Setting / Middleware facts.

A secret key's *value* never leaves this module: only whether it is hardcoded, read from
the environment, or cannot be told. Settings named by reference (``app.secret_key =
config.SECRET_KEY``) are resolved at link time through the module constants of the file
the name comes from.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import bool_const, dotted, kw, last, str_const, str_list
from threatmodel.frameworks._python.link import Resolver
from threatmodel.models import Location, Middleware, Setting

HARDCODED, ENV, UNKNOWN = "hardcoded", "env", "unknown"
_ENV_CALLS = ("getenv", "get", "env", "config", "str", "environ", "get_secret", "getenv_or")


def secret_source(expr: ast.AST | None, consts: dict[str, str]) -> str:
    """ "hardcoded" | "env" | "unknown" | "ref:<dotted>" for the expression a key is set from."""
    if expr is None:
        return UNKNOWN
    if isinstance(expr, ast.Constant):
        return HARDCODED if isinstance(expr.value, str | bytes) and expr.value else UNKNOWN
    if isinstance(expr, ast.JoinedStr):
        return HARDCODED if all(isinstance(v, ast.Constant) for v in expr.values) else UNKNOWN
    if isinstance(expr, ast.BoolOp):  # os.environ.get("K") or "fallback"
        parts = [secret_source(v, consts) for v in expr.values]
        return HARDCODED if HARDCODED in parts else (ENV if ENV in parts else UNKNOWN)
    if isinstance(expr, ast.Subscript) and "environ" in dotted(expr.value):
        return ENV
    if isinstance(expr, ast.Call):
        name = dotted(expr.func)
        if "environ" in name or last(name) in _ENV_CALLS:
            default = expr.args[1] if len(expr.args) > 1 else kw(expr, "default")
            return HARDCODED if secret_source(default, {}) == HARDCODED else ENV
        return UNKNOWN
    if isinstance(expr, ast.Name):
        return consts.get(expr.id, f"ref:{expr.id}")
    if isinstance(expr, ast.Attribute) and dotted(expr):
        return f"ref:{dotted(expr)}"
    return UNKNOWN


def module_consts(tree: ast.Module) -> dict[str, str]:
    """Module-level (and class-level) ``*SECRET*`` / ``*KEY*`` names -> source classification."""
    out: dict[str, str] = {}
    bodies: list[list[ast.stmt]] = [tree.body]
    bodies += [n.body for n in tree.body if isinstance(n, ast.ClassDef)]
    for body in bodies:
        for stmt in body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                t = stmt.targets[0]
                if isinstance(t, ast.Name) and ("SECRET" in t.id or "KEY" in t.id):
                    src = secret_source(stmt.value, {})
                    out[t.id] = src if not src.startswith("ref:") else UNKNOWN
    return out


def resolve_secret(value: str, file: str, resolver: Resolver) -> str:
    """Turn a "ref:" classification into hardcoded / env / unknown by following the name."""
    if not value.startswith("ref:"):
        return value
    ref = value[4:]
    target, symbol, _ = resolver.resolve(file, ref)
    if target is None:
        return UNKNOWN
    consts = resolver.extracts[target].get("consts", {})
    found = consts.get(symbol.rsplit(".", 1)[-1])
    return found if found in (HARDCODED, ENV) else UNKNOWN


def cors_options(call: ast.Call) -> dict[str, str]:
    """flask-cors / Starlette CORSMiddleware / django-cors options as strings."""
    opts: dict[str, str] = {}
    origins = kw(call, "origins") or kw(call, "allow_origins")
    resources = kw(call, "resources")
    if origins is None and isinstance(resources, ast.Dict):
        for v in resources.values:
            if isinstance(v, ast.Dict):
                for k, vv in zip(v.keys, v.values, strict=False):
                    if str_const(k) == "origins":
                        origins = vv
    if origins is not None:
        listed = str_list(origins)
        opts["allow_origins"] = ",".join(listed) if listed is not None else "unknown"
    regex = kw(call, "allow_origin_regex")
    if regex is not None:
        opts["allow_origin_regex"] = str_const(regex) or "unknown"
    creds = kw(call, "supports_credentials") or kw(call, "allow_credentials")
    if creds is not None:
        b = bool_const(creds)
        opts["allow_credentials"] = "unknown" if b is None else str(b).lower()
    return opts


def emit_setting(
    out: FactsBuilder, key: str, value: str, framework: str, path: str, line: int
) -> None:
    out.settings.append(
        Setting(key=key, value=value, framework=framework, location=Location(path=path, line=line))
    )


def emit_middleware(out: FactsBuilder, rec: list[Any], path: str) -> None:
    """``rec``: [kind, name, line, scope, options]."""
    kind, name, line, scope, options = rec
    out.middleware.append(
        Middleware(
            kind=kind,
            name=name,
            scope=scope,
            location=Location(path=path, line=line),
            options={k: str(v) for k, v in sorted(options.items())},
        )
    )
