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


_TRUE_WORDS = ("1", "true", "yes", "on")


def flag_default(expr: ast.AST | None) -> bool | None:
    """The value a boolean setting takes when the deployment does not set it, if written here.

    ``True``; ``getattr(configuration, "X", True)``; ``env.bool("X", default=True)``,
    ``env("X", default=True)``, ``config("X", default=True, cast=bool)``;
    ``os.environ.get("X", "true").lower() == "true"`` (and ``in ("1", "true")``). None when
    the value is computed some other way or has no default: that is deployment input.
    """
    if (b := bool_const(expr)) is not None:
        return b
    if isinstance(expr, ast.Call):
        name = last(dotted(expr.func))
        if name == "getattr" and len(expr.args) == 3:
            return bool_const(expr.args[2])
        if name in ("bool", "env", "config", "get_bool", "getbool", "env_bool"):
            return bool_const(kw(expr, "default"))
        return None
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        left, right = expr.left, expr.comparators[0]
        while isinstance(left, ast.Call) and isinstance(left.func, ast.Attribute):
            if left.func.attr not in ("lower", "strip", "casefold"):
                break
            left = left.func.value
        if not (
            isinstance(left, ast.Call)
            and ("environ" in dotted(left.func) or last(dotted(left.func)) in _ENV_CALLS)
        ):
            return None
        default = str_const(left.args[1] if len(left.args) > 1 else kw(left, "default"))
        if default is None:
            return None
        value = default.strip().lower()
        if isinstance(expr.ops[0], ast.Eq | ast.NotEq) and (want := str_const(right)) is not None:
            return (value == want.lower()) == isinstance(expr.ops[0], ast.Eq)
        if isinstance(expr.ops[0], ast.In | ast.NotIn) and (options := str_list(right)):
            hit = value in [o.lower() for o in options]
            return hit == isinstance(expr.ops[0], ast.In)
    return None


def str_default(expr: ast.AST | None) -> str | None:
    """The string a setting takes when the deployment does not set it, if written here.

    ``"x"``; ``getattr(configuration, "X", "x")``; ``env("X", default="x")``,
    ``os.environ.get("X", "x")``, ``os.getenv("X", "x")``; a one-argument normalising call of
    an empty default (``trailing_slash(getattr(c, "BASE_PATH", ""))``) stays empty.
    """
    if (v := str_const(expr)) is not None:
        return v
    if not isinstance(expr, ast.Call):
        return None
    name = dotted(expr.func)
    if last(name) == "getattr" and len(expr.args) == 3:
        return str_const(expr.args[2])
    if "environ" in name or last(name) in ("getenv", "env", "config"):
        return str_const(expr.args[1] if len(expr.args) > 1 else kw(expr, "default"))
    if len(expr.args) == 1 and not expr.keywords and str_default(expr.args[0]) == "":
        return ""
    return None


def instance_defaults(tree: ast.Module) -> dict[str, str]:
    """``settings = Settings()`` of a class with ``API_V1_STR: str = "/api/v1"``, in one module:
    ``{"settings.API_V1_STR": "/api/v1"}``, the values the deployment gets unless it overrides
    them (pydantic ``BaseSettings`` and plain config classes alike).
    """
    strs: dict[str, dict[str, str]] = {}
    for c in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for stmt in c.body:
            target: ast.expr | None = stmt.target if isinstance(stmt, ast.AnnAssign) else None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
            value = getattr(stmt, "value", None)
            if (
                isinstance(target, ast.Name)
                and (v := str_const(value)) is not None
                and len(v) < 200
            ):
                strs.setdefault(c.name, {})[target.id] = v
    out: dict[str, str] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign | ast.AnnAssign)
            and isinstance(stmt.value, ast.Call)
            and (cls := dotted(stmt.value.func)) in strs
        ):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in (t for t in targets if isinstance(t, ast.Name)):
                out.update({f"{t.id}.{k}": v for k, v in strs[cls].items()})
    return out


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
