"""GraphQL in Python (graphene, strawberry): each root field is an entry point of its own.

A schema (``graphene.Schema(query=Query, mutation=Mutation)``, ``strawberry.Schema(...)``,
or any ``*schema(...)`` builder given them) names its root types; every field of a root
type, its bases' included (followed across files), is one route: method ``QUERY`` or
``MUTATION``, path ``<endpoint>/<Type>.<field>`` where the endpoint is the app's route that
serves GraphQL (else ``/graphql``) and the field is spelled as clients call it (camelCase
unless the schema turns ``auto_camel_case`` off). Without a schema call, classes named
``Query`` / ``Mutation`` are the roots.

Who may call one, outermost first: the endpoint route's own guards (a view that refuses
anonymous callers guards every operation); the field's ``permissions=`` (graphene helpers)
or ``permission_classes=`` (strawberry); a graphene mutation's ``Meta.permissions``; the
resolver's (``resolve_<field>``, a strawberry resolver, the mutation's ``mutate`` /
``perform_mutation``) decorators and its own checks. A mutation that defines or inherits
(from a repository base whose ``mutate`` asks it) ``check_permissions`` decides per
request: ``unknown`` unless its checks are read as a guard.

What answers it: the route's handler is the resolver graphene calls (``_operation``) and its
``params`` the arguments the operation declares (``args.py``), request input the dataflow
engine follows from the resolver's parameters (``dataflow/routeparams.py``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import bool_const, dotted, kw, last, line_text, tree_nodes
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, decide
from threatmodel.frameworks._python.owner import is_caller
from threatmodel.frameworks._python.reject import ROLE_WORDS
from threatmodel.frameworks.graphql.args import class_args, field_args, resolver_args
from threatmodel.frameworks.graphql.endpoint import middleware, views
from threatmodel.models import AuthStatus, Location, Route

ROOTS = (("query", "QUERY"), ("mutation", "MUTATION"))
_FIELD_CALLS = ("field", "mutation", "List", "NonNull", "Argument")
# The methods that answer a mutation (graphene, relay's ClientIDMutation, saleor's base).
_MUTATORS = ("mutate", "mutate_and_get_payload", "perform_mutation")
_RESOLVER_METHODS = (*_MUTATORS, "check_permissions")


# Every alternative starts with a literal (no ``\b`` first), so ``re`` skips in C to the
# positions where one could start: with a leading ``\b`` it tried every position of every
# Python file (a second of saleor's cold scan). A gate may say yes too often, never too rarely.
_RELEVANT = re.compile(
    r"graphene|strawberry|class (?:Query|Mutation)\b|def resolve_\w+\(|GraphQL\w*View\b"
)
_SCHEMA = re.compile("schema", re.IGNORECASE)


def relevant(text: str) -> bool:
    """A graphene / strawberry module, one that assembles the root types from mixins
    (saleor's ``api.py`` imports only the ``graphql`` core), or a mixin of resolvers a root
    type inherits (``def resolve_x(``, no graphene import needed), or one that builds the
    view serving the schema (``GraphQLView.as_view(schema=..., middleware=...)``)."""
    return _RELEVANT.search(text) is not None


def _perm_names(node: ast.AST | None) -> list[str] | None:
    """``permissions=[A, B.c]`` -> ["A", "B.c"]; None when not given."""
    if node is None:
        return None
    elts = node.elts if isinstance(node, ast.List | ast.Tuple | ast.Set) else [node]
    return [dotted(e) or "?" for e in elts]


def _field_call(value: ast.AST | None) -> ast.Call | None:
    """The call that declares a field: ``graphene.String()``, ``X.Field()``, ``BaseField(..)``,
    ``strawberry.field()``, ``strawberry_django.field()``."""
    if not isinstance(value, ast.Call):
        return None
    name = dotted(value.func)
    if name.startswith("graphene.") or last(name).endswith("Field") or last(name) in _FIELD_CALLS:
        return value
    return None


def _class(c: ast.ClassDef, lines: list[str]) -> dict[str, Any] | None:
    fields: list[list[Any]] = []
    meta: list[str] | None = None
    for stmt in c.body:
        target: ast.AST | None = None
        value: ast.AST | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if isinstance(target, ast.Name) and not target.id.startswith("_"):
            call = _field_call(value)
            if call is not None:
                func = dotted(call.func)
                mutation = func[: -len(".Field")] if func.endswith(".Field") else ""
                perms = _perm_names(kw(call, "permissions") or kw(call, "permission_classes"))
                resolver = dotted(kw(call, "resolver"))
                typ = _type_name(stmt.annotation) if isinstance(stmt, ast.AnnAssign) else ""
                args = field_args(call)[0]
                fields.append([target.id, stmt.lineno, mutation, perms, resolver, typ, args])
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in stmt.decorator_list:  # @strawberry.field(permission_classes=[...])
                name = last(dotted(dec))
                if "strawberry" in dotted(dec) and name in ("field", "mutation"):
                    perms = (
                        _perm_names(kw(dec, "permission_classes"))
                        if isinstance(dec, ast.Call)
                        else None
                    )
                    resolver = f"{c.name}.{stmt.name}"
                    args = resolver_args(stmt)
                    fields.append([stmt.name, stmt.lineno, "", perms, resolver, "", args])
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for s in stmt.body:
                if isinstance(s, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "permissions" for t in s.targets
                ):
                    meta = _perm_names(s.value)
    bases = [dotted(b) for b in c.bases if dotted(b)]
    scoped = _scoped(c)
    defs = [n.name for n in c.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    resolves = any(d.startswith("resolve_") for d in defs)  # a mixin of resolvers
    if not fields and meta is None and not bases and scoped is None and not resolves:
        return None
    methods = [
        n.name
        for n in c.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name in _RESOLVER_METHODS
    ]
    return {
        "bases": bases,
        "fields": fields,
        "meta": meta,
        "methods": methods,
        "defs": defs,
        "arguments": class_args(c),
        "line": c.lineno,
        "text": line_text(lines, c.lineno),
        "scoped": [scoped, line_text(lines, scoped)] if scoped else None,
    }


def _type_name(annotation: ast.expr) -> str:
    """``list[CircuitType]`` / ``Optional[CircuitType]`` / ``CircuitType``: the type named."""
    node = annotation
    while isinstance(node, ast.Subscript):
        node = node.slice
    return dotted(node)


def _scoped(c: ast.ClassDef) -> int | None:
    """The line of a type's ``get_queryset`` that filters its rows by the caller
    (strawberry-django's hook: ``queryset.restrict(info.context.request.user, "view")``)."""
    for fn in c.body:
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.name == "get_queryset":
            for n in ast.walk(fn):
                if isinstance(n, ast.Call) and any(
                    is_caller(a) for a in [*n.args, *(k.value for k in n.keywords)]
                ):
                    return n.lineno
    return None


def walks_module(text: str) -> bool:
    """Will ``extract`` list the whole module (``tree_nodes``)? Only for schema calls.

    A schema call's callee ends in "schema" (any case): a file that never says so (or an
    NFKC look-alike, which only non-ASCII text can hold) has none.
    """
    return _SCHEMA.search(text) is not None or not text.isascii()


def extract(tree: ast.Module, src: SourceFile) -> dict[str, Any] | None:
    lines = src.lines
    lib = "strawberry" if "strawberry" in src.text else "graphene"
    d: dict[str, Any] = {"classes": {}, "schemas": [], "lib": lib}
    for c in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        info = _class(c, lines)
        if info is not None:
            d["classes"][c.name] = info
    nodes = list(tree_nodes(tree)) if walks_module(src.text) else []
    if served := views(tree, nodes):
        d["views"] = served
    for node in nodes:
        if isinstance(node, ast.Call) and last(dotted(node.func)).lower().endswith("schema"):
            roots = {k: dotted(kw(node, k)) for k, _m in ROOTS if dotted(kw(node, k))}
            if "query" not in roots and node.args and dotted(node.args[0]):
                roots["query"] = dotted(node.args[0])
            if roots:
                camel = True
                for sub in ast.walk(node):
                    for k in ("auto_camel_case", "auto_camelcase"):
                        if isinstance(sub, ast.Call) and bool_const(kw(sub, k)) is False:
                            camel = False
                d["schemas"].append([roots, camel])
    return d if d["classes"] or d["schemas"] or served else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _perm_guard(names: list[str], where: tuple[str, int, str], what: str) -> Guard:
    """Permissions a field or mutation declares: a login alone, or a role / permission."""
    if not names:
        return Guard("public", f"{what} empty", (where,))
    login_only = all(
        re.search(r"authenticated(_user)?$|isauthenticated$", last(n).lower()) for n in names
    )
    short = ", ".join(sorted({last(n) for n in names}))
    if login_only:
        return Guard(AuthStatus.AUTHENTICATED.value, f"{what} {short}", (where,))
    if any(any(w in n.lower() for w in ROLE_WORDS) for n in names) or "." in "".join(names):
        return Guard(AuthStatus.RESTRICTED.value, f"{what} {short}", (where,))
    return Guard("unknown", f"{what} {short} (not analysed)", (where,))


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    gq = {p: d["graphql"] for p, d in extracts.items()}
    classes = {(p, n): v for p, d in gq.items() for n, v in d["classes"].items()}

    def find(file: str, name: str) -> tuple[str, str] | None:
        if (file, name) in classes:
            return (file, name)
        target, symbol, _ = resolver.resolve(file, name)
        return (target, symbol) if target and (target, symbol) in classes else None

    roots: list[tuple[str, tuple[str, str], bool]] = []
    for p, d in sorted(gq.items()):
        for names, camel in d["schemas"]:
            for k, method in ROOTS:
                if k in names and (ck := find(p, names[k])) is not None:
                    roots.append((method, ck, camel))
    if not roots:
        roots = [(m, k, True) for k in sorted(classes) for n, m in ROOTS if k[1] == n.title()]
    endpoint = next(
        (r for r in out.routes if "graphql" in r.path.lower() and r.method in ("ANY", "POST")),
        None,
    )
    outer = [_endpoint_guard(endpoint)] if endpoint else []
    out.middleware += middleware({p: d.get("views", []) for p, d in gq.items()}, out.routes)
    base = endpoint.path.rstrip("/") if endpoint else "/graphql"
    seen: set[str] = set()
    for method, root, camel in roots:
        for fp, cls, field in _fields(root, classes, find):
            name = _camel(field[0]) if camel else field[0]
            rid = f"{method} {base}/{root[1]}.{name}"
            if rid in seen:
                continue
            seen.add(rid)
            gs = [*outer, *_field_guards(fp, cls, field, classes, find, guards)]
            handler, params = _operation(fp, cls, field, classes, find, resolver)
            out.routes.append(
                Route(
                    id=rid,
                    method=method,
                    path=f"{base}/{root[1]}.{name}",
                    framework=gq[fp]["lib"],
                    handler=handler,
                    location=Location(path=fp, line=field[1]),
                    auth=decide(gs),
                    params=params,
                )
            )


def _module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _operation(
    fp: str,
    cls: str,
    field: list[Any],
    classes: Mapping[tuple[str, str], Any],
    find: Any,
    resolver: Resolver,
) -> tuple[str, dict[str, str]]:
    """The function that answers an operation (``module.Class.method``) and the arguments
    its caller writes (``args.py``): a mutation's ``mutate`` (``mutate_and_get_payload``,
    ``perform_mutation``: the nearest class of its chain that defines one) with its
    ``Arguments``; a field's ``resolver=``, else ``resolve_<field>`` of the root type or the
    nearest base defining it, with the field call's arguments. Without a resolver of the
    repository's (graphene's default reads an attribute), the field itself."""
    name, _line, mutation, _perms, resolver_name, _typ, args = field
    here = f"{_module(fp)}.{cls}.{name}"
    if mutation and (mk := find(fp, mutation)) is not None:  # not ``graphene.Field()``
        chain = _chain(mk, classes, find)
        given = (i.get("arguments") for _k, i in chain)
        declared: dict[str, str] = next((a for a in given if a is not None), {})
        for key, info in chain:
            method = next((m for m in _MUTATORS if m in info["methods"]), None)
            if method:
                return f"{_module(key[0])}.{key[1]}.{method}", declared
        return here, declared
    if resolver_name:
        target, symbol, _ = resolver.resolve(fp, resolver_name)
        return (f"{_module(target)}.{symbol}" if target else here), args
    for key, info in _chain((fp, cls), classes, find):
        if f"resolve_{name}" in info["defs"]:
            return f"{_module(key[0])}.{key[1]}.resolve_{name}", args
    return here, args


def _endpoint_guard(route: Route) -> Guard:
    ev = tuple((e.path, e.start_line, e.snippet) for e in route.auth.evidence)
    status = route.auth.status.value
    mech = f"GraphQL endpoint {route.path}: {route.auth.mechanism}" if route.auth.mechanism else ""
    return Guard(status if status != "public" else "public", mech, ev)


def _fields(
    root: tuple[str, str], classes: Mapping[tuple[str, str], Any], find: Any
) -> list[tuple[str, str, list[Any]]]:
    """Every field of a root type and of its bases (a subclass's own first)."""
    return [(k[0], k[1], f) for k, info in _chain(root, classes, find) for f in info["fields"]]


def _field_guards(
    fp: str,
    cls: str,
    field: list[Any],
    classes: Mapping[tuple[str, str], Any],
    find: Any,
    guards: GuardTable,
) -> list[Guard]:
    name, line, mutation, perms, resolver_name, typ, _args = field
    text = classes[(fp, cls)]["text"]
    where = (fp, line, text)
    gs: list[Guard] = []
    if perms is not None:
        gs.append(_perm_guard(perms, where, "permissions"))
    if mutation and (mk := find(fp, mutation)) is not None:
        info = classes[mk]
        mwhere = (mk[0], info["line"], info["text"])
        if info["meta"] is not None:
            gs.append(_perm_guard(info["meta"], mwhere, f"{mk[1]}.Meta.permissions"))
        for m in info["methods"]:
            gs += _method_guards(guards, mk[0], f"{mk[1]}.{m}")
        # A ``check_permissions`` of the mutation or of a repository base it inherits
        # (the base's ``mutate`` asks it on every call, against permission maps or the
        # object at hand): who may call is decided per request, not declared here.
        hook = next(
            (k for k, i in _chain(mk, classes, find) if "check_permissions" in i["methods"]), None
        )
        if hook is not None and not any(g.status in ("authenticated", "restricted") for g in gs):
            gs.append(Guard("unknown", f"{hook[1]}.check_permissions() decides per request", ()))
        return gs
    if typ and (scoped := _scoped_by(fp, typ, classes, find)) is not None:
        gs.append(scoped)
    resolvers = [resolver_name] if resolver_name else [f"{cls}.resolve_{name}"]
    for r in resolvers:
        rfile, rsym, _ = guards.r.resolve(fp, r)
        gs += _method_guards(guards, rfile or fp, rsym if rfile else r)
    return gs


def _scoped_by(
    fp: str, typ: str, classes: Mapping[tuple[str, str], Any], find: Any
) -> Guard | None:
    """The field's type (or a base of it) returns only rows the caller may see."""
    start = find(fp, typ)
    for key, info in _chain(start, classes, find) if start else []:
        if info.get("scoped"):
            line, text = info["scoped"]
            what = f"{key[1]}.get_queryset filters rows by the caller"
            return Guard("restricted", what, ((key[0], line, text),))
    return None


def _chain(
    root: tuple[str, str], classes: Mapping[tuple[str, str], Any], find: Any
) -> list[tuple[tuple[str, str], Any]]:
    """The class and its bases that have extracts, nearest first."""
    out: list[tuple[tuple[str, str], Any]] = []
    stack, done = [root], set[tuple[str, str]]()
    while stack and len(done) <= 500:
        key = stack.pop(0)
        if key in done:
            continue
        done.add(key)
        out.append((key, classes[key]))
        stack += [b for name in classes[key]["bases"] if (b := find(key[0], name)) is not None]
    return out


def _method_guards(guards: GuardTable, file: str, qual: str) -> list[Guard]:
    """A resolver's decorators (followed to their definitions) and its own checks."""
    cls_name, _, method = qual.rpartition(".")
    info = guards.r.extracts.get(file, {}).get("classes", {}).get(cls_name, {})
    decs = info.get("method_decs", {}).get(method, []) if cls_name else []
    if not cls_name:
        decs = (
            guards.r.extracts.get(file, {}).get("functions", {}).get(qual, {}).get("decorators", [])
        )
    gs = []
    for callee, dline, dtext, *_rest in decs:
        g = guards.as_guard(file, callee, f"decorator @{callee}", (file, dline, dtext))
        if g:
            gs.append(g)
    return gs + guards.handler_guards(file, qual)
