"""mass_assignment: a model is created or updated from the whole request body.

The cited file is parsed and the code near the cited line inspected:

- confirmed: a call spreads request data into a model (``User(**request.json)``,
  ``obj.__dict__.update(request.json)``, ``setattr`` in a loop over request data,
  ``User.create(req.body)``, ``new User(req.body)``, ``Object.assign(user, req.body)``,
  ``findByIdAndUpdate(id, req.body)``, ``{...req.body}``);
- refuted: the constructor or create call near the line names its fields explicitly
  (the reason lists them);
- unverifiable: neither shape is visible (e.g. a serializer whose field list lives
  elsewhere).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from threatmodel.code import jsast
from threatmodel.code.treesitter import node_text
from threatmodel.collect._pyexpr import dotted, mentions_request
from threatmodel.models import Claim, Finding, Location
from threatmodel.verify._code import locations, short
from threatmodel.verify._window import is_js, is_python, js_window, python_window
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

if TYPE_CHECKING:
    from tree_sitter import Node

JS_WRITERS = frozenset(
    {"create", "update", "updateOne", "updateMany", "findByIdAndUpdate", "findOneAndUpdate"}
    | {"assign", "insert", "insertOne", "build", "upsert", "save", "set"}
)
REQUEST_BODIES = ("req.body", "request.body", "ctx.request.body", "req.query")


@register
class MassAssignment(Verifier):
    kind = "mass_assignment"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        explicit: str | None = None
        for loc in locs:
            found = self._python(ctx, loc) if is_python(loc) else None
            found = found or (self._js(ctx, loc) if is_js(loc) else None)
            if found is not None and found[0]:
                return ClaimResult.confirmed(found[1])
            if found is not None and explicit is None:
                explicit = found[1]
        if explicit is not None:
            return ClaimResult.refuted(explicit)
        return ClaimResult.unverifiable("no model write from request data is visible near it")

    @staticmethod
    def _python(ctx: VerifyContext, loc: Location) -> tuple[bool, str] | None:
        window = python_window(ctx.reader, loc)
        if window is None:
            return None
        explicit = None
        for node in window.nodes:
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                spread = [k.value for k in node.keywords if k.arg is None]
                if any(mentions_request(v, window.scope) for v in spread):
                    return True, f"{name}(**...) at {loc.path}:{node.lineno} spreads request data"
                if name.endswith("__dict__.update") and any(
                    mentions_request(a, window.scope) for a in node.args
                ):
                    return True, f"{name} at {loc.path}:{node.lineno} copies request data"
                last = name.rsplit(".", 1)[-1]
                named = [k.arg for k in node.keywords if k.arg]
                if (
                    (last[:1].isupper() or last == "create")
                    and named
                    and not spread
                    and explicit is None
                ):
                    explicit = (
                        f"{name}(...) at {loc.path}:{node.lineno} sets explicit fields "
                        f"{', '.join(named)}"
                    )
            if isinstance(node, ast.For) and mentions_request(node.iter, window.scope):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and dotted(inner.func) == "setattr":
                        return (
                            True,
                            f"setattr in a loop over request data at {loc.path}:{node.lineno}",
                        )
        return (False, explicit) if explicit else None

    @staticmethod
    def _js(ctx: VerifyContext, loc: Location) -> tuple[bool, str] | None:
        nodes = js_window(ctx.reader, loc)
        if nodes is None:
            return None
        explicit = None
        for node in nodes:
            line = node.start_point[0] + 1
            if node.type == "spread_element" and node_text(node)[3:].startswith(REQUEST_BODIES):
                return (
                    True,
                    f"`{short(node_text(node))}` at {loc.path}:{line} spreads the request body",
                )
            if node.type not in ("call_expression", "new_expression"):
                continue
            name = (
                jsast.callee(node)
                if node.type == "call_expression"
                else jsast.dotted(node.child_by_field_name("constructor"))
            )
            last = name.rsplit(".", 1)[-1]
            if node.type == "new_expression" or last in JS_WRITERS:
                args = jsast.call_args(node) if node.type == "call_expression" else _new_args(node)
                if any(jsast.dotted(jsast.unwrap(a)) in REQUEST_BODIES for a in args):
                    return True, f"{name} at {loc.path}:{line} is given the whole request body"
                fields = [k for a in args for k in jsast.object_props(a)]
                if fields and explicit is None and node.type == "call_expression":
                    explicit = (
                        f"{name} at {loc.path}:{line} sets explicit fields {', '.join(fields)}"
                    )
        return (False, explicit) if explicit else None


def _new_args(node: Node) -> list[Node]:
    args = node.child_by_field_name("arguments")
    return list(args.named_children) if args is not None else []
