"""What a route's handler does: the writes and outbound side effects in its code.

"Changes data" is decided by effects, never by the HTTP method: a handler changes data when
its code (or a function of the repository it calls, a few calls deep) writes to a database,
a file or storage, or triggers an outbound side effect (email, SMS, payment, a paid API).
Effects are one catalog row per callee pattern (``effects_catalog.EFFECTS``). A handler
that checks a webhook signature (``hmac.compare_digest``, ``stripe.Webhook.construct_event``)
records that as a ``signature`` guard: its caller is authenticated by the signature.

The handler's code is found from the route fact: the function at (or just below) the route's
line, else the dotted handler name resolved to a module of the repository. ``None`` means the
code could not be located: the effect link of a proof is then missing, not absent.
JavaScript / TypeScript handlers are read by ``effects_js``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from threatmodel.code.pyast import dotted, str_const
from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects_catalog import (
    BODY,
    DATA_WRITES,
    DEPTH,
    SCRATCH_PATH,
    SIDE_EFFECTS,
    SIGNATURE,
    TOKEN_NAME,
    URL_TYPES,
    classify_call,
    destructive,
)
from threatmodel.collect.effects_files import Fn, code_files, functions, parsed
from threatmodel.collect.handler_gates import (
    branch_nodes,
    call_at,
    capability_key,
    first_run_test,
)
from threatmodel.collect.recipients import py_to_operator
from threatmodel.frameworks._python.guards import issues_call
from threatmodel.models import Location, Route


@dataclass(frozen=True)
class Effect:
    kind: str  # db_write | file_write | storage | email | sms | payment | paid_api | outbound
    call: str  # the callee as written
    location: Location
    destructive: bool = False  # deletes or overwrites existing data (delete, update, DROP)
    # An e-mail only to the app's own configured address (``collect.recipients``).
    to_operator: bool = False
    # Every value the write sets is made by the server (a clock, a constant, a counter's
    # SQL): a visit recorded, not data a caller chose.
    bookkeeping: bool = False


@dataclass(frozen=True)
class HandlerCode:
    """A handler's code, as far as it could be read, and what it does."""

    name: str
    location: Location
    effects: list[Effect] = field(default_factory=list)
    signature: Location | None = None  # where it verifies a webhook signature
    # where it hands the request to an authentication library (``NextAuth(req, res, ...)``)
    sign_in: Location | None = None
    reads_body: bool = True  # reads a request body / form / upload (False: only URL parts)
    wrapper: str | None = None  # a decorator / wrapper whose checks were not analysed
    # Where a first-run gate is tested, when every write runs only before the app is set up.
    first_run: Location | None = None
    # The UUID-typed path parameter the handler looks its object up by (a capability URL).
    capability: str | None = None

    @property
    def writes(self) -> list[Effect]:
        """Effects that change data or trigger a side effect for the operator (not spending
        on a paid API: that is cost abuse; not a call to another service, whose effect the
        code does not show)."""
        return [e for e in self.effects if e.kind in DATA_WRITES or e.kind in SIDE_EFFECTS]

    @property
    def contact(self) -> Location | None:
        """Where it mails the operator, when every write is such a mail (a contact form)."""
        writes = self.writes
        if writes and all(e.kind == "email" and e.to_operator for e in writes):
            return writes[0].location
        return None

    @property
    def data_writes(self) -> list[Effect]:
        return [e for e in self.effects if e.kind in DATA_WRITES]

    @property
    def paid(self) -> list[Effect]:
        return [e for e in self.effects if e.kind in ("paid_api", "sms")]


def _defs(tree: ast.Module) -> dict[str, Fn]:
    """Module-level functions and ``Class.method`` names."""
    out: dict[str, Fn] = {}
    for node in tree.body:
        if isinstance(node, Fn):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, Fn):
                    out[f"{node.name}.{sub.name}"] = sub
    return out


WRITE_METHODS: tuple[str, ...] = ("post", "put", "patch", "delete", "create", "update")
WRITE_METHODS += ("destroy", "perform_create", "perform_update", "perform_destroy", "form_valid")


