"""Guards whose check is chosen by a setting: who can call the route under each value.

A visibility decorator reads a setting stored outside the code (a database row chosen in
a setup wizard, a config file) and dispatches on it::

    v = get_config(ConfigTypes.CHALLENGE_VISIBILITY)
    if v == ChallengeVisibilityTypes.PUBLIC:
        return f(*args, **kwargs)
    elif v == ChallengeVisibilityTypes.PRIVATE:
        if authed(): return f(*args, **kwargs)
        abort(403)
    elif v == ChallengeVisibilityTypes.ADMINS: ...

The code cannot say which value a deployment picked, but it says exactly who gets in under
each: ``states`` lists them (``public``, ``authenticated``, ``restricted``), ``default`` is
the value the read falls back to when the call names one (``get_config(key, default=X)``).
The route's status is the state under that default, else the most permissive state (what
any deployment may turn it into), with every state named in the route's ``auth.settings``.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import dotted, kw, last
from threatmodel.frameworks._python.cond import block_reject, guard_verdict, pass_verdict
from threatmodel.frameworks._python.fold import Guard
from threatmodel.frameworks._python.owner import hides
from threatmodel.frameworks._python.reject import mentions
from threatmodel.models import AuthStatus, Location, SettingAuth

_CONFIG_WORDS = ("config", "setting", "option", "flag", "feature", "visibility")
_RANK = {"public": 0, "authenticated": 1, "restricted": 2}


def _read(value: ast.expr) -> ast.Call | None:
    """``get_config(KEY)`` / ``settings.get("KEY")``: a call that reads a setting."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call) and value.args and mentions(value.func, _CONFIG_WORDS):
        return value
    return None


setting_call = _read  # public: django/urls.py reads a URL prefix formatted from such a call


def _serves(block: list[ast.stmt], params: set[str]) -> bool:
    """Does the arm call the wrapped view at once (``return f(*args, **kwargs)``)?"""
    for s in block:
        call = s.value if isinstance(s, ast.Return | ast.Expr) else None
        if isinstance(call, ast.Call) and dotted(call.func) in params:
            return True
        if not isinstance(s, ast.Expr | ast.Assign | ast.Pass):
            return False
    return False


def _arm(block: list[ast.stmt], params: set[str]) -> str | None:
    if _serves(block, params):
        return "public"
    none: list[ast.arg] = []
    args = ast.arguments(posonlyargs=none, args=none, kwonlyargs=none, kw_defaults=[], defaults=[])
    fake = ast.FunctionDef(name="arm", args=args, body=block, decorator_list=[])
    status, _line = guard_verdict(fake, {})
    if status is None and len(block) == 1 and isinstance(block[0], ast.If):
        s = block[0]  # ``if is_admin(): return f() else: abort(404)``: hidden from the rest
        for serve, other, holds in ((s.body, s.orelse, True), (s.orelse, s.body, False)):
            if _serves(serve, params) and other and all(hides(x) for x in other):
                status = pass_verdict(s.test, holds, True)
    return status if status in ("authenticated", "restricted") else None


def _chain(stmt: ast.If, var: str) -> list[tuple[ast.expr, list[ast.stmt]]] | None:
    """``if v == A: ... elif v == B: ...`` as [(A, arm)]; None when a test is not ``v == X``."""
    out: list[tuple[ast.expr, list[ast.stmt]]] = []
    node: ast.stmt | None = stmt
    while isinstance(node, ast.If):
        t = node.test
        if not (
            isinstance(t, ast.Compare)
            and len(t.ops) == 1
            and isinstance(t.ops[0], ast.Eq | ast.Is)
            and isinstance(t.left, ast.Name)
            and t.left.id == var
        ):
            return None
        out.append((t.comparators[0], node.body))
        nxt = node.orelse
        node = nxt[0] if len(nxt) == 1 and isinstance(nxt[0], ast.If) else None
        if node is None and nxt:
            return None  # a final else: the values it covers are not named
    return out


def _text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return dotted(node) or ast.unparse(node)


