"""What admits a caller to a public handler's writes besides an auth guard.

Two by-design shapes of "a write with no login", read from the handler's code:

- **A first-run gate.** A handler whose writes all sit under a test of a persistent
  "already installed / set up / configured" state (``if not config.is_setup():`` ...
  ``return redirect(...)``; or ``if is_installed(): abort(403)`` before the writes) is a
  one-time bootstrap endpoint: once the app is set up it refuses. It is still exposed until
  the operator finishes setup (whoever reaches the instance first claims it), which is a
  deployment question the code cannot answer. ``steady_prune`` says which branches cannot
  run once the state is set; ``collect.effects`` scans the handler twice (as written, and
  in the steady state) and records the gate when only the first finds writes.
- **A capability URL.** A route whose path carries a parameter the framework admits only
  as a UUID (``<uuid:code>``, ``{code:uuid}``, FastAPI ``code: UUID``) and which the handler
  hands to a lookup is addressed by a secret 122 random bits long: whoever holds the link
  was given it (a delivery callback, a ping URL). So is one the handler matches against a
  stored key (``Project.objects.get(ping_key=ping_key)``): the value is the credential.
  ``capability_key`` names that parameter.

The words of the first-run vocabulary are general (setup, install, configure, initialise,
bootstrap, onboard), like the auth-endpoint words of TM101: no application's names.
"""

from __future__ import annotations

import ast
import re

from threatmodel.code.pyast import dotted, str_const
from threatmodel.code.urlpattern import pattern_converters
from threatmodel.dataflow.urlparams import path_converters, validates_annotations
from threatmodel.models import Location

Fn = ast.FunctionDef | ast.AsyncFunctionDef

_STATE = r"(?:setup|set_up|installed|configured|initiali[sz]ed|bootstrapped|onboarded)"
_DONE = r"(?:_(?:complete|completed|done|finished))?"
# Names whose truth means "the app is already set up".
_SET_UP = re.compile(
    rf"^(?:(?:is|has|was|has_been|already)_)?{_STATE}{_DONE}$"
    r"|^(?:setup|install|installation|onboarding|bootstrap|initiali[sz]ation)"
    r"_(?:complete|completed|done|finished)$"
)
# Names whose truth means "the app is not set up yet".
_NOT_SET_UP = re.compile(
    r"^(?:needs?|requires?|pending)_(?:setup|install|installation|onboarding|bootstrap)$"
    r"|^(?:is_)?first_run$"
)
# Receivers whose state belongs to one caller or one object, not to the installation.
PER_CALLER = frozenset(
    {"request", "req", "user", "current_user", "self", "session", "profile", "account", "g"}
)
UUID_CONVERTERS = frozenset({"uuid"})
NUMERIC_CONVERTERS = frozenset({"int", "float"})
# A stored field holding a credential: ``ping_key``, ``api_key``, ``token``, ``secret``.
_SECRET_FIELD = re.compile(r"^(?:\w+_)?(?:key|token|secret)$")
# Fields named "key" that identify rather than authenticate.
NOT_SECRET_KEYS = frozenset(
    {"primary_key", "natural_key", "sort_key", "cache_key", "lookup_key", "idempotency_key"}
)
UUID_TYPES = frozenset({"UUID", "UUID1", "UUID3", "UUID4", "UUID5", "uuid.UUID", "UUID4Str"})


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def set_up_test(test: ast.expr) -> bool | None:
    """True when ``test`` holds exactly once the app is set up, False when it holds exactly
    before, None when it is not about that state. ``not``, ``is True/False``, ``== False``
    and ``bool(...)`` are read through."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = set_up_test(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        right = test.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, bool):
            inner = set_up_test(test.left)
            op = test.ops[0]
            if inner is None or not isinstance(op, ast.Is | ast.Eq | ast.IsNot | ast.NotEq):
                return None
            positive = isinstance(test.ops[0], ast.Is | ast.Eq) == right.value
            return inner if positive else not inner
        return None
    if isinstance(test, ast.Call):
        if dotted(test.func) == "bool" and len(test.args) == 1:
            return set_up_test(test.args[0])
        if test.args or test.keywords:
            return None  # a predicate of an argument, not of the app's state
        test = test.func
    parts = dotted(test).split(".") if dotted(test) else []
    if not parts or {p.lower() for p in parts[:-1]} & PER_CALLER:
        return None  # the caller's own state (``user.is_configured``), not the app's
    name = _snake(parts[-1])
    if _SET_UP.match(name):
        return True
    if _NOT_SET_UP.match(name):
        return False
    return None


def _leaves(body: list[ast.stmt]) -> bool:
    """The block always leaves the handler (return, raise, ``abort(...)``)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Return | ast.Raise):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return dotted(last.value.func).rsplit(".", 1)[-1] in ("abort", "exit")
    return False


def steady_prune(node: ast.AST) -> tuple[list[ast.AST], ast.expr | None]:
    """The children of ``node`` that can run once the app is set up, and the first-run test
    that ruled others out (None when nothing was pruned)."""
    if isinstance(node, ast.If):
        state = set_up_test(node.test)
        if state is not None:
            kept = node.body if state else node.orelse
            return [node.test, *kept], node.test
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if not isinstance(block, list):
            continue
        for i, stmt in enumerate(block):
            # ``if is_set_up(): return redirect(...)``: what follows runs only before setup
            if isinstance(stmt, ast.If) and set_up_test(stmt.test) is True and _leaves(stmt.body):
                rest = [c for c in ast.iter_child_nodes(node) if c not in block[i + 1 :]]
                return rest, stmt.test
    return list(ast.iter_child_nodes(node)), None


