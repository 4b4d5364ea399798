"""tRPC procedure builder chains, and who a middleware of one turns away.

A procedure is a chain of calls ending in its kind: ``protectedProcedure.input(schema)
.mutation(async ({ ctx, input }) => ...)``. Its root is ``t.procedure`` (anyone may call it)
or another builder's name (``protectedProcedure = t.procedure.use(isAuthed)``), and each
``.use(middleware)`` on the way may refuse the caller before the resolver runs.

A middleware receives ``{ ctx, next }``; it refuses an anonymous caller when a test of the
caller in ``ctx`` (``ctx.session?.user``, ``ctx.user``) leads to a refusal (``throw new
TRPCError({ code: "UNAUTHORIZED" })``): the same reading as a GraphQL resolver's guard
(``graphql/js_guards.py``). A refusal on a test naming a role (``!isUserAdmin``,
``ctx.user.role !== "ADMIN"``) makes it ``restricted``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import FUNCTION_TYPES, call_args, callee, line_of, nodes_of, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.reject import rejection, source_line
from threatmodel.frameworks._python.tokens import is_token_key
from threatmodel.frameworks.graphql.js_guards import ROLE, mentions_caller, restricts

if TYPE_CHECKING:
    from tree_sitter import Node

# The last call of a procedure's chain: its kind, and the method tRPC's HTTP link sends it
# with (queries as GET, mutations as POST; a subscription over a WebSocket or SSE).
KINDS = {"query": "GET", "mutation": "POST", "subscription": "WS"}
# The calls a builder chain is made of, besides ``use`` (tRPC's procedure builder API)
STEPS = frozenset({"input", "output", "meta", "use", "concat", "unstable_concat"})
_IFS = frozenset({"if_statement"})
_CALLS = frozenset({"call_expression"})
_RETURNS = frozenset({"return_statement"})
_INPUT_READ = re.compile(r"\binput(?:\??\.\w+)+|\"[^\"]*\"|'[^']*'|`[^`]*`")
# a subscription's resolver may be an async generator (``async function* () { yield ... }``)
RESOLVERS = (*FUNCTION_TYPES, "generator_function")


def links(node: Node | None, stepped: bool = False) -> tuple[str | None, list[Node]] | None:
    """(the root's name, the ``.use`` arguments in order) of a builder chain, or None when
    ``node`` is not one. The root ``t.procedure`` (tRPC's own base builder) is None; a
    builder factory's call (``withPermission("project", "create")``) is the factory's name,
    once a step follows it (``stepped``: ``node`` is the object of one)."""
    uses: list[Node] = []
    node = unwrap(node)
    start = node
    while node is not None and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "identifier":  # a bare call is no chain by itself
            return (node_text(fn), uses) if stepped or node is not start else None
        prop = fn.child_by_field_name("property") if fn is not None else None
        if fn is None or fn.type != "member_expression" or prop is None:
            return None
        if node_text(prop) not in STEPS:
            return None
        if node_text(prop) in ("use", "concat", "unstable_concat"):
            uses[:0] = call_args(node)[:1]
        node = unwrap(fn.child_by_field_name("object"))
    if node is None:
        return None
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return (None, uses) if prop is not None and node_text(prop) == "procedure" else None
    return (node_text(node), uses) if node.type == "identifier" else None


def procedure(call: Node) -> tuple[str, Node, str | None, list[Node]] | None:
    """(kind, resolver, root, uses) when ``call`` is ``<chain>.query|mutation|subscription(fn)``
    on a builder chain."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "member_expression":
        return None
    prop = fn.child_by_field_name("property")
    args = call_args(call)
    resolver = unwrap(args[0]) if args else None
    if prop is None or node_text(prop) not in KINDS or resolver is None:
        return None
    if resolver.type not in RESOLVERS:
        return None
    chain = links(fn.child_by_field_name("object"), stepped=True)
    if chain is None:
        return None
    root, uses = chain
    if root is not None and not (uses or _steps(fn) or "procedure" in root.lower()):
        return None  # ``db.query(fn)``: a bare name's call, nothing of a builder
    return node_text(prop), resolver, root, uses


def _steps(member: Node) -> bool:
    obj = unwrap(member.child_by_field_name("object"))
    return obj is not None and obj.type == "call_expression"


def is_resolver(fn: Node) -> bool:
    """Is ``fn`` a tRPC procedure's resolver (its one argument holds the caller's ``input``)?"""
    args = fn.parent
    call = args.parent if args is not None and args.type == "arguments" else None
    return call is not None and call.type == "call_expression" and procedure(call) is not None


def _context_name(fn: Node) -> str:
    """The name the middleware's context goes by: ``ctx`` of ``({ ctx, next })``."""
    ps = fn.child_by_field_name("parameters")
    first = ps.named_children[0] if ps is not None and ps.named_children else None
    if first is not None and first.type.endswith("_parameter"):
        first = first.child_by_field_name("pattern")
    if first is None or first.type != "object_pattern":
        return ""
    for p in first.named_children:
        if p.type == "shorthand_property_identifier_pattern" and node_text(p) == "ctx":
            return "ctx"
        if p.type == "pair_pattern" and node_text(p.child_by_field_name("key") or p) == "ctx":
            value = p.child_by_field_name("value")
            return node_text(value) if value is not None and value.type == "identifier" else ""
    return ""


def input_token(fn: Node) -> dict[str, Any] | None:
    """{"v", "why", "line", "s"} when a resolver reads a secret link's token from its input
    (``const { token } = input``, ``input.inviteToken``) and hands it to a call by its first
    ``return`` (that one included): the caller is admitted by holding the token (an invite,
    a signing link), as a Python handler's token from the body is (``_python/tokens.py``). A
    token written as a row's value admits no one; one the resolver tests first (``if
    (input.token)``) is ``optional``: it admits its holder, the rest of the resolver decides
    for the caller without one."""
    returns = nodes_of(fn, _RETURNS)
    until = returns[0].end_byte if returns else fn.end_byte
    head = (fn.text or b"")[: max(0, until - fn.start_byte)].decode("utf-8", "replace")
    keys = re.findall(r"\binput\.(\w+)", head)
    for fields in re.findall(r"\{([^{}]*)\}\s*=\s*input\b", head):
        keys += [f.split(":")[0].strip() for f in fields.split(",")]
    for key in dict.fromkeys(k for k in keys if k and is_token_key(k)):
        for handed in re.finditer(rf"\([^()]*\b(?:input\.)?{key}\b", head):
            if re.search(r"\b(?:if|while)\s*$", head[: handed.start()]):
                continue  # a test of it, not a call given it
            if re.search(r"\bdata\s*:\s*\{[^{}]*$", handed.group(0)):
                continue  # written as a row's value (``create({ data: { token } })``)
            line = fn.start_point[0] + head.count("\n", 0, handed.start()) + 1
            text = head[head.rfind("\n", 0, handed.start()) + 1 :].split("\n", 1)[0].strip()
            why = f"url_token: {key} from the input (a secret link)"
            # tested first (``if (input.token)``): a caller may come without one
            # (``if (!token) throw`` requires it: not optional)
            optional = re.search(rf"\bif\s*\(\s*(?:input\.)?{key}\b", head) is not None
            return {"v": "authenticated", "why": why, "line": line, "s": text, "optional": optional}
    return None


def first_return(fn: Node) -> int:
    """Where a resolver's first ``return`` starts: a check after it guards one way only
    (``if (token) return ...; if (!ctx.user) throw``: a caller with a token passes)."""
    found = nodes_of(fn, _RETURNS)
    return found[0].start_byte if found else fn.end_byte


def middleware_verdict(fn: Node, until: int | None = None) -> dict[str, Any] | None:
    """{"v", "why", "line", "s"} when the middleware refuses a caller without identity;
    ``restricted`` when it refuses one on a role test. Only tests before ``until`` count.
    A role test with no test of the caller's identity is ``alone``: whose role it reads
    (the caller's, or a record's) is not said, so it restricts only a procedure another
    check authenticates."""
    ctx = _context_name(fn)
    if not ctx:
        return None
    who: dict[str, Any] | None = None
    role = None
    for node in nodes_of(fn, _IFS):
        if until is not None and node.start_byte > until:
            break
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        found = rejection(then) if then is not None else None
        if cond is None or found is None:
            continue
        negative = any(c in node_text(cond) for c in ("!", "null", "undefined"))
        if who is None and negative and mentions_caller(cond, ctx, set()):
            who = {
                "v": "restricted" if restricts(cond, ctx, set()) else "authenticated",
                "why": f"refuses the caller on the test `{_quote(cond)}`",
                "line": line_of(found),
                "s": source_line(found),
            }
        elif role is None and _role_test(cond):
            role = (cond, found)
    if role is not None:
        cond, found = role
        why = f"refuses the caller on the role test `{_quote(cond)}`"
        why = f"{who['why']}, then {why.removeprefix('refuses the caller ')}" if who else why
        out = {"v": "restricted", "why": why, "line": line_of(found), "s": source_line(found)}
        return out if who else {**out, "alone": True}
    return who


def handed_context(fn: Node, until: int | None = None) -> list[str]:
    """The functions a middleware calls with its context (``await checkPermission(ctx,
    {...})``) before ``until``: they may refuse the caller for it, read at link time
    (``role_refusal``)."""
    ctx = _context_name(fn)
    out: list[str] = []
    for call in nodes_of(fn, _CALLS) if ctx else []:
        if until is not None and call.start_byte > until:
            break
        name = callee(call)
        if "." not in name and any(node_text(a) == ctx for a in call_args(call)):
            out.append(name)
    return list(dict.fromkeys(out))


def role_refusal(fn: Node) -> dict[str, Any] | None:
    """A function that refuses on a role test (``if (!role) throw new TRPCError(...)``):
    a permission check a middleware hands its context to (``alone``, as in
    ``middleware_verdict``)."""
    for node in nodes_of(fn, _IFS):
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        found = rejection(then) if then is not None else None
        if cond is not None and found is not None and _role_test(cond):
            why = f"refuses the caller on the role test `{_quote(cond)}`"
            line, quote = line_of(found), source_line(found)
            return {"v": "restricted", "why": why, "line": line, "s": quote, "alone": True}
    return None


def _role_test(cond: Node) -> bool:
    """Does the test name a role in a name it reads, not in the client's ``input`` nor in a
    string (``!["admin", "member"].includes(input.defaultRole)``: a value being validated,
    not the caller's role)?"""
    text = _INPUT_READ.sub("", node_text(cond)).lower()
    return any(w in text for w in ROLE)


def _quote(cond: Node) -> str:
    """A test's source on one line (a multi-line condition quoted in a mechanism)."""
    return " ".join(node_text(cond).split())[:80]
