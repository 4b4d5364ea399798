"""What one cited line assigns: a literal, an environment read, or some other expression.

hardcoded_secret, debug_enabled and weak_jwt refute claims whose cited line plainly does
not hold a literal (``SECRET = os.environ["X"]``) or is a comment. The line is parsed, not
pattern-matched: Python through ``ast`` (assignments and keyword arguments on that line),
JavaScript through tree-sitter (declarators, assignments and object pairs).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from threatmodel.code import jsast
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import detect_language
from threatmodel.code.treesitter import node_text, parse_js
from threatmodel.collect._pyexpr import dotted
from threatmodel.models import Location
from threatmodel.verify._code import language, short

COMMENT_PREFIXES = ("#", "//", "/*", "*", "--", "<!--")
ENV_READS = ("os.environ", "os.getenv", "environ.get", "getenv", "env", "config")


@dataclass(frozen=True)
class Assigned:
    target: str  # the variable / key / keyword name
    kind: str  # literal | env | bool | other
    text: str  # the value's source, shortened (never shown for literals)
    length: int = 0  # literal length
    truth: bool | None = None  # for bool constants


def is_comment(reader: RepoReader, loc: Location) -> bool:
    text = reader.snippet(loc.path, loc.line).strip()
    return bool(text) and text.startswith(COMMENT_PREFIXES)


def assigned_at(reader: RepoReader, loc: Location) -> list[Assigned] | None:
    """Values assigned on the cited line; None when the file is not Python or JS."""
    try:
        text = "\n".join(reader.lines(loc.path))
    except PathRefused:
        return None
    lang = language(loc.path)
    if lang == "python":
        return _python(text, loc.line)
    if lang == "js":
        return _js(text, loc.line, detect_language(loc.path))
    return None


def _python(text: str, line: int) -> list[Assigned] | None:
    tree = python_tree(text)
    if tree is None:
        return None
    out: list[Assigned] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.lineno == line and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                out.append(_py_value(ast.unparse(t), node.value))
        elif isinstance(node, ast.keyword) and node.arg and node.value.lineno == line:
            out.append(_py_value(node.arg, node.value))
        elif isinstance(node, ast.Dict) and node.lineno <= line <= (node.end_lineno or line):
            for k, v in zip(node.keys, node.values, strict=False):
                if isinstance(k, ast.Constant) and v.lineno == line:
                    out.append(_py_value(str(k.value), v))
    if not any(a.kind == "literal" for a in out):
        out.extend(_py_loose_literals(tree, line))
    return out


def _py_loose_literals(tree: ast.Module, line: int) -> list[Assigned]:
    """String literals on the line passed as arguments (not an env var's name)."""
    env_names: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and "environ" in dotted(node.value):
            env_names.add(id(node.slice))
        elif isinstance(node, ast.Call) and dotted(node.func).endswith(("getenv", "environ.get")):
            env_names.update(id(a) for a in node.args[:1])
    return [
        Assigned("a string argument", "literal", "", length=len(node.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.lineno == line
        and node.value
        and id(node) not in env_names
    ]


def _py_value(target: str, value: ast.expr) -> Assigned:
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return Assigned(target, "bool", str(value.value), truth=value.value)
    if isinstance(value, ast.Constant) and isinstance(value.value, str | bytes):
        return Assigned(target, "literal", "", length=len(value.value))
    text = short(ast.unparse(value))
    names = {dotted(n) for n in ast.walk(value) if isinstance(n, ast.Attribute | ast.Name)}
    if any(n.endswith(ENV_READS) or "environ" in n for n in names):
        return Assigned(target, "env", text)
    return Assigned(target, "other", text)


def _js(text: str, line: int, lang: str) -> list[Assigned]:
    tree = parse_js(text, lang)
    out: list[Assigned] = []
    for node in jsast.walk(tree.root_node):
        if node.start_point[0] + 1 != line:
            continue
        bound = jsast.binding(node)
        if node.type == "pair":  # an object's ``key: value`` sets a field too
            key, val = node.child_by_field_name("key"), node.child_by_field_name("value")
            bound = (key, val) if key is not None and val is not None else None
        if bound is None:
            continue
        target, value = bound
        name = node_text(target)
        if value.type in ("true", "false"):
            out.append(Assigned(name, "bool", value.type, truth=value.type == "true"))
        elif jsast.string_value(value) is not None:
            out.append(Assigned(name, "literal", "", length=len(jsast.string_value(value) or "")))
        elif "process.env" in node_text(value) or "import.meta.env" in node_text(value):
            out.append(Assigned(name, "env", short(node_text(value))))
        else:
            out.append(Assigned(name, "other", short(node_text(value))))
    if not any(a.kind == "literal" for a in out):
        out.extend(
            Assigned("a string argument", "literal", "", length=len(jsast.string_value(n) or ""))
            for n in jsast.walk(tree.root_node)
            if n.type == "string"
            and n.start_point[0] + 1 == line
            and jsast.string_value(n)
            and not (n.parent is not None and "env" in node_text(n.parent.parent or n.parent))
        )
    return out