def _find_handler(reader: RepoReader, route: Route) -> tuple[str, list[Fn]] | None:
    """The handler's file and functions: at the route's line, else by its dotted name."""
    path, line = route.location.path, route.location.line
    if path.endswith(".py"):
        for first, node in functions(reader, path):
            if first <= line <= node.lineno:
                return path, [node]
    parts = [p for p in re.split(r"[.:]", route.handler) if p]
    for cut in range(len(parts) - 1, 0, -1):
        module, names = ".".join(parts[:cut]).replace("/", "."), parts[cut:]
        for f in reader.python_modules.files_of(module, route.location.path):
            tree = parsed(reader, f)
            if tree is None:
                continue
            defs = _defs(tree)
            want = ".".join(names)
            if want in defs:
                return f, [defs[want]]
            if len(names) == 1:  # a class-based view: its write methods
                method = route.method.lower()
                own = defs.get(f"{names[0]}.{method}")
                if own is not None:
                    # the route is this one method's (``GET /orders`` is ``get``): the view's
                    # ``post`` is the POST route's handler, with its own guard
                    return f, [own]
                # a GET runs none of the write hooks (``perform_create``, ``form_valid``)
                hooks = () if method in ("get", "head", "options") else WRITE_METHODS
                fns = [
                    fn
                    for k, fn in defs.items()
                    if k.startswith(names[0] + ".") and k.split(".", 1)[1] in (method, *hooks)
                ]
                if fns:
                    return f, fns
    return None


_IMPORTS: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}


def _imports(tree: ast.Module, path: str, reader: RepoReader) -> dict[str, tuple[str, str]]:
    """Local name -> (file, function) for ``from repo.module import f``, and ``m.f`` ->
    (file, function) for ``import repo.module as m`` (each function the module defines).

    Once per file (``tree`` is ``parsed(reader, path)``): every handler and callee read in
    that file asks again."""
    key = (str(reader.root), path)
    if key not in _IMPORTS:
        _IMPORTS[key] = _read_imports(tree, path, reader)
    return _IMPORTS[key]


