"""Effects of a JavaScript / TypeScript route handler (see ``effects`` for the idea).

The handler is found from the route's line: the function passed to ``router.post(...)`` (the
last function argument), or a named handler (``ctrl.update``, ``this.handleX``) defined in
the route's file or a file it imports, or the function that starts on that line (Next.js
``export async function POST``). Its calls, and calls into functions of the same files a few
levels deep, are classified by one catalog of callee patterns.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from threatmodel.code import jsast
from threatmodel.code.jsworkspace import repo_files
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import detect_language
from threatmodel.code.treesitter import node_text, parse_js
from threatmodel.collect.effects import Effect, HandlerCode, ordered
from threatmodel.collect.effects_catalog import (
    JWT_VERIFY,
    PAID_URL,
    SCRATCH_PATH,
    SIGN_IN,
    SIGN_IN_STEPS,
    SIGNATURE,
    destructive,
)
from threatmodel.collect.effects_js_classes import library_receiver, static_method
from threatmodel.collect.recipients import js_to_operator
from threatmodel.models import Location, Route

if TYPE_CHECKING:
    from tree_sitter import Node

DEPTH = 2
_NOT_STORES = re.compile(
    r"^(Object|Promise|Array|Math|JSON|Reflect|document|window|crypto|hash|hmac|cipher|"
    r"decipher|digest|url|headers|params|searchParams|map|set|cache|res|response|req|request|stream|"
    r"this\.cache|console|process|router|app|classList|formData|Date)\b",
    re.I,
)
_JS_BODY = re.compile(
    r"\b(req|request|ctx\.request)\.(body|files?|json\(|formData\(|text\()|\bparsedInput\b|"
    r"\bformData\b|await\s+(req|request)\.(json|formData|text)\(|\bbody\s*[:}]|getBody\("
)
# Koa's context delegates the response's header methods (ctx.remove / ctx.set / ctx.append
# touch a header, not a record); metrics and tracing clients count, they store no data.
_NOT_STORES_TOO = re.compile(
    r"^ctx\.(?:response\.)?\w+$|^(?:metrics|statsd|stats|dogstatsd|tracer|span|logger)\.", re.I
)
_API_CLIENT = re.compile(r"(api|client|sdk|service)$", re.I)
_DB_TAIL = re.compile(
    r"\.(save|create|createMany|insert|insertOne|insertMany|update|updateOne|updateMany|upsert|"
    r"delete|deleteOne|deleteMany|destroy|remove|findOneAndUpdate|findByIdAndUpdate|"
    r"findOneAndDelete|findByIdAndDelete|findByIdAndRemove|findOneAndRemove|bulkCreate|"
    r"bulkWrite|increment|decrement|replaceOne|hset|lpush|rpush|sadd|incr)$"
)
JS_EFFECTS: list[tuple[str, re.Pattern[str]]] = [
    ("paid_api", re.compile(r"completions\.create$|(anthropic|openai)\w*\.\w+(\.\w+)*$", re.I)),
    ("paid_api", re.compile(r"^(generateText|streamText|generateObject|streamObject|embed)$")),
    ("sms", re.compile(r"(twilio|client|sms)\w*\.messages\.create$|sns\w*\.publish$", re.I)),
    ("payment", re.compile(r"stripe\.\w+(\.\w+)?\.(create|update|capture|confirm)$")),
    ("email", re.compile(r"(sendMail|sendEmail|emails\.send|sgMail\.send|mail\w*\.send)$")),
    ("storage", re.compile(r"\.(upload|putObject|uploadFile)$|^put$")),
    (
        "file_write",
        re.compile(r"^fs\w*\.(write\w*|append\w*|unlink\w*|rename\w*|rm\w*)$|createWriteStream$"),
    ),
    (
        "outbound",
        re.compile(r"^(axios|got|superagent|request|needle|ky)\.(post|put|patch|delete)$"),
    ),
]
_SQL_WRITE = re.compile(r"^\s*(insert|update|delete|replace|create|drop|alter|truncate)\b", re.I)


# Calls whose first argument is the values they set (Sequelize's instance.update(values)):
# save(options) / create(...) are told their values elsewhere.
_SETS = frozenset({"update", "increment", "decrement"})
_SERVER_VALUES = frozenset({"number", "true", "false", "null", "string", "undefined"})
_CLOCK_OR_SQL = re.compile(r"^(?:Date\.now|\w+\.(?:literal|fn|now)|now)$")


def _bookkeeping(args: list[Node]) -> bool:
    """``share.update({ lastAccessedAt: new Date(), views: literal("views + 1") })``: every
    value the update sets is made by the server (a clock, a constant, a counter's SQL), so
    it changes no data a caller chose: a visit counted, not a record overwritten."""
    values = args[0] if args else None
    if values is None or values.type != "object" or not values.named_children:
        return False
    for pair in values.named_children:
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if value is None or not _server_made(value):
            return False
    return True


def _server_made(node: Node) -> bool:
    if node.type in _SERVER_VALUES:
        return True
    if node.type == "new_expression":
        return jsast.dotted(node.child_by_field_name("constructor")) == "Date"
    if node.type == "call_expression":
        return bool(_CLOCK_OR_SQL.match(jsast.callee(node)))
    return False


_REQUEST = frozenset({"req", "request", "ctx"})


def _keyless_jwt(name: str, call: Node) -> bool:
    """``jwt.verify(token, "", {algorithms: ["HS256", "none"]})``: a JWT check with an
    empty key, or one that accepts the ``none`` algorithm, proves nothing about the caller."""
    if not JWT_VERIFY.search(name):
        return False
    args = jsast.call_args(call)
    key = jsast.string_value(args[1]) if len(args) > 1 else None
    return key == "" or bool(re.search(r"""['"]none['"]""", node_text(call), re.I))


