"""Calls: sinks met, sanitizers, sources, container methods, and calls into the repo's code.

A call's result carries its receiver's and arguments' labels unless the callee is known
better: a catalog sanitizer marks the result safe for its kinds; a numeric conversion drops
injection taint; ``os.getenv`` / ``cursor.fetchone`` make config / database values; a
function that may be the repository's own becomes a ``call`` label that link() resolves
with the callee's summary (parameter -> return), so a wrapper returning a constant is clean.
"""

from __future__ import annotations

import ast
import sys

from threatmodel.dataflow import consts, containers, pyclass, pyspecial, regex, urlhead
from threatmodel.dataflow.assign import RESPONSES
from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import CallRec, Frame, Hit, dotted, qualify, reread_key
from threatmodel.dataflow.patterns import check_patterns, random_source
from threatmodel.dataflow.pyexpr import (
    OWN_ORIGIN_METHODS,
    PATH_KINDS,
    REDIRECT_KINDS,
    from_const,
    request_read,
)
from threatmodel.dataflow.sinkconds import body_of, dangerous_value, row_argument
from threatmodel.dataflow.values import (
    CLEAN,
    UNKNOWN,
    Label,
    Value,
    const,
    distinct,
    join,
    paths_hash,
    request_object,
    tainted,
)

NUMERIC = frozenset({"int", "float", "bool", "len", "abs", "round", "hash", "id", "ord"})
NUMERIC |= {"isinstance", "hasattr", "callable", "issubclass", "uuid.UUID"}
KEEP = frozenset({"list", "tuple", "iter", "copy.copy", "copy.deepcopy", "collections.deque"})
SPLITEXT = frozenset({"os.path.splitext", "posixpath.splitext", "ntpath.splitext"})
# A URL put back together from its parts: (scheme, netloc, path, params, query, fragment),
# or the five of ``urlsplit``. From the fourth on, each part lands after a ``;``, ``?`` or
# ``#`` the function writes: whatever it holds, it cannot choose the scheme or the host.
URL_JOINS = frozenset({"urllib.parse.urlunparse", "urllib.parse.urlunsplit"})
# Starlette's (and FastAPI's) ``URL`` methods that set only the query string: what they are
# given lands after the ``?``, where it cannot choose the host of the URL they are called on.
QUERY_SETTERS = frozenset({"include_query_params", "replace_query_params"})
FILE_OPENERS = frozenset({"open", "io.open", "codecs.open"})
CONFIG = frozenset({"os.getenv", "os.environ.get", "os.environ.__getitem__", "getenv"})
DB_METHODS = frozenset({"fetchone", "fetchall", "fetchmany", "scalar", "scalars", "first"})
# Methods whose result is a number or a bool whatever the receiver holds: no text survives.
BOOL_METHODS = frozenset(
    {"startswith", "endswith", "isdigit", "isalnum", "isalpha", "isnumeric", "isdecimal"}
    | {"isidentifier", "isascii", "isspace", "islower", "isupper", "istitle", "isprintable"}
    | {"find", "rfind", "index", "rindex", "count", "__len__", "__contains__", "bit_length"}
)
# A hash object's digest (``hashlib.sha256(body).hexdigest()``, ``hmac.new(k, m).digest()``):
# hex digits or bytes the input cannot choose (a preimage), so no injection payload survives
# it; a digest of a predictable value is as predictable, so a ``random`` label stays.
DIGEST_METHODS = frozenset({"hexdigest", "digest"})
MUTATORS = frozenset(
    {"append", "add", "extend", "insert", "update", "set", "appendleft", "write", "writelines"}
)
_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}
# Widely used libraries are never the repository's own code: a call into them passes its
# inputs through now, which is what link() would conclude anyway, and keeps extracts small.
LIBRARIES = frozenset(
    {"django", "rest_framework", "graphene", "graphql", "flask", "werkzeug", "jinja2"}
    | {"fastapi", "starlette", "pydantic", "sqlalchemy", "requests", "httpx", "aiohttp"}
    | {"celery", "boto3", "botocore", "redis", "psycopg2", "yaml", "lxml", "markupsafe"}
    | {"numpy", "pandas", "pytest", "mock", "jwt", "stripe", "opentelemetry", "structlog"}
    | {"google", "babel", "ldap3", "elementpath", "bleach", "dateutil", "pytz", "attr"}
)