def _read_imports(tree: ast.Module, path: str, reader: RepoReader) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    modules = reader.python_modules
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            file = modules.file_of(node.module, path, node.level)
            for a in node.names:
                if file:
                    out[a.asname or a.name] = (file, a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                file = modules.file_of(a.name, path)
                if not file:
                    continue
                mod = parsed(reader, file)
                local = a.asname or a.name
                for name in _defs(mod) if mod is not None else ():
                    out[f"{local}.{name}"] = (file, name)
    return out


def python_handler(reader: RepoReader, route: Route) -> HandlerCode | None:
    found = _find_handler(reader, route)
    if found is None:
        return None
    path, fns = found
    effects: list[Effect] = []
    signature: list[Location] = []
    sign_in: list[Location] = []
    seen: set[tuple[str, str]] = set()
    for fn in fns:
        _scan(reader, path, fn, 0, effects, signature, seen, route.method, sign_in=sign_in)
    first = fns[0]
    tree = parsed(reader, path)
    return HandlerCode(
        name=first.name,
        location=Location(path=path, line=first.lineno),
        effects=ordered(_unique(effects), path),
        signature=signature[0] if signature else None,
        sign_in=sign_in[0] if sign_in else None,
        reads_body=any(_reads_body(fn) for fn in fns),
        # A function decorator of the repository is read by the route collectors (pyguards):
        # its verdict is in the route's auth. Class decorators and router classes are not.
        wrapper=_owner_wrapper(tree, fns[0]),
        first_run=_first_run(reader, path, fns, route.method, effects),
        capability=capability_key(
            first,
            call_at(parsed(reader, route.location.path), route.location.line),
            reader.lines(path),
            route.params,
        ),
    )


def _first_run(
    reader: RepoReader, path: str, fns: list[Fn], method: str, effects: list[Effect]
) -> Location | None:
    """Where the handler tests the app's set-up state, when every write it makes runs only
    before setup (scanned again in the steady state: the first-run branches left out)."""
    tests = [t for fn in fns if (t := first_run_test(fn)) is not None]
    if not tests or not any(e.kind in DATA_WRITES or e.kind in SIDE_EFFECTS for e in effects):
        return None
    steady: list[Effect] = []
    for fn in fns:
        _scan(reader, path, fn, 0, steady, [], set(), method, steady=True)
    if any(e.kind in DATA_WRITES or e.kind in SIDE_EFFECTS for e in steady):
        return None
    return Location(path=path, line=tests[0].lineno)


_PLAIN_ROUTERS = frozenset(
    {"APIRouter", "Blueprint", "Flask", "FastAPI", "Router", "web.Application"}
)


def _owner_wrapper(tree: ast.Module | None, fn: Fn) -> str | None:
    """A class-based controller's decorator (``@controller(router)``), or a router made by a
    class of the repository (``router = UserAPIRouter(...)``): both may add auth dependencies
    this analysis does not read."""
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and fn in node.body and node.decorator_list:
            d = node.decorator_list[0]
            return dotted(d.func if isinstance(d, ast.Call) else d) or None
    routers = {
        t.id: dotted(n.value.func)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for d in fn.decorator_list:
        base = dotted(d.func if isinstance(d, ast.Call) else d).split(".", 1)[0]
        made_by = routers.get(base, "")
        if made_by and made_by.rsplit(".", 1)[-1] not in _PLAIN_ROUTERS and made_by[:1].isupper():
            return made_by
    return None


def _reads_body(fn: Fn) -> bool:
    """The handler reads what the caller sends beyond the URL: ``request.json``, a form, an
    upload, or (FastAPI) a parameter typed with a model, which the framework fills from the
    body. Class-based views and serializers read it implicitly: a method of a class counts."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and BODY.match(dotted(node)):
            return True
        if isinstance(node, ast.Name) and node.id in ("serializer", "form", "serializer_class"):
            return True
    args = fn.args
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        ann = dotted(a.annotation) if a.annotation is not None else ""
        if ann and ann not in URL_TYPES and ann[:1].isupper() and a.arg not in ("self", "cls"):
            return True
    return False


def _scan(
    reader: RepoReader,
    path: str,
    fn: Fn,
    depth: int,
    effects: list[Effect],
    signature: list[Location],
    seen: set[tuple[str, str]],
    method: str = "ANY",
    steady: bool = False,
    sign_in: list[Location] | None = None,
) -> None:
    """``sign_in``: where the code logs the caller in or issues them a session token
    (``guards.issues_call``), a few calls deep: a sign-in endpoint, public by design."""
    seen.add((path, f"{fn.name}:{fn.lineno}"))
    tree = parsed(reader, path) if depth < DEPTH else None
    defs = _defs(tree) if tree is not None else {}
    imported = _imports(tree, path, reader) if tree is not None else {}
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    for node in branch_nodes(fn, method, steady):
        if isinstance(node, ast.Compare) and _compares_token(node, params):
            signature.append(Location(path=path, line=node.lineno))
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        where = Location(path=path, line=node.lineno)
        if SIGNATURE.search(name):
            signature.append(where)
        if sign_in is not None and issues_call(name):
            sign_in.append(where)
        kind = classify_call(name, node)
        if kind == "file_write" and node.args and _scratch(node.args[0], fn):
            continue
        if kind is not None and node.args and _in_memory(node.args[0], fn):
            continue  # ``img.save(buffer)``: bytes kept in memory (an image to inline)
        if kind is not None:
            first = str_const(node.args[0]) if node.args else None
            wipes = destructive(kind, name, first)
            mine = kind == "email" and py_to_operator(name, node)
            effects.append(Effect(kind, name, where, destructive=wipes, to_operator=mine))
            continue
        if tree is None:
            continue
        target = _callee(name, defs, imported, fn)
        if target is None:
            continue
        tpath, tfn = target if isinstance(target, tuple) else (path, target)
        if tpath != path:
            ttree = parsed(reader, tpath)
            tfn_node = _defs(ttree).get(tfn) if ttree is not None and isinstance(tfn, str) else None
        else:
            tfn_node = tfn if not isinstance(tfn, str) else None
        if tfn_node is not None and (tpath, f"{tfn_node.name}:{tfn_node.lineno}") not in seen:
            _scan(
                reader,
                tpath,
                tfn_node,
                depth + 1,
                effects,
                signature,
                seen,
                method,
                steady,
                sign_in,
            )


def _scratch(target: ast.expr, fn: Fn) -> bool:
    """The written path names a cache or temp folder, following local assignments."""
    values: dict[str, str] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            t = node.targets[0]
            if isinstance(t, ast.Name):
                values[t.id] = ast.unparse(node.value)
    text = ast.unparse(target)
    for _ in range(3):
        text += " " + " ".join(values.get(n, "") for n in re.findall(r"\w+", text))
    return bool(SCRATCH_PATH.search(text))


_BUFFERS = frozenset({"BytesIO", "StringIO"})


def _in_memory(target: ast.expr, fn: Fn) -> bool:
    """The call writes into an in-memory buffer (``io.BytesIO()``, or a name the function
    assigned one to): nothing is stored, whatever the method's name says."""
    if isinstance(target, ast.Call):
        return dotted(target.func).rsplit(".", 1)[-1] in _BUFFERS
    if not isinstance(target, ast.Name):
        return False
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == target.id for t in node.targets)
        and isinstance(node.value, ast.Call)
        and dotted(node.value.func).rsplit(".", 1)[-1] in _BUFFERS
        for node in ast.walk(fn)
    )


