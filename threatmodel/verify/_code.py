"""Re-read the code at a cited location: which dangerous call is there, and how is it fed?

The code-level verifiers (sql_injection, command_injection, ssrf, open_redirect, xss) do
not trust the sinks facts alone: they parse the cited file through ``RepoReader`` (so a
path named by an LLM is never read outside the repository) and classify the calls within
a few lines of the cited line: the calls the claim catalog names (Python: ``_calls``, JS:
the JS sinks collector's ``describe``). A call a few lines
below the cited line counts (LLMs often cite the line that builds the string).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threatmodel.code import jsast
from threatmodel.code.pyast import imports_of
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.code.treesitter import node_text, parse_js
from threatmodel.collect._pyexpr import Scope, call_sites, dotted
from threatmodel.collect.sinks_js import describe as describe_js
from threatmodel.collect.sinks_js import enclosing_function
from threatmodel.models import Claim, Finding, Location
from threatmodel.verify._calls import describe_call

if TYPE_CHECKING:
    from tree_sitter import Node

BEFORE, AFTER = 2, 6  # lines around the cited line where the dangerous call may sit


@dataclass(frozen=True)
class Candidate:
    """A dangerous call near the cited line, as the verifiers need it."""

    kind: str
    call: str
    path: str
    line: int
    dynamic: bool
    flow: str  # const | built | opaque
    from_request: bool
    parameterised: bool
    arg: str  # source text of the dangerous argument (shortened)
    prefix: str | None  # constant text the argument starts with, when it is a string
    validated: bool  # the enclosing function calls an allow-list / safe-url check

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def locations(claim: Claim, finding: Finding) -> list[Location]:
    """Where to look: the claim's location, else every evidence start."""
    if claim.location is not None:
        return [claim.location]
    seen: list[Location] = []
    for e in finding.evidence:
        loc = Location(path=e.path, line=e.start_line)
        if loc not in seen:
            seen.append(loc)
    return seen


def language(path: str) -> str:
    lang = detect_language(path)
    return "js" if lang in JS_LANGUAGES else lang


def line_text(reader: RepoReader, loc: Location) -> str:
    text = reader.snippet(loc.path, loc.line).strip()
    return text if len(text) <= 80 else text[:77] + "..."


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def candidates(reader: RepoReader, loc: Location, kinds: set[str]) -> list[Candidate] | None:
    """Sink calls of ``kinds`` near ``loc``, nearest first; None when the file cannot be parsed."""
    try:
        text = "\n".join(reader.lines(loc.path))
    except PathRefused:
        return None
    lang = language(loc.path)
    if lang == "python":
        found = _python(text, loc, kinds)
    elif lang == "js":
        found = _js(text, loc, kinds, detect_language(loc.path))
    else:
        return None
    if found is None:
        return None
    return sorted(found, key=lambda c: (abs(c.line - loc.line), c.line))


def _near(start: int, end: int, line: int) -> bool:
    return start - AFTER <= line <= end + BEFORE