def _numeric_type(node: ast.Call, f: Frame) -> bool:
    """``type=int`` (``float``, ``bool``) among a call's keywords."""
    kind = next((k.value for k in node.keywords if k.arg == "type"), None)
    return kind is not None and qualify(kind, f) in ("int", "float", "bool")


def _args(node: ast.Call, engine: EngineBase, f: Frame) -> tuple[list[Value], dict[str, Value]]:
    args = [engine.expr(a, f) for a in node.args]
    kwargs = {k.arg or "**": engine.expr(k.value, f) for k in node.keywords}
    return args, kwargs


def made_object(func: ast.expr, f: Frame) -> Value | None:
    """``cls = get_share(kind); s = cls()``: calling what a repository function returned
    (a class it picked) builds an object link knows only by that function, so
    ``s.asset(p)`` is read as that function's ``.asset`` (``pyhier.made_by``)."""
    if not isinstance(func, ast.Name) or func.id in f.defs or func.id not in f.env:
        return None
    calls = frozenset(x for x in f.env[func.id].labels if x.kind == "call")
    return Value(calls) if calls and calls == f.env[func.id].labels else None


class CallMixin(EngineBase):
    def call(self, node: ast.Call, f: Frame) -> Value:
        func = node.func
        lam = func if isinstance(func, ast.Lambda) else None
        if isinstance(func, ast.Name) and func.id in f.lambdas and func.id not in f.defs:
            lam = f.lambdas[func.id]
        if lam is not None:
            return self.call_lambda(lam, node, f)
        if f.rereads:
            again = f.env.get(reread_key(node))
            if again is not None:
                return again
        qual = qualify(func, f)
        disguised = pyspecial.special(self, node, f, qual)
        if disguised is not None:
            return disguised
        method = func.attr if isinstance(func, ast.Attribute) else None
        recv_qual = "" if isinstance(func, ast.Attribute) and not qual else qual
        receiver = self.expr(func.value, f) if isinstance(func, ast.Attribute) else CLEAN
        args, kwargs = _args(node, self, f)
        line = node.lineno
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            f.lines_of.setdefault(func.value.id, []).append(line)
        rows = self.catalog.sinks_for(recv_qual, method)
        for kind, row in rows:
            value = dangerous_value(kind, row, node, args, kwargs, receiver, f, self)
            callee = qual or written(func) or f".{method}"
            lines = _arg_lines(node, f)
            if value is None:  # not dangerous as called: kept to refute a claim there
                # (a row whose argument the call does not pass says nothing of the call)
                applies = row_argument(row, args, kwargs, receiver) is not None
                why = SAFE_AS_CALLED.get(row.when) if applies else None
                if why:
                    f.hits.append(Hit(kind, line, callee, frozenset(), f"safe: {why}", lines))
                continue
            # a constant sink is kept too: it refutes a claim there
            bound = len(args) > 1 or any(k in kwargs for k in ("params", "parameters"))
            note = "passes parameters separately" if kind == "sql_injection" and bound else ""
            f.hits.append(Hit(kind, line, callee, value.all_labels(), note, lines))
        check_patterns(self, node, qual, method, args, kwargs, receiver, f)
        if any(kind == "open_redirect" for kind, _ in rows):
            # a redirect response: its target is the open_redirect sink above; it has no
            # page body the input could write into (returned, it is no XSS)
            return CLEAN
        if method == "get" and _numeric_type(node, f):
            # werkzeug's ``request.args.get("page", 1, type=int)`` converts before it
            # returns (the default when that fails); no ``dict.get`` takes keywords
            default = args[1] if len(args) > 1 else kwargs.get("default", CLEAN)
            return tainted(default) if default.all_labels() else CLEAN
        everything = [receiver, *args, *kwargs.values()]
        if random_source(qual):
            return Value(frozenset({Label("random", qual, line)}))
        if qual in consts.BUILTINS and not receiver.labels:
            folded = self.fold_builtin(qual, args, kwargs)
            if folded is not None:
                return folded
        if qual == "getattr" and len(node.args) in (2, 3) and args[1].known:
            # ``getattr(obj, "name", default)`` reads ``obj.name`` (or gives the default)
            read = ast.Attribute(value=node.args[0], attr=str(args[1].const), ctx=ast.Load())
            attr = self.expr(ast.copy_location(read, node), f)
            return join(attr, args[2]) if len(args) == 3 else attr
        if qual in SPLITEXT and len(args) == 1:
            # (root, ext): the extension is a dot and what follows the last one in the last
            # component, never a separator nor "..": no path escapes through it
            whole = args[0].flat().step(line)
            ext = whole.sanitized(PATH_KINDS, qual) if whole.labels else whole
            return Value(items=((0, whole), (1, ext)), seq=True)
        if method in QUERY_SETTERS and not qual:
            query = tainted(*args, *kwargs.values())
            query = query.sanitized(urlhead.HOST_KINDS, f".{method}") if query.labels else query
            return tainted(receiver, query).step(line)
        if qual in URL_JOINS and len(args) == 1 and args[0].seq and args[0].items:
            head = tainted(*(v for _, v in args[0].items[:3]))
            tail = tainted(*(v for _, v in args[0].items[3:]))
            tail = tail.sanitized(urlhead.HOST_KINDS, qual) if tail.labels else tail
            return tainted(head, tail).step(line)
        safe = self.catalog.sanitizes(recv_qual, method)
        if safe:
            name = qual or str(method)
            if "int" in qual.split(".")[-1:] or qual in NUMERIC:
                return CLEAN
            cleaned = tainted(*args, *kwargs.values()).sanitized(safe, name).step(line)
            # a method cleans what it is given, not the object it is called on
            # (``stmt.where(...)`` keeps whatever ``stmt`` was built from)
            return join(cleaned, receiver) if method and receiver.labels else cleaned
        if qual in NUMERIC:
            return CLEAN
        if qual == "re.sub" and len(args) == 3 and not kwargs and args[0].known and args[1].known:
            # ``re.sub(r"[^\w-]", "", name)``: the characters a kind's guard looks for are gone
            # (not with a count or flags: a count leaves later occurrences in place)
            kinds = regex.sub_kinds(str(args[0].const), str(args[1].const), self.catalog)
            if kinds and args[2].all_labels():
                return args[2].flat().sanitized(kinds, "re.sub").step(line)
        if method == "save" and node.args and receiver.labels:
            f.written[ast.unparse(node.args[0])] = receiver  # an upload saved to a path
        if qual in FILE_OPENERS:
            # what ``open(p).read()`` gives is the file's content, not the caller's input
            # (a path the caller chose is the path-traversal sink at this very call),
            # unless this function saved the caller's upload at that path first
            saved = f.written.get(ast.unparse(node.args[0])) if node.args else None
            return CLEAN if saved is None else saved.step(line)
        if qual in RESPONSES and args:
            # a response object carries its body; headers and status are not the page, and
            # a text/plain or JSON response has no HTML body
            body = body_of(args[0] if len(args) == 1 else containers.seq(args), kwargs)
            return CLEAN if body is None else body.step(line)
        if qual in CONFIG or (qual.startswith("os.environ") and method == "get"):
            return Value(frozenset({Label("config", qual, line)}))
        if method in DB_METHODS:
            return Value(frozenset({Label("database", f".{method}", line)}))
        if qual in KEEP or qual in containers.CALLS:
            return containers.call(qual, args, kwargs)
        if method is not None and not qual:
            got = self.method(node, method, receiver, args, kwargs, f)
            if got is not None:
                return got
        made = made_object(func, f)
        if made is not None:  # the object carries what it was built from, too
            return tainted(made, *args, *kwargs.values()).step(line)
        own = pyclass.own_callee(func, f)
        if own and all(x.kind in ("self", "param") for x in receiver.labels):
            # ``self.m(x)`` / ``self.a.m(x)`` / ``svc.m(x)`` (``svc: Svc``): the class's
            # method, resolved in link (the receiver's own labels go with it: an
            # unresolved call passes them through)
            return self.repo_call(own, [("self", receiver), *enumerate(args)], kwargs, line, f)
        if qual and self.may_be_repo(func, qual, f) and not receiver.labels:
            return self.repo_call(qual, list(enumerate(args)), kwargs, line, f)
        if method is not None and not qual:
            out = self.method_call_labels(method, receiver, args, kwargs, line, f)
            if out is not None:
                return out
        if method is not None and request_object(receiver):
            # ``request.get_json()``: text read from the request, named by its method (as
            # ``request.args`` is), so it is never taken for the request object below
            everything[0] = request_read(receiver, method)
            if method in OWN_ORIGIN_METHODS:
                here = tainted(*everything).sanitized(REDIRECT_KINDS, "the request's own origin")
                return here.step(line)
        if "." in qual:
            # a library function handed the request object itself (``get_token(request)``,
            # ``get_current_site(request)``) returns what the library computed from it,
            # not the client's text; the text is in the request's attributes and methods
            everything = [everything[0], *(v for v in everything[1:] if not request_object(v))]
        return tainted(*everything).step(line)

    def repo_call(
        self,
        qual: str,
        args: list[tuple[str | int, Value]],
        kwargs: dict[str, Value],
        line: int,
        f: Frame,
    ) -> Value:
        """A call link() may resolve with ``qual``'s summary: a ``call`` label."""
        pairs = [(str(k), a.all_labels()) for k, a in args]
        pairs += [(k, v.all_labels()) for k, v in kwargs.items()]
        labels = tuple((k, shallow(v)) for k, v in pairs if v)
        if any(v for k, v in labels if k != "self"):
            f.calls.append(CallRec(qual, line, labels))
        return Value(frozenset({Label("call", qual, line, args=labels)}))

    def call_lambda(self, lam: ast.Lambda, node: ast.Call, f: Frame) -> Value:
        """``(lambda x: 'safe')(p)``: the body read with the parameters bound to the call's
        arguments (defaults where none is given)."""
        args, kwargs = _args(node, self, f)
        saved = dict(f.env)
        params = [*lam.args.posonlyargs, *lam.args.args]
        defaults = dict(zip([p.arg for p in params][::-1], lam.args.defaults[::-1], strict=False))
        for i, p in enumerate(params):
            default = defaults.get(p.arg)
            f.env[p.arg] = (
                args[i]
                if i < len(args)
                else kwargs.get(p.arg) or (self.expr(default, f) if default is not None else CLEAN)
            )
        for p in [*lam.args.kwonlyargs, *(x for x in (lam.args.vararg, lam.args.kwarg) if x)]:
            f.env[p.arg] = kwargs.get(p.arg) or tainted(*args[len(params) :], *kwargs.values())
        out = self.expr(lam.body, f)
        f.env = saved
        return out.step(node.lineno)

    def fold_builtin(self, qual: str, args: list[Value], kwargs: dict[str, Value]) -> Value | None:
        """``len("abc")``, ``max(3, n)`` with ``n`` known, ``len(lst)`` of a list whose
        positions are all known: the constant, so conditions on it fold."""
        if all(a.known for a in [*args, *kwargs.values()]):
            known = {k: v.const for k, v in kwargs.items()}
            got = consts.builtin(qual, [a.const for a in args], known)
            if got is not UNKNOWN:
                return from_const(got)
        if qual == "len" and len(args) == 1 and not kwargs:
            seq = args[0]
            if seq.seq and seq.items is not None and not seq.labels:
                return const(len(seq.items))
        return None

    def may_be_repo(self, func: ast.expr, qual: str, f: Frame) -> bool:
        """Could ``qual`` be one of the repository's functions (link() decides)? It must be
        named through an import or a def, and not live in the standard library."""
        head = dotted(func).split(".", 1)[0]
        if head not in f.aliases and head not in f.defs:
            return False
        root = qual.split(".", 1)[0]
        return root not in _STDLIB and root not in LIBRARIES

    def method_call_labels(
        self,
        method: str,
        receiver: Value,
        args: list[Value],
        kwargs: dict[str, Value],
        line: int,
        f: Frame,
    ) -> Value | None:
        """A method of an object a repo call returned: a ``call`` label on ``Class.method``.
        Not of what a method returned (a label with a ``self``): ``Class.method.encode``
        names no function link() could find, so its result carries its inputs, as link()
        would conclude; a chain of such labels would only grow until ``shallow`` cut the
        constructor that ``self`` needs (``w.get().encode().decode()`` lost ``w``)."""
        calls = [x for x in receiver.labels if x.kind == "call" and "self" not in dict(x.args)]
        if not calls:
            return None
        pairs = [("self", frozenset(calls))] + [
            (str(i), a.all_labels()) for i, a in enumerate(args)
        ]
        pairs += [(k, v.all_labels()) for k, v in kwargs.items()]
        labels = tuple((k, shallow(v)) for k, v in pairs if v)
        out = {Label("call", f"{c.origin}.{method}", line, args=labels) for c in calls}
        for k, v in labels:
            if k != "self" and v:
                f.calls.append(CallRec(f"{calls[0].origin}.{method}", line, labels))
                break
        rest = receiver.labels - frozenset(calls)
        return Value(frozenset(out) | rest)

    def method(
        self,
        node: ast.Call,
        method: str,
        receiver: Value,
        args: list[Value],
        kwargs: dict[str, Value],
        f: Frame,
    ) -> Value | None:
        """Container and string methods, element-level where the receiver's items are known."""
        assert isinstance(node.func, ast.Attribute)
        key = dotted(node.func.value)
        line = node.lineno
        if receiver.known and all(a.known for a in [*args, *kwargs.values()]):
            known = {k: v.const for k, v in kwargs.items()}
            got = consts.method(receiver.const, method, [a.const for a in args], known)
            if got is not UNKNOWN:
                return from_const(got)
        if method in BOOL_METHODS:
            return CLEAN
        if method in DIGEST_METHODS:
            return Value(frozenset(x for x in receiver.all_labels() if x.kind == "random"))
        if method == "format_map" and receiver.known and len(args) == 1:
            pairs = containers.exact_dict(args[0])  # ``'{a}'.format_map(d)``
            named = {str(k): v for k, v in pairs or ()}
            args, kwargs, method = (
                ([], named, "format") if pairs is not None else (args, kwargs, method)
            )
        if method == "format" and receiver.known:
            reads = containers.format_reads(receiver.const, args, kwargs)
            if reads is not None:
                return reads.step(line)
        if method in ("keys", "values", "items") and not args:
            got = containers.view(receiver, method)
            if got is not None:
                return got
        if method == "copy" and not args and receiver.items is not None:
            return receiver
        if method == "replace" and len(args) >= 2 and args[0].known and args[1].known:
            # ``s.replace("'", "&apos;")``: the character a kind's guard looks for is gone
            gone, new = str(args[0].const), str(args[1].const)
            kinds = self.catalog.guarded_by(gone) if gone and gone not in new else frozenset()
            if kinds and receiver.all_labels():
                return receiver.flat().sanitized(kinds, f".replace({gone!r})").step(line)
        if method == "get" and len(args) >= 2 and receiver.items is not None:
            pair = args[0], args[1]
            if pair[0].known and pair[1].known:
                got = receiver.item((pair[0].const, pair[1].const))
                if got is not None:
                    return got
        if method in ("get", "pop", "setdefault") and receiver.items is not None and args:
            k = args[0]
            if k.known and receiver.seq and isinstance(k.const, int):
                k = const(containers.index(k.const, len(receiver.items)))
            got = receiver.item(k.const) if k.known else None
            default = args[1] if len(args) > 1 else const(None)
            if method == "setdefault" and key and got is None and k.known and not receiver.seq:
                f.env[key] = Value(receiver.labels, items=(*receiver.items, (k.const, default)))
                return default
            if method == "pop" and not receiver.seq and key and k.known:
                rest = tuple((kk, v) for kk, v in receiver.items if kk != k.const)
                f.env[key] = Value(receiver.labels, items=rest)
            if method == "pop" and receiver.seq and got is not None and key:
                kept = [v for kk, v in receiver.items if kk != k.const]
                f.env[key] = Value(receiver.labels, items=tuple(enumerate(kept)), seq=True)
                return got
            if got is not None:
                return got
            if k.known and not receiver.labels and not receiver.seq:
                return default
            return join(receiver.flat(), default)
        if method == "pop" and receiver.seq and receiver.items and not args and key:
            f.env[key] = Value(receiver.labels, items=receiver.items[:-1], seq=True)
            return receiver.items[-1][1]
        if method == "appendleft" and receiver.seq and receiver.items is not None and key:
            vals = [args[0], *(v for _, v in receiver.items)] if args else []
            f.env[key] = containers.seq(vals, receiver.labels)
            return CLEAN
        if method == "popleft" and receiver.seq and receiver.items and not args and key:
            tail = tuple(enumerate([v for _, v in receiver.items[1:]]))
            f.env[key] = Value(receiver.labels, items=tail, seq=True)
            return receiver.items[0][1]
        if key and receiver.seq and receiver.items is not None and method in containers.REORDER:
            f.env[key] = containers.reorder(receiver, method, args)
            return CLEAN
        if key and method in MUTATORS:
            if method == "update" and kwargs:  # ``d.update(b=x)`` / ``d.update(other, b=x)``
                args = [containers.dict_of(args, kwargs)]
            self.mutate(key, method, receiver, args, f, line)
            return CLEAN
        return None

    def mutate(
        self, key: str, method: str, receiver: Value, args: list[Value], f: Frame, line: int
    ) -> None:
        old = f.env.get(key, receiver)
        new: Value
        if method == "append" and args and old.seq and old.items is not None:
            new = Value(old.labels, items=(*old.items, (len(old.items), args[0])), seq=True)
        elif method == "extend" and args and old.seq and old.items is not None and args[0].seq:
            extra = [v for _, v in args[0].items or ()]
            new = Value(
                old.labels | args[0].labels,
                items=tuple(enumerate([v for _, v in old.items] + extra)),
                seq=True,
            )
        elif method == "insert" and len(args) == 2 and old.seq and old.items is not None:
            vals = [v for _, v in old.items]
            if args[0].known and isinstance(args[0].const, int):
                vals.insert(args[0].const, args[1])
                new = Value(old.labels, items=tuple(enumerate(vals)), seq=True)
            else:
                new = Value(old.all_labels() | args[1].all_labels())
        elif method == "set" and len(args) == 3 and args[0].known and args[1].known:
            items = tuple(
                (k, v) for k, v in (old.items or ()) if k != (args[0].const, args[1].const)
            )
            new = Value(old.labels, items=(*items, ((args[0].const, args[1].const), args[2])))
        elif method == "update" and args and old.items is not None and args[0].items is not None:
            keys = {k for k, _ in args[0].items}
            items = tuple((k, v) for k, v in old.items if k not in keys) + args[0].items
            new = Value(old.labels | args[0].labels, items=items)
        else:
            new = Value(old.labels | tainted(*args).labels, old.const, old.items, old.seq)
            if old.known and args:
                new = Value(new.labels, items=old.items, seq=old.seq)
        f.env[key] = new.step(line)