def _signs_in(name: str, call: Node, loader: _Loader, mod: _Module) -> bool:
    """``req.logIn(user)`` (passport), ``signIn(ctx, ...)``, or the ``signIn`` an
    authentication library's factory handed back (``const { signIn } = NextAuth(config)``,
    here or in a module ``mod`` imports): the handler establishes the caller's session, so
    it is the sign-in (or sign-up) step itself, public by design."""
    head, _, last = name.rpartition(".")
    if not SIGN_IN_STEPS.match(last):
        return False
    if SIGN_IN.match(loader.made_by(mod, last)):
        return True
    args = jsast.call_args(call)
    return head in _REQUEST or (bool(args) and node_text(args[0]) in _REQUEST)


def classify_js(name: str, call: Node) -> str | None:
    if not name:
        return None
    args = jsast.call_args(call)
    if name.rsplit(".", 1)[-1] in ("query", "execute", "run", "exec", "$executeRawUnsafe"):
        first = jsast.string_value(args[0]) if args else None
        if first is not None and _SQL_WRITE.match(first):
            return "db_write"
    if name in ("fetch", "axios.post", "got.post") and args:
        url = node_text(args[0])
        if PAID_URL.search(url):
            return "paid_api"
    if name == "fetch" and len(args) > 1:
        method = jsast.object_props(args[1]).get("method")
        value = (jsast.string_value(method) or "").upper() if method is not None else ""
        return "outbound" if value in ("POST", "PUT", "PATCH", "DELETE") else None
    for kind, pattern in JS_EFFECTS:
        if pattern.search(name):
            return kind
    if (
        "." in name
        and _DB_TAIL.search(name)
        and not _NOT_STORES.match(name)
        and not _NOT_STORES_TOO.match(name)
    ):
        # lettersApi.create, stripeClient.customers.update: a third-party API, not a store.
        receiver = name.rsplit(".", 1)[0]
        return "outbound" if _API_CLIENT.search(receiver) else "db_write"
    return None