def _header(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The line a finding cites when it means "this whole function": its ``def`` line.

    A claim citing a handler's ``def`` (or a JS route callback's first line) is about the
    whole body, so every call in that function is a candidate, not only nearby ones.
    """
    return fn.lineno


def _python(text: str, loc: Location, kinds: set[str]) -> list[Candidate] | None:
    tree = python_tree(text)
    if tree is None:
        return None
    out = []
    imports = imports_of(tree)
    for site in call_sites(tree):
        call = site.call
        cited_header = site.function is not None and _header(site.function) == loc.line
        if not cited_header and not _near(call.lineno, call.end_lineno or call.lineno, loc.line):
            continue
        info = describe_call(call, site.scope, imports)
        if info is None or info.kind not in kinds:
            continue
        arg_src = ast.unparse(info.arg) if info.arg is not None else ""
        validated = site.function is not None and _validates(site.function)
        out.append(
            Candidate(
                kind=info.kind,
                call=info.call,
                path=loc.path,
                line=call.lineno,
                dynamic=info.dynamic,
                flow=info.flow.value,
                from_request=info.from_request,
                parameterised=info.parameterised,
                arg=short(arg_src),
                prefix=_py_prefix(info.arg, site.scope) if info.arg is not None else None,
                validated=validated,
            )
        )
    return out


def _validates(fn: ast.AST) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            name = dotted(node.func).lower()
            if any(w in name for w in ("safe_url", "is_safe", "allowed_host", "allowlist")):
                return True
    return False


def _py_prefix(expr: ast.expr, scope: Scope, depth: int = 0) -> str | None:
    """The constant text a string expression starts with (through local names)."""
    if depth > 5:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        first = expr.values[0] if expr.values else None
        return str(first.value) if isinstance(first, ast.Constant) else ""
    if isinstance(expr, ast.BinOp):
        return _py_prefix(expr.left, scope, depth + 1)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
    ):
        return _py_prefix(expr.func.value, scope, depth + 1)
    if isinstance(expr, ast.Name):
        values = scope.values(expr.id)
        if values and len(values) == 1:
            return _py_prefix(values[0], scope, depth + 1)
    return None


def _js(text: str, loc: Location, kinds: set[str], lang: str) -> list[Candidate] | None:
    tree = parse_js(text, lang)
    imports = jsast.imports(tree.root_node)
    out = []
    for node in jsast.walk(tree.root_node):
        if node.type not in ("call_expression", "new_expression", "pair"):
            continue
        start, end = node.start_point[0] + 1, node.end_point[0] + 1
        fn = enclosing_function(node)
        cited_header = fn is not None and fn.start_point[0] + 1 == loc.line
        if not cited_header and not _near(start, end, loc.line):
            continue
        info = describe_js(node, imports, fn, tree.root_node)
        if info is None or info.kind not in kinds:
            continue
        out.append(
            Candidate(
                kind=info.kind,
                call=info.call,
                path=loc.path,
                line=start,
                dynamic=info.dynamic,
                flow=info.flow,
                from_request=info.from_request,
                parameterised=info.parameterised,
                arg=short(node_text(info.arg)) if info.arg is not None else "",
                prefix=_js_prefix(info.arg) if node.type != "pair" else None,
                validated=node.type != "pair" and fn is not None and _js_validates(fn),
            )
        )
    return out


def _js_prefix(node: Node | None) -> str | None:
    node = jsast.unwrap(node)
    if node is None:
        return None
    value = jsast.string_value(node)
    if value is not None:
        return value
    if node.type == "template_string":
        first = node.named_children[0] if node.named_children else None
        return node_text(first) if first is not None and first.type == "string_fragment" else ""
    if node.type == "binary_expression":
        return _js_prefix(node.child_by_field_name("left"))
    return None


def _js_validates(fn: Node) -> bool:
    for n in jsast.walk(fn):
        if n.type == "call_expression":
            name = jsast.callee(n).lower()
            if any(w in name for w in ("safeurl", "issafe", "allowlist", "whitelist")):
                return True
    return False


def fixed_origin(prefix: str | None) -> str | None:
    """``https://api.example.com`` when a URL's constant start fixes its host, else None."""
    if not prefix or "://" not in prefix:
        return None
    scheme, _, rest = prefix.partition("://")
    host, sep, _ = rest.partition("/")
    if not sep or not host or any(c in host for c in "{}%"):
        return None  # "https://" + host ...: the host itself is still open
    return f"{scheme}://{host}"


def sql_placeholders(prefix: str | None) -> str:
    """The placeholder style of a parameterised query string, for the refutation reason."""
    if not prefix:
        return ""
    for style in ("?", "%s", "$1"):
        if style in prefix:
            return f" (placeholders {style})"
    if ":" in prefix:
        return " (named placeholders)"
    return ""
