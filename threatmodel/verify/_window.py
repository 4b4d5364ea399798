"""The syntax nodes near a cited line, for verifiers that look for a code shape, not a sink.

xss, mass_assignment and info_leak look for patterns (a ``**request.json`` constructor, an
exception rendered into a response) rather than one call, so they need the parsed nodes
around the cited line with their function's scope. Files are read via ``RepoReader``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threatmodel.code import jsast
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.treesitter import parse_js
from threatmodel.collect._pyexpr import Scope, function_at, scope_for
from threatmodel.models import Location
from threatmodel.verify._code import AFTER, BEFORE, language

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass
class PyWindow:
    nodes: list[ast.expr | ast.stmt]
    scope: Scope


def python_window(reader: RepoReader, loc: Location) -> PyWindow | None:
    try:
        tree = python_tree("\n".join(reader.lines(loc.path)))
    except PathRefused:
        return None
    if tree is None:
        return None
    fn = function_at(tree, loc.line)
    nodes = [
        n
        for n in ast.walk(fn or tree)
        if isinstance(n, ast.expr | ast.stmt)
        and loc.line - BEFORE <= n.lineno <= loc.line + AFTER
        and not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    return PyWindow(nodes, scope_for(tree, fn))


def js_window(reader: RepoReader, loc: Location) -> list[Node] | None:
    try:
        text = "\n".join(reader.lines(loc.path))
    except PathRefused:
        return None
    from threatmodel.code.source import detect_language

    tree = parse_js(text, detect_language(loc.path))
    return [
        n
        for n in jsast.walk(tree.root_node)
        if n.is_named and loc.line - BEFORE <= n.start_point[0] + 1 <= loc.line + AFTER
    ]


def is_python(loc: Location) -> bool:
    return language(loc.path) == "python"


def is_js(loc: Location) -> bool:
    return language(loc.path) == "js"