class _Module:
    def __init__(self, path: str, root: Node) -> None:
        self.path = path
        self.root = root
        self.defs: dict[str, Node] = {}
        self.classes: dict[str, Node] = {}  # class name -> its declaration
        # names destructured from a call's result (``const { signIn } = NextAuth(cfg)``) ->
        # that callee: what a library's factory handed back
        self.made: dict[str, str] = {}
        for node in jsast.walk(root):
            if node.type in ("class_declaration", "abstract_class_declaration"):
                cname = node.child_by_field_name("name")
                if cname is not None:
                    self.classes.setdefault(node_text(cname), node)
            if node.type in jsast.FUNCTION_TYPES:
                name = _fn_name(node)
                if name and name not in self.defs:
                    self.defs[name] = node
            elif node.type == "variable_declarator":
                target = node.child_by_field_name("name")
                value = jsast.unwrap(node.child_by_field_name("value"))
                if target is None or value is None or target.type != "object_pattern":
                    continue
                if value.type == "call_expression" and jsast.callee(value):
                    for n in jsast.walk(target):
                        if n.type in ("shorthand_property_identifier_pattern", "identifier"):
                            self.made.setdefault(node_text(n), jsast.callee(value))
        self._lines: dict[int, list[Node]] | None = None

    def at(self, line: int) -> list[Node]:
        """The nodes that start on ``line``, in walk order. Indexed on first use: a route
        file is asked once per route (juice-shop's server.ts: hundreds)."""
        if self._lines is None:
            self._lines = {}
            for node in jsast.walk(self.root):
                self._lines.setdefault(jsast.line_of(node), []).append(node)
        return self._lines.get(line, [])


def _fn_name(fn: Node) -> str | None:
    name = fn.child_by_field_name("name")
    if name is not None:
        return node_text(name)
    parent = fn.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return node_text(target) if target is not None else None
    if parent.type == "assignment_expression":
        left = jsast.dotted(parent.child_by_field_name("left"))
        return left.rsplit(".", 1)[-1] if left else None
    if parent.type == "pair":
        key = parent.child_by_field_name("key")
        return node_text(key).strip("'\"") if key is not None else None
    return None


class _Loader:
    def __init__(self, reader: RepoReader, files: list[str]) -> None:
        self.reader = reader
        self.files = repo_files(reader.root, files)  # workspace packages and tsconfig aliases
        self.cache: dict[str, _Module | None] = {}
        self._imported: dict[str, list[_Module]] = {}

    def load(self, path: str) -> _Module | None:
        if path not in self.cache:
            self.cache[path] = None
            try:
                text = "\n".join(self.reader.lines(path))
            except PathRefused:
                return None
            lang = detect_language(path)
            try:
                tree = parse_js(text, lang)
            except Exception:  # an unsupported dialect: no module, no effects
                return None
            self.cache[path] = _Module(path, tree.root_node)
        return self.cache[path]

    def imported(self, mod: _Module) -> list[_Module]:
        """The repository's modules ``mod`` imports (kept: asked again for every lookup)."""
        if mod.path not in self._imported:
            out = []
            for spec, _name in jsast.imports(mod.root).values():
                target = self.resolve(mod, spec)
                if target is not None and (m := self.load(target)) is not None:
                    out.append(m)
            self._imported[mod.path] = out
        return self._imported[mod.path]

    def resolve(self, mod: _Module, spec: str) -> str | None:
        """The repository file ``mod``'s import ``spec`` names (None: a library's)."""
        return jsast.resolve_module(mod.path, spec, self.files)

    def made_by(self, mod: _Module, name: str) -> str:
        """The call whose result ``name`` was destructured from, here or in a repository
        module ``mod`` imports ("" when none)."""
        for m in (mod, *self.imported(mod)):
            if name in m.made:
                return m.made[name]
        return ""

    def injected(self, mod: _Module, fn: Node, name: str) -> tuple[_Module, Node] | None:
        """``this.getInvite.execute(cmd)`` in a class whose constructor is handed
        ``private getInvite: GetInvite`` (dependency injection: NestJS, Angular, tsyringe):
        ``GetInvite``'s ``execute``, here or in a module ``mod`` imports."""
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "this":
            return None
        cls = fn.parent
        while cls is not None and cls.type != "class_declaration":
            cls = cls.parent
        typ = _injected_type(cls, parts[1]) if cls is not None else None
        if typ is None:
            return None
        for m in (mod, *self.imported(mod)):
            target = m.classes.get(typ)
            method = _method(target, parts[2]) if target is not None else None
            if method is not None:
                return m, method
        return None

    def lookup(self, mod: _Module, name: str) -> tuple[_Module, Node] | None:
        short = name.rsplit(".", 1)[-1]
        if short in mod.defs:
            return mod, mod.defs[short]
        for other in self.imported(mod):
            if short in other.defs:
                return other, other.defs[short]
        return None