SAFE_AS_CALLED = {
    "url_host": "the URL's scheme and host are fixed before any input",
    "unsafe_yaml": "yaml.load with a safe Loader",
    "xml_entities": "the parser does not resolve external entities",
    "sax_entities": "the parser does not resolve external entities",
    "lxml_entities": "lxml's default parser does not load external entities",
    "no_external_entities": "xml.etree.ElementTree does not load external entities",
    "command": "a fixed program with an argument list and no shell",
}


NESTING = 3  # call labels inside call labels kept this deep; deeper ones pass their inputs


def shallow(labels: frozenset[Label], depth: int = 0) -> frozenset[Label]:
    """``f(g(h(x)))``: keep three levels of calls to resolve, treat deeper ones as passing
    their arguments through (what link() assumes of an unknown function), so labels and
    the extract stay small."""
    return _shallow(labels, depth, {})


# A label set's cut by (the set and its paths, depth), and by (its id, depth) with the set
# kept so that the id is not reused: one label set is often the argument of many calls (a
# value passed on through a long function), so the labels form a graph that, walked as a
# tree, grew exponentially (minutes on one 6,500-line module). The id is asked first:
# comparing equal sets compares their labels' nested arguments. The paths are part of the
# value key: equal sets may hold labels that came along different paths (``Label`` equality
# leaves the path out), and the cut keeps each label's.
_Memo = dict[tuple[object, ...], tuple[frozenset[Label], frozenset[Label]]]


