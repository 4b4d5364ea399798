"""xss: request input reaches HTML unescaped at the cited location.

The line verifier: it answers only where no flow of the dataflow engine touches the cited
line (``verify.flows``).

The cited file is parsed and the code near the cited line inspected:

- confirmed: a template is compiled from a string built from the request
  (``render_template_string``, ``Markup``, ``jinja2.Template``, ``ejs.render``), a Flask
  handler returns an HTML string built from the request, ``res.send`` / ``res.write``
  sends a string built from the request, or ``innerHTML`` is assigned one;
- refuted: the response near the line is JSON (``jsonify``, ``res.json``), which browsers
  do not render as HTML;
- unverifiable: anything else, e.g. a file template whose escaping is decided in the
  template, or input that does not visibly come from the request.
"""

from __future__ import annotations

import ast

from threatmodel.code import jsast
from threatmodel.code.treesitter import node_text
from threatmodel.collect._pyexpr import Flow, classify, dotted, mentions_request
from threatmodel.collect.sinks_js import _Scope, enclosing_function
from threatmodel.dataflow.catalog import JS_CATALOG
from threatmodel.dataflow.jsconds import RESPONSES
from threatmodel.models import Claim, Finding, Location
from threatmodel.verify._code import candidates, locations, short
from threatmodel.verify._window import is_js, is_python, js_window, python_window
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext

JSON_CALLS = ("jsonify", "flask.jsonify", "JsonResponse", "JSONResponse", "res.json")


class Xss(Verifier):
    kind = "xss"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        json_at: str | None = None
        for loc in locs:
            for c in candidates(ctx.reader, loc, {"template"}) or []:
                if c.dynamic and c.from_request:
                    return ClaimResult.confirmed(f"{c.call} at {c.where} renders `{c.arg}`")
            found = self._python(ctx, loc) if is_python(loc) else None
            found = found or (self._js(ctx, loc) if is_js(loc) else None)
            if found is not None and found[0]:
                return ClaimResult.confirmed(found[1])
            if found is not None and json_at is None:
                json_at = found[1]
        if json_at is not None:
            return ClaimResult.refuted(json_at)
        return ClaimResult.unverifiable(
            "no HTML built from request input is visible near the location"
        )

    @staticmethod
    def _python(ctx: VerifyContext, loc: Location) -> tuple[bool, str] | None:
        window = python_window(ctx.reader, loc)
        if window is None:
            return None
        json_hit = None
        for node in window.nodes:
            if isinstance(node, ast.Return) and node.value is not None:
                value = node.value.elts[0] if isinstance(node.value, ast.Tuple) else node.value
                if classify(value, window.scope) is Flow.BUILT and mentions_request(
                    value, window.scope
                ):
                    return (
                        True,
                        f"the handler returns HTML `{short(ast.unparse(value))}` "
                        f"at {loc.path}:{node.lineno}",
                    )
            if isinstance(node, ast.Call) and dotted(node.func) in JSON_CALLS and json_hit is None:
                json_hit = (
                    f"the response at {loc.path}:{node.lineno} is JSON "
                    f"({dotted(node.func)}), not HTML"
                )
        return (False, json_hit) if json_hit else None

    @staticmethod
    def _js(ctx: VerifyContext, loc: Location) -> tuple[bool, str] | None:
        nodes = js_window(ctx.reader, loc)
        if nodes is None:
            return None
        json_hit = None
        for node in nodes:
            if node.type != "call_expression":
                continue
            name = jsast.callee(node)
            args = jsast.call_args(node)
            line = node.start_point[0] + 1
            if _html_send(name) and args:
                root = node
                while root.parent is not None:
                    root = root.parent
                scope = _Scope(enclosing_function(node), root)
                if scope.classify(args[0]) == "built" and scope.from_request(args[0]):
                    return True, f"{name} at {loc.path}:{line} sends `{short(node_text(args[0]))}`"
            if name.endswith(".json") and json_hit is None:
                json_hit = f"the response at {loc.path}:{line} is JSON ({name}), not HTML"
        return (False, json_hit) if json_hit else None


def _html_send(name: str) -> bool:
    """``res.send(...)``: a method the xss catalog's ``html_response`` rows name, called on a
    response (``res``, ``response`` ...), writes the HTML body."""
    receiver, _, method = name.rpartition(".")
    return receiver.rsplit(".", 1)[-1] in RESPONSES and any(
        row.when == "html_response"
        for kind, row in JS_CATALOG.sinks_for("", method)
        if kind == "xss"
    )