def _injected_type(cls: Node, field: str) -> str | None:
    """The type of ``field`` as the class's constructor declares it (a parameter property:
    ``constructor(private readonly field: Type)``)."""
    ctor = _method(cls, "constructor")
    params = ctor.child_by_field_name("parameters") if ctor is not None else None
    for p in params.named_children if params is not None else []:
        pattern = p.child_by_field_name("pattern")
        if pattern is None or node_text(pattern) != field:
            continue
        typ = p.child_by_field_name("type")
        named = typ.named_children[0] if typ is not None and typ.named_children else None
        return node_text(named) if named is not None and named.type == "type_identifier" else None
    return None


def _method(cls: Node, name: str) -> Node | None:
    body = cls.child_by_field_name("body")
    for child in body.named_children if body is not None else []:
        key = child.child_by_field_name("name")
        if child.type == "method_definition" and key is not None and node_text(key) == name:
            return child
    return None


_LOADERS: dict[str, _Loader] = {}


def js_handler(reader: RepoReader, route: Route, files: list[str]) -> HandlerCode | None:
    key = str(reader.root)
    if key not in _LOADERS or _LOADERS[key].reader is not reader:
        _LOADERS[key] = _Loader(reader, files)  # one parse per file while this reader lives
    loader = _LOADERS[key]
    mod = loader.load(route.location.path)
    if mod is None:
        return None
    line = route.location.line
    if jsast.has_directive(mod.root, "use client"):
        # A client component's code runs in the visitor's browser: what it writes goes
        # through the browser's own session (an API route, row-level security), not this
        # route, which only serves the page.
        return HandlerCode(name=route.handler, location=route.location, reads_body=False)
    fns: list[tuple[_Module, Node]] = []
    wrapper: str | None = None
    for node in mod.at(line):
        if node.type in jsast.FUNCTION_TYPES:
            fns.append((mod, node))
            break
        if node.type == "call_expression":
            # router.post(path, auth, handler): the last function argument is the handler;
            # withWorkspace(async (...) => {...}, {options}): the function, not the options.
            args = jsast.call_args(node)
            inline = [a for a in args if a.type in jsast.FUNCTION_TYPES]
            if inline:
                fns.append((mod, inline[-1]))
            else:
                named = [a for a in args if jsast.dotted(a)]
                hit = loader.lookup(mod, jsast.dotted(named[-1])) if named else None
                if hit is not None:
                    fns.append(hit)
            if fns:
                wrapper = _wrapper(node, args)
                break
    if not fns:
        hit = loader.lookup(mod, route.handler) if route.handler else None
        if hit is None:
            return None
        fns.append(hit)
    effects: list[Effect] = []
    signature: list[Location] = []
    sign_in: list[Location] = []
    seen: set[int] = set()
    for m, fn in fns:
        _scan(loader, m, fn, 0, effects, (signature, sign_in), seen)
    m0, fn0 = fns[0]
    body = any(_JS_BODY.search(node_text(fn)) for _, fn in fns)
    return HandlerCode(
        wrapper=wrapper,
        reads_body=body,
        name=_fn_name(fn0) or route.handler,
        location=Location(path=m0.path, line=jsast.line_of(fn0)),
        effects=ordered(effects, m0.path),
        signature=signature[0] if signature else None,
        sign_in=sign_in[0] if sign_in else None,
    )


# Wrappers known to add no access check (error handling, memoisation).
_PLAIN_WRAPPERS = re.compile(
    r"^(asyncHandler|catchAsync|catchErrors|wrapAsync|expressAsyncHandler|wrap|memo|"
    r"forwardRef|cache|tryCatch|asyncWrapper|use)$"
)


def _wrapper(call: Node, args: list[Node]) -> str | None:
    """The function a handler is passed through, when the call is not a route registration
    (``router.post("/x", fn)`` names its path first): ``withWorkspace(fn)``,
    ``authActionClient.schema(s).action(fn)``. Its checks are not analysed here."""
    first = args[0] if args else None
    if first is not None and first.type in ("string", "template_string"):
        return None
    name = jsast.callee(call) or _chain_name(call)
    short = name.rsplit(".", 1)[-1]
    return None if not name or _PLAIN_WRAPPERS.match(short) else name