def capability_key(
    fn: Fn,
    route_call: ast.Call | None,
    lines: list[str],
    params: dict[str, str] | None = None,
) -> str | None:
    """The path parameter the handler looks its object up by as a secret, or None: a
    UUID-typed one looked up at all, or any non-numeric one looked up by a field named as
    a key (``Project.objects.get(ping_key=ping_key)``, ``filter(project__api_key=key)``).

    ``params``: the route's captures (``Route.params``), with those of an ``include()``
    prefix that the pattern at ``route_call`` does not show."""
    converters = {**(params or {}), **path_converters(fn)}
    pattern = str_const(route_call.args[0]) if route_call is not None else None
    if pattern:  # the URL pattern declared apart from the handler (Django's urls.py)
        converters = {**pattern_converters(pattern), **converters}
    uuid_params = {n for n, c in converters.items() if c in UUID_CONVERTERS}
    if validates_annotations(lines):  # FastAPI refuses a value that is not a UUID
        for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
            typed = a.annotation is not None and ast.unparse(a.annotation) in UUID_TYPES
            if typed and a.arg in converters:
                uuid_params.add(a.arg)
    for name in sorted(uuid_params):
        if _looked_up_by(fn, name):
            return name
    for name in sorted(converters):
        if converters[name] not in NUMERIC_CONVERTERS and _looked_up_as_secret(fn, name):
            return name
    return None


def _looked_up_as_secret(fn: Fn, name: str) -> bool:
    """``name`` is matched against a stored secret: passed as a lookup keyword whose field
    is named as a key or token (``get(ping_key=name)``, ``filter(project__api_key=name)``);
    the object is found only by whoever holds the value."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            for k in node.keywords:
                field = (k.arg or "").rsplit("__", 1)[-1]
                named = isinstance(k.value, ast.Name) and k.value.id == name
                if named and _SECRET_FIELD.match(field) and field not in NOT_SECRET_KEYS:
                    return True
    return False


def _looked_up_by(fn: Fn, name: str) -> bool:
    """``name`` is passed to a call (``Model.objects.get(code=name)``, ``get_or_404(...)``)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            values = [*node.args, *(k.value for k in node.keywords)]
            if any(isinstance(v, ast.Name) and v.id == name for v in values):
                return True
    return False


def call_at(tree: ast.Module | None, line: int) -> ast.Call | None:
    """The call that starts at ``line`` with a string first argument (a URL pattern)."""
    if tree is None:
        return None
    for node in ast.walk(tree):
        is_call = isinstance(node, ast.Call) and node.lineno == line and bool(node.args)
        if is_call and str_const(node.args[0]) is not None:  # type: ignore[attr-defined]
            return node  # type: ignore[return-value]
    return None


def branch_nodes(fn: ast.AST, method: str, steady: bool = False) -> list[ast.AST]:
    """The function's nodes, without the branches ``if request.method == "X"`` rules out for
    a route serving ``method`` (one handler often serves GET and POST) and, ``steady``,
    without those that run only before the app is set up (``steady_prune``)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [fn]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and method != "ANY":
            wanted = _method_test(node.test)
            if wanted is not None:
                stack.append(node.test)
                stack.extend(node.body if method in wanted else node.orelse)
                continue
        if steady:
            stack.extend(steady_prune(node)[0])
        else:
            stack.extend(ast.iter_child_nodes(node))
    return out


def first_run_test(fn: ast.AST) -> ast.expr | None:
    """The first test of the app's set-up state in ``fn`` (None: the handler has none)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.If) and set_up_test(node.test) is not None:
            return node.test
    return None


def _method_test(test: ast.expr) -> set[str] | None:
    """``request.method == "POST"`` / ``in ("POST", "PUT")`` -> the methods it admits."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    if not dotted(test.left).endswith("method"):
        return None
    right = test.comparators[0]
    values = right.elts if isinstance(right, ast.Tuple | ast.List | ast.Set) else [right]
    names = {v.upper() for e in values if (v := str_const(e)) is not None}
    if not names:
        return None
    if isinstance(test.ops[0], ast.Eq | ast.In):
        return names
    if isinstance(test.ops[0], ast.NotEq | ast.NotIn):
        return {m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") if m not in names}
    return None


def by_design(
    route_id: str,
    first_run: Location | None,
    capability: str | None,
    contact: Location | None = None,
) -> str | None:
    """Why a public route's writes are not a missing guard, or None.

    Said as "needs review", not refuted: a bootstrap endpoint is open until setup is done,
    a capability URL is only as secret as the places its link is sent to, and a contact
    form (``contact``: its only write mails the app's own configured address) can still
    flood the operator's inbox."""
    if first_run is not None:
        return (
            f"{route_id} writes only while the app is not yet set up (first-run gate at "
            f"{first_run.path}:{first_run.line}); once set up it refuses: a one-time "
            "bootstrap endpoint, open to whoever reaches the instance before setup is finished"
        )
    if capability is not None:
        return (
            f"{route_id} is addressed by {{{capability}}}, a secret the handler looks its "
            "object up by (admitted only as a UUID, or matched against a stored key): a "
            "capability URL (whoever holds the link may call it), by design unless the link "
            "is exposed"
        )
    if contact is not None:
        return (
            f"{route_id} only mails the app's own configured address ({contact.path}:"
            f"{contact.line}): a contact form, public by design; the caller reaches the "
            "operator and nobody else (no relay), at most flooding that inbox"
        )
    return None
