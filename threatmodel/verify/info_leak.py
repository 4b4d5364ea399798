"""info_leak: internal details (exception text, stack traces) are sent back to the client.

The cited file is parsed and the code near the cited line inspected. Confirmed when a
response built near the line includes exception text (``str(e)``, ``e.message``,
``repr(e)``, ``traceback.format_exc()``, ``err.stack``, ``res.send(err)``). Anything else
is unverifiable: what counts as sensitive data in a response is not decidable from code,
so this verifier never refutes on content (the evidence check still refutes quotes that
are not there).
"""

from __future__ import annotations

import ast

from threatmodel.code import jsast
from threatmodel.code.treesitter import node_text
from threatmodel.collect._pyexpr import dotted
from threatmodel.models import Claim, Finding, Location
from threatmodel.verify._code import locations, short
from threatmodel.verify._window import is_js, is_python, js_window, python_window
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

RESPONSE_CALLS = ("jsonify", "Response", "make_response", "JsonResponse", "HttpResponse", "abort")


@register
class InfoLeak(Verifier):
    kind = "info_leak"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        for loc in locations(claim, finding):
            hit = self._python(ctx, loc) if is_python(loc) else None
            hit = hit or (self._js(ctx, loc) if is_js(loc) else None)
            if hit:
                return ClaimResult.confirmed(hit)
        return ClaimResult.unverifiable(
            "whether this response leaks sensitive data is not decidable"
        )

    @staticmethod
    def _python(ctx: VerifyContext, loc: Location) -> str | None:
        window = python_window(ctx.reader, loc)
        if window is None:
            return None
        for node in window.nodes:
            if isinstance(node, ast.Return) and node.value is not None:
                targets = [node.value]
            elif isinstance(node, ast.Call) and dotted(node.func).endswith(RESPONSE_CALLS):
                targets = [node]
            else:
                continue
            for t in targets:
                if _exception_text(t):
                    quoted = short(ast.unparse(t))
                    return f"the response at {loc.path}:{node.lineno} includes `{quoted}`"
        return None

    @staticmethod
    def _js(ctx: VerifyContext, loc: Location) -> str | None:
        for node in js_window(ctx.reader, loc) or []:
            if node.type != "call_expression":
                continue
            name = jsast.callee(node)
            if not name.endswith((".send", ".json", ".write", ".end", ".render")):
                continue
            text = " ".join(node_text(a) for a in jsast.call_args(node))
            if any(
                w in text for w in (".stack", "err)", "error)", "err.message", "JSON.stringify(err")
            ):
                return f"{name} at {loc.path}:{node.start_point[0] + 1} sends `{short(text)}`"
            if any(jsast.dotted(a) in ("err", "error", "e") for a in jsast.call_args(node)):
                return f"{name} at {loc.path}:{node.start_point[0] + 1} sends the error object"
        return None


EXC_NAMES = frozenset({"e", "exc", "err", "error", "ex"})


def _exception_text(node: ast.AST) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and dotted(n.func).startswith("traceback.format"):
            return True
        if (
            isinstance(n, ast.Call)
            and dotted(n.func) in ("str", "repr")
            and n.args
            and isinstance(n.args[0], ast.Name)
            and n.args[0].id in EXC_NAMES
        ):
            return True
        if (
            isinstance(n, ast.Attribute)
            and n.attr in ("message", "args")
            and isinstance(n.value, ast.Name)
            and n.value.id in EXC_NAMES
        ):
            return True
    return False