def configured(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any] | None:
    """``{setting, default, line, states: [[value, status]]}`` of a setting-dispatched guard.

    Looks in ``fn`` and in the wrapper a decorator defines. None unless every value the
    dispatch names has a known state.
    """
    bodies = [fn.body] + [
        s.body for s in fn.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    outer = {a.arg for a in [*fn.args.args, *fn.args.posonlyargs]}
    for body in bodies:
        reads: dict[str, ast.Call] = {}
        for s in body:
            if isinstance(s, ast.Assign) and len(s.targets) == 1:
                t = s.targets[0]
                call = _read(s.value)
                if isinstance(t, ast.Name) and call is not None:
                    reads[t.id] = call
            elif isinstance(s, ast.If) and isinstance(s.test, ast.Compare):
                var = s.test.left.id if isinstance(s.test.left, ast.Name) else ""
                chain = _chain(s, var) if var in reads else None
                if not chain:
                    continue
                states = [[_text(v), _arm(arm, outer)] for v, arm in chain]
                if any(st is None for _v, st in states):
                    return None
                call = reads[var]
                default = kw(call, "default")
                if default is None and len(call.args) > 1:
                    default = call.args[1]
                return {
                    "setting": _text(call.args[0]),
                    "default": _text(default) if default is not None else None,
                    "line": s.lineno,
                    "states": states,
                }
    return None


def state_of(config: dict[str, Any]) -> str:
    """The route's status: the state under the default, else the most permissive one."""
    states = {v: st for v, st in config["states"]}
    default = config.get("default")
    if default is not None:
        hit = states.get(default) or next(
            (st for v, st in states.items() if last(v) == last(default)), None
        )
        if hit:
            return str(hit)
    return min((str(st) for st in states.values()), key=_RANK.__getitem__)


def _flag(node: ast.expr) -> str | None:
    """``settings.LOGIN_REQUIRED`` / ``config.AUTH_ON``: an upper-case setting read."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr.isupper()
        and mentions(node.value, ("settings", "config", "conf"))
    ):
        return node.attr
    return None


def flag_check(top: list[ast.stmt], assigns: dict[str, ast.expr]) -> list[Any] | None:
    """``if settings.LOGIN_REQUIRED and not request.user.is_authenticated: <reject>``.

    A check that applies only while a boolean setting is on: ``[setting, status under
    it, line]``. Whoever knows the setting's default (Django's settings modules) decides.
    """
    for stmt in top:
        if not isinstance(stmt, ast.If):
            continue
        t = stmt.test
        if not (isinstance(t, ast.BoolOp) and isinstance(t.op, ast.And)):
            continue
        flags = [f for v in t.values if (f := _flag(v))]
        rest = [v for v in t.values if not _flag(v)]
        if len(flags) != 1 or not rest:
            continue
        body = block_reject(stmt.body, assigns)
        if body is None or (stmt.orelse and block_reject(stmt.orelse, assigns)):
            continue
        cond = rest[0] if len(rest) == 1 else ast.BoolOp(op=ast.And(), values=rest)
        status = pass_verdict(cond, False, body in ("401", "login", "exc"))
        if status:
            return [flags[0], status, stmt.lineno]
    return None


Where = tuple[str, int, str]


def setting_guard(config: dict[str, Any], file: str, mechanism: str, where: Where) -> Guard:
    """The Guard of a setting-dispatched check: the state under its default, else the most
    permissive one, with every value's state named."""
    states = ", ".join(f"{v} -> {st}" for v, st in config["states"])
    dflt = f"default {config['default']}" if config["default"] else "no default in the code"
    what = f"{mechanism} (depends on setting {config['setting']}: {states}; {dflt})"
    setting = SettingAuth(
        setting=config["setting"],
        default=config["default"],
        states={v: AuthStatus(st) for v, st in config["states"]},
        location=Location(path=file, line=config["line"]),
    )
    return Guard(state_of(config), what, (where,), setting)


def flag_guard(
    flags: dict[str, tuple[bool, str, int, str]],
    file: str,
    flag: list[Any],
    lines: dict[int, str],
    gate: str | None = None,
) -> list[Guard]:
    """A check made only while a boolean setting is on (``flag_check``), or while a stored
    flag has the value ``flag[3]`` (stored_flag.py): its state under the default ``flags``
    (NAME -> default, file, line, text) knows, else unknown. ``gate``: what the check
    admits by when it is not a login (``guards._gate``), named in the mechanism."""
    name, status, line = flag[:3]
    check = f"check in the handler ({gate})" if gate else "check in the handler"
    when = bool(flag[3]) if len(flag) > 3 else True
    where = (file, line, lines.get(line, ""))
    known = flags.get(name)
    state = "on" if when else "off"
    if known is None:
        what = f"{check} only while {name} is {state} (set outside the repository)"
        return [Guard("unknown", what, (where,))]
    value, spath, sline, stext = known
    setting = SettingAuth(
        setting=name,
        default=str(value),
        states={str(when): AuthStatus(status), str(not when): AuthStatus.PUBLIC},
        location=Location(path=file, line=line),
    )
    what = f"{check} while {name} is {state} ({name} defaults to {value})"
    checked = value == when
    return [Guard(status if checked else "public", what, (where, (spath, sline, stext)), setting)]