def _compares_token(node: ast.Compare, params: set[str]) -> bool:
    """``if channel.make_token() == token``: a token from the request checked against one
    the server computes (a capability link)."""
    sides = [node.left, *node.comparators]
    return (
        any(isinstance(s, ast.Name) and s.id in params and TOKEN_NAME.search(s.id) for s in sides)
        and len(sides) == 2
    )


def _callee(
    name: str, defs: dict[str, Fn], imported: dict[str, tuple[str, str]], fn: Fn
) -> Fn | tuple[str, str] | None:
    """A call into the repository's own code: same-module function, self.method, import."""
    if name in defs:
        return defs[name]
    if name.startswith(("self.", "cls.")):
        method = name.split(".", 1)[1]
        owners = [k for k, v in defs.items() if v is fn and "." in k]
        if owners:
            key = f"{owners[0].split('.', 1)[0]}.{method}"
            return defs.get(key)
    if name in imported:
        return imported[name]
    return None


def ordered(effects: list[Effect], path: str) -> list[Effect]:
    """The handler's own file first, then by place: deterministic whatever the walk order."""
    return sorted(
        effects, key=lambda e: (e.location.path != path, e.location.path, e.location.line)
    )


def _unique(effects: list[Effect]) -> list[Effect]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for e in effects:
        key = (e.call, e.location.path, e.location.line)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


_HANDLERS: dict[tuple[str, str, str, int, str], HandlerCode | None] = {}


def handler_code(reader: RepoReader, route: Route) -> HandlerCode | None:
    """The route's handler and its effects, or None when its code cannot be located.

    Memoised per repository and route: the rule and the verifier both ask.
    """
    key = (str(reader.root), route.method, route.location.path, route.location.line, route.handler)
    if key not in _HANDLERS:
        _HANDLERS[key] = _handler_code(reader, route)
    return _HANDLERS[key]


def _handler_code(reader: RepoReader, route: Route) -> HandlerCode | None:
    if route.handler.endswith(".py") or route.location.path.endswith(".py"):
        return python_handler(reader, route)
    from threatmodel.collect.effects_js import js_handler

    if route.location.path.endswith((".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs")):
        return js_handler(reader, route, code_files(reader))
    return python_handler(reader, route)
