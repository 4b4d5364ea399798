"""When a JavaScript catalog row's call is a sink, evaluated at the call (``SinkRow.when``).

``check`` answers with the dangerous value, ``None`` when the call is not a sink as written
(a Mongo filter of typed fields, ``res.send`` of an object: JSON), or a sentence when it is
safe as called (kept, so a claim there is refuted with that reason): a URL whose scheme and
host are fixed before any input, ``res.sendFile`` under a ``root``, an XML parse without
``noent``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from threatmodel.code.jsast import dotted, literal_object, object_props, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.frame import Frame
from threatmodel.dataflow.sinkconds import FIXED_URL
from threatmodel.dataflow.values import ATTR, Label, Value, tainted
from threatmodel.frameworks.graphql.js import ARGUMENT

if TYPE_CHECKING:
    from tree_sitter import Node

Eval = Callable[["Node | None", Frame], Value]
RESPONSES = frozenset({"res", "response", "resp", "reply"})
RENDERERS = RESPONSES | {"ctx"}  # koa-views renders through the context
FIXED = FIXED_URL  # a path, or a fixed host (one rule for both engines)
QUERY_SHAPES = frozenset({"where", "data", "include", "select", "attributes", "order"})
# Node's crypto objects have ``update`` too: ``createHmac(...).update(body)`` feeds a digest.
CRYPTO_MAKERS = frozenset(
    {"createHash", "createHmac", "createCipheriv", "createDecipheriv", "createSign"}
    | {"createVerify"}
)
# The fields of a request's options object that choose the server it reaches.
SERVER_FIELDS = frozenset({"url", "baseURL", "host", "hostname", "origin", "socketPath"})
NOT_TEXT = frozenset({"object", "array", "arrow_function", "function_expression"})
CODE_TEXT = frozenset({"string", "template_string", "binary_expression"})
SQL_TEXT = CODE_TEXT | {"identifier"}
# Where a name is bound: functions (their body's statements) and the module.
SCOPES = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition"}
    | {"generator_function_declaration", "program"}
)
# Calls whose result is a string, whatever they are given: no query document.
STRING_CALLS = frozenset({"JSON.stringify", "String", "toString", "join", "text"})


def check(
    when: str, values: list[Value], call: Node, args: list[Node], f: Frame, expr: Eval
) -> Value | str | None:
    if not values or not shaped(when, args):
        return None
    if len(values) > 1 and all(v.known and not v.all_labels() for v in values):
        value = values[0]  # every argument a constant (``new Function('a', 'return a')``)
    else:
        value = values[0] if len(values) == 1 else tainted(*values)
    if when == "response":
        opts = object_props(unwrap(args[1])) if len(args) > 1 else {}
        if "root" in opts:
            return "the file is served under the root option, which refuses paths leaving it"
        return value
    if when == "html_response":
        obj = unwrap(_receiver(call))
        if obj is None or dotted(obj).split(".")[-1] not in RESPONSES:
            return None
        first = unwrap(args[0]) if args else None
        if first is None or first.type in ("object", "array"):
            return None  # an object is sent as JSON
        return value
    if when == "view_locals":
        # ``res.render(view, locals)`` (Koa's ``ctx.render``, Fastify's ``reply.view``):
        # what reaches the page is decided by the view
        obj = unwrap(_receiver(call))
        return value if obj is not None and dotted(obj).split(".")[-1] in RENDERERS else None
    if when == "view_options":
        # ``res.render(view, req.body)``: Express hands the locals object to the view engine
        # as its options too, so a request object passed whole sets them (hbs reads
        # ``layout`` as the file to render around the view; ejs takes ``settings['view
        # options']`` into its compiler); a request value under a key of a literal is data
        obj = unwrap(_receiver(call))
        if obj is None or dotted(obj).split(".")[-1] not in RENDERERS:
            return None
        whole = frozenset(x for x in value.labels if x.kind == "request")
        return Value(whole) if whole else None
    if when == "mongo_filter":
        return None if _crypto(_receiver(call)) else _mongo(value, args, f, expr)
    if when == "url_host":
        if len(values) == len(args) > 1:
            # ``res.redirect([status,] url[, init])``: the URL is the first non-number
            i = next((i for i, a in enumerate(args) if a.type != "number"), 0)
            value, args = values[i], [args[i]]
        first = unwrap(args[0]) if args else None
        if first is not None and first.type == "object":
            # request options (``http.request({host, path})``, axios's config): the fields
            # that choose the server decide, not the path or headers sent to it
            server = [v for k, v in object_props(first).items() if k in SERVER_FIELDS]
            chosen = [expr(v, f) for v in server]
            if not any(v.all_labels() for v in chosen):
                return "the request's server is fixed: input reaches only its path or headers"
            return tainted(*chosen)
        if not value.all_labels():
            return value  # a constant URL
        for node in args:
            if _fixed(node, f, expr):
                return "the URL's scheme and host are fixed before any input"
        return value
    if when == "noent":
        literal = literal_object(args[1]) if len(args) > 1 else None
        if len(args) > 1 and literal is None:
            return None  # options the engine cannot read: no claim either way
        opts = object_props(literal)
        if "noent" in opts and node_text(opts["noent"]) == "true":
            return value
        return "parsed without noent: external entities are not substituted"
    return value


def shaped(when: str, args: list[Node]) -> bool:
    """Is the call a sink as written, by its arguments' form alone (the collector of sink
    facts asks this too)? ``sql_text``: the first argument is a statement, not an options
    object, array or function (``handler.execute({...})``, ``knex.raw(() => ...)``);
    ``code_string``: the first argument is code as text (a string, template or ``+``), not
    a function to call (``setTimeout(tick, 100)``); ``sql_string`` (a method name many
    libraries share, ``execute``): the statement is written as text or a name holding it,
    not a field or a call's result (``job.execute(envelope.payload)`` runs a job);
    ``view_options``: a view named by a string, its locals a value, not an object literal."""
    first = unwrap(args[0]) if args else None
    if when == "sql_text":
        return first is not None and first.type not in NOT_TEXT
    if when == "code_string":
        return first is not None and first.type in CODE_TEXT
    if when == "sql_string":
        return first is not None and first.type in SQL_TEXT and _named_text(first)
    if when in ("view_locals", "view_options"):  # a view named by a string, and its locals
        view = first is not None and first.type == "string" and len(args) > 1
        # ``view_options``: locals written as an object literal are data, not the options
        return view and (when == "view_locals" or (unwrap(args[1]) or args[1]).type != "object")
    return True


def _named_text(node: Node, depth: int = 0) -> bool:
    """May a name passed as ``sql_string`` hold a statement? A name bound once by ``const``
    in an enclosing function (or the module) holds what it was bound to: the same form rule
    as an argument written in place, so ``const command = Cmd.create({...})`` (an object, a
    call's result) is no statement; a parameter, ``let`` or an unseen binding may be one."""
    if node.type != "identifier" or depth > 4:
        return True
    name = node_text(node)
    scope = node.parent
    while scope is not None:
        if scope.type in SCOPES:
            for decl in _own_consts(scope):
                bound = decl.child_by_field_name("name")
                if bound is not None and node_text(bound) == name:
                    init = unwrap(decl.child_by_field_name("value"))
                    if init is None:
                        return True
                    if init.type == "await_expression" and init.named_children:
                        init = unwrap(init.named_children[0]) or init
                    return init.type in CODE_TEXT or (
                        init.type == "identifier" and _named_text(init, depth + 1)
                    )
        scope = scope.parent
    return True


def _own_consts(scope: Node) -> list[Node]:
    """The ``const`` declarators written directly in ``scope``'s body (not nested functions)."""
    body = scope.child_by_field_name("body") if scope.type != "program" else scope
    if body is None:
        return []
    out = []
    for stmt in body.named_children:
        exported = stmt.type == "export_statement" and stmt.named_children
        decl = stmt.named_children[0] if exported else stmt
        if decl.type == "lexical_declaration" and node_text(decl).startswith("const"):
            out += [d for d in decl.named_children if d.type == "variable_declarator"]
    return out


def _receiver(call: Node) -> Node | None:
    fn = unwrap(call.child_by_field_name("function"))
    return (
        fn.child_by_field_name("object")
        if fn is not None and fn.type == "member_expression"
        else None
    )


def _crypto(receiver: Node | None) -> bool:
    """Is ``receiver`` a hash, HMAC or cipher made right there (``crypto.createHmac(...)``)?"""
    inner = unwrap(receiver)
    while inner is not None and inner.type == "call_expression":
        fn = unwrap(inner.child_by_field_name("function"))
        if fn is None:
            return False
        if _last_name(fn) in CRYPTO_MAKERS:
            return True
        # ``createHmac(...).update(a).update(b)``: look through the chain
        inner = unwrap(fn.child_by_field_name("object")) if fn.type == "member_expression" else None
    return False


def _last_name(fn: Node) -> str:
    """The called name: ``b`` of ``a.b`` (whatever ``a`` is), or the identifier itself."""
    prop = fn.child_by_field_name("property") if fn.type == "member_expression" else None
    return node_text(prop if prop is not None else fn)


def _string_call(node: Node) -> bool:
    """``JSON.stringify(x)``, ``String(x)``, ``x.toString()``, ``await req.text()``: a string."""
    if node.type == "await_expression" and node.named_children:
        node = unwrap(node.named_children[0]) or node
    if node.type != "call_expression":
        return False
    fn = unwrap(node.child_by_field_name("function"))
    if fn is None:
        return False
    return dotted(fn) in STRING_CALLS or _last_name(fn) in STRING_CALLS


def _parsed(value: Value) -> Value | None:
    """The request labels of ``value`` that may hold a parsed object: a JSON body's or a
    query string's field (``{"$ne": 1}``, ``?id[$ne]=1``), not a route parameter (a string)
    nor a GraphQL argument (typed by the schema, and no GraphQL name starts with ``$``)."""
    got = frozenset(
        x
        for x in value.labels
        if x.kind == "request"
        and not route_parameter(x.origin)
        and not x.origin.startswith(ARGUMENT)
    )
    return Value(got) if got else None


def route_parameter(origin: str) -> bool:
    """Is a request label's origin a path parameter, always a string: Express's
    ``req.params.id``, a Next.js handler's ``route params``, NestJS's ``@Param``?"""
    return "params" in origin.split(".") or origin in ("route params", "@Param")


def _mongo(value: Value, args: list[Node], f: Frame, expr: Eval) -> Value | None:
    for node in args:
        inner = unwrap(node)
        if (
            inner is not None
            and inner.type == "object"
            and QUERY_SHAPES & object_props(inner).keys()
        ):
            return None  # Sequelize / Prisma: ``where`` holds typed values, not Mongo operators
    first = unwrap(args[0]) if args else None
    if first is None or first.type in ("template_string", "binary_expression", "string"):
        return None  # a string is no query document (``hmac.update(`${a}:${b}`)``)
    if _string_call(first):
        return None
    if first.type != "object":
        # the whole filter is request data (``find(req.body)``): operators included. Only
        # a value read from the request here counts: a parameter may be any string
        return _parsed(value)
    direct: list[Value] = []
    for node in object_props(first).values():
        inner = unwrap(node)
        # a request field as parsed; a value built into a string is typed
        if inner is not None and inner.type in ("member_expression", "subscript_expression"):
            got = _parsed(expr(inner, f))
            if got is not None:
                direct.append(got)
    return tainted(*direct) if direct else None


def _fixed(node: Node, f: Frame, expr: Eval) -> bool:
    """Does the URL ``node`` builds have its scheme and host fixed before any input: a
    constant path (``/a/${x}``), ``https://host/...``, a configured base then a path
    (``${API}/users/${id}``), or ``new URL(<such a path>, base)``?"""
    node = unwrap(node) or node
    if (
        node.type == "new_expression"
        and node_text(node.child_by_field_name("constructor") or node) == "URL"
    ):
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        return first is not None and _fixed(first, f, expr)
    prefix = ""
    for text, value in _parts(node, f, expr):
        if text is None:
            if any(_input(x) for x in value.labels):
                # input (or what a caller may pass) before the host is known, unless its own
                # known start ends the host (``https://a.com`` then a request path '/...')
                return bool(FIXED.match(prefix + (value.affix or ("", ""))[0]))
            text = value.const if isinstance(value.const, str) else "x"  # a configured part
        prefix += text
        if FIXED.match(prefix):
            return True
        if len(prefix) > 200:
            break
    return False


def _input(label: Label) -> bool:
    """May ``label`` be request input? A repository function's result is taken for a
    computed segment unless request input is passed to it here."""
    if label.kind == "call" and ATTR in label.origin:
        return any(_input(x) for _, v in label.args for x in v)  # a field of a call's result
    if label.kind == "call":
        return any(x.kind == "request" for _, v in label.args for x in v)
    return label.kind in ("request", "param")


def _parts(node: Node, f: Frame, expr: Eval, depth: int = 0) -> list[tuple[str | None, Value]]:
    """A template string or ``+`` chain as its parts in order: (constant text, _) or
    (None, value of a substitution)."""
    node = unwrap(node) or node
    if (
        node.type == "binary_expression"
        and node_text(node.child_by_field_name("operator") or node) == "+"
    ):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or depth > 40:
            return [(None, expr(node, f))]
        return _parts(left, f, expr, depth + 1) + _parts(right, f, expr, depth + 1)
    if node.type == "template_string":
        out: list[tuple[str | None, Value]] = []
        for c in node.named_children:
            if c.type == "string_fragment":
                out.append((node_text(c), Value()))
            elif c.type == "template_substitution":
                out.append((None, expr(c.named_children[0] if c.named_children else None, f)))
        return out
    text = string_value(node)
    return [(text, Value())] if text is not None else [(None, expr(node, f))]