def _shallow(labels: frozenset[Label], depth: int, memo: _Memo) -> frozenset[Label]:
    if all(lab.kind != "call" for lab in labels):
        return labels  # no call to cut: already a set of distinct labels (most values)
    level = min(depth, NESTING)  # below NESTING every depth cuts the same
    known = memo.get((id(labels), level))
    if known is not None:
        return known[1]
    by_value = (labels, paths_hash(labels), level)
    known = memo.get(by_value)
    if known is not None:
        memo[(id(labels), level)] = (labels, known[1])
        return known[1]
    out: list[Label] = []
    cut = False  # a label changed: the labels are a new set
    for lab in labels:
        if lab.kind != "call":
            out.append(lab)
        elif depth >= NESTING:
            cut = True
            for _, inner in lab.args:
                out += _shallow(inner, depth, memo)
        else:
            args = tuple((k, _shallow(v, depth + 1, memo)) for k, v in lab.args)
            cut = cut or args != lab.args
            out.append(lab.with_args(args) if args != lab.args else lab)
    result = distinct(out) if cut else labels
    memo[(id(labels), level)] = memo[by_value] = (labels, result)
    return result


def written(node: ast.AST) -> str:
    """The callee as a reader names it: ``db().execute`` -> ``db.execute``."""
    if isinstance(node, ast.Call):
        return written(node.func)
    if isinstance(node, ast.Attribute):
        inner = written(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return node.id if isinstance(node, ast.Name) else ""


def _arg_lines(node: ast.Call, f: Frame) -> tuple[int, ...]:
    """Lines where the names a call reads were assigned or configured (a tool may cite the
    query's assignment rather than the ``execute`` line)."""
    out: set[int] = set()
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        for sub in ast.walk(arg):
            if isinstance(sub, ast.Name):
                out.update(f.lines_of.get(sub.id, [])[-4:])
    return tuple(sorted(out))