def _chain_name(call: Node) -> str:
    """``supabase.from("t").insert(...)`` -> ``supabase.insert``: the chain's root and the
    method called, so builder chains classify like plain member calls."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "member_expression":
        return ""
    prop = fn.child_by_field_name("property")
    root = fn.child_by_field_name("object")
    while root is not None and root.type in ("call_expression", "member_expression"):
        inner = "function" if root.type == "call_expression" else "object"
        root = root.child_by_field_name(inner)
    if prop is None or root is None or root.type not in ("identifier", "this"):
        return ""
    return f"{node_text(root)}.{node_text(prop)}"


_SIG_NAME = re.compile(r"signature|hmac|^sig$|digest", re.I)


def _compares_signature(node: Node) -> bool:
    """``if (webhookSignature !== computedSignature)``: a signature the request carries
    checked against one the server computes."""
    op = node.child_by_field_name("operator")
    if op is None or node_text(op) not in ("===", "!==", "==", "!="):
        return False
    sides = [node.child_by_field_name("left"), node.child_by_field_name("right")]
    names = [jsast.dotted(s).rsplit(".", 1)[-1] for s in sides if s is not None]
    return len(names) == 2 and any(_SIG_NAME.search(n) for n in names if n)


def _scratch(target: Node, fn: Node) -> bool:
    """The written path names a cache or temp folder, following the function's declarations."""
    values = {name: node_text(value) for name, value in jsast.declared(fn).items()}
    text = node_text(target)
    for _ in range(3):
        text += " " + " ".join(values.get(n, "") for n in re.findall(r"\w+", text))
    return bool(SCRATCH_PATH.search(text))


def _scan(
    loader: _Loader,
    mod: _Module,
    fn: Node,
    depth: int,
    effects: list[Effect],
    gates: tuple[list[Location], list[Location]],
    seen: set[int],
) -> None:
    """Walk ``fn`` (and the repository functions it calls) for effects, and for where it
    checks a signature or hands the request to an authentication library (``gates``)."""
    signature, sign_in = gates
    seen.add(fn.id)
    for node in jsast.walk(fn):
        if node.type == "binary_expression" and _compares_signature(node):
            signature.append(Location(path=mod.path, line=jsast.line_of(node)))
        if node.type != "call_expression":
            continue
        name = jsast.callee(node) or _chain_name(node)
        where = Location(path=mod.path, line=jsast.line_of(node))
        if SIGNATURE.search(name) and not _keyless_jwt(name, node):
            signature.append(where)
        if SIGN_IN.match(name) or _signs_in(name, node, loader, mod):
            sign_in.append(where)
        static = static_method(loader, mod, name) if "." in name else None
        # ``this.users.delete(x)`` of an injected repository service (``constructor(private
        # users: UsersService)``): its method's body says what it writes, not its name
        # (``delete`` on a ``*Service`` would read as an outbound HTTP call)
        own = static or (loader.injected(mod, fn, name) if name.startswith("this.") else None)
        if own is not None:  # ``Cls.create()`` of a repository class: its body says
            if depth < DEPTH and own[1].id not in seen:
                _scan(loader, cast(_Module, own[0]), own[1], depth + 1, effects, gates, seen)
            continue
        kind = classify_js(name, node)
        if kind == "db_write" and library_receiver(loader, mod, fn, name):
            continue  # ``EditorState.create``, ``new Map().delete``: a library's, no store
        args = jsast.call_args(node)
        if kind == "file_write" and args and _scratch(args[0], fn):
            continue
        if kind is not None:
            first = jsast.string_value(args[0]) if args else None
            kept = kind == "db_write" and name.rsplit(".", 1)[-1] in _SETS and _bookkeeping(args)
            wipes = destructive(kind, name, first) and not kept
            mine = kind == "email" and js_to_operator(args, fn)
            effects.append(
                Effect(kind, name, where, destructive=wipes, to_operator=mine, bookkeeping=kept)
            )
            continue
        if depth >= DEPTH or not name:
            continue
        hit = loader.lookup(mod, name) if name.count(".") <= 1 else None
        if hit is not None and hit[1].id not in seen:
            _scan(loader, hit[0], hit[1], depth + 1, effects, gates, seen)
