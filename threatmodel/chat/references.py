"""Where a constant-like name (``STRIPE_SECRET_KEY``) is read in the code, found by parsing.

The env collector records where a variable is read from the environment; a name can also be
a module constant (``config.STRIPE_SECRET_KEY``) or a key string (``os.environ["X"]``,
``process.env["X"]``). This index parses each Python file with ``ast`` and each
JavaScript/TypeScript file with tree-sitter once, on first use, and records every identifier,
attribute and string literal that looks like a constant name (UPPER_SNAKE_CASE), with its
line. Built lazily because most sessions never ask.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.code.treesitter import node_text, parse_js
from threatmodel.code.walk import walk

CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
JS_NAME_NODES = frozenset(
    {"identifier", "property_identifier", "shorthand_property_identifier", "string_fragment"}
)
MAX_FILES = 20_000  # beyond this the index would cost more than a question is worth


class ReferenceIndex:
    def __init__(self, root: Path, reader: RepoReader) -> None:
        self.root = root
        self.reader = reader
        self._index: dict[str, set[tuple[str, int, str]]] | None = None

    def lookup(self, name: str) -> list[tuple[str, int, str]]:
        """(path, line, kind) for each place ``name`` appears; kind: name | attribute | string."""
        if self._index is None:
            self._index = self._build()
        return sorted(self._index.get(name, set()))

    def _build(self) -> dict[str, set[tuple[str, int, str]]]:
        index: dict[str, set[tuple[str, int, str]]] = defaultdict(set)
        files = walk(self.root).files[:MAX_FILES]
        for path in files:
            lang = detect_language(path)
            if lang != "python" and lang not in JS_LANGUAGES:
                continue
            try:
                text = "\n".join(self.reader.lines(path))
            except PathRefused:
                continue
            if lang == "python":
                _python(path, text, index)
            else:
                _js(path, text, lang, index)
        return dict(index)


def _python(path: str, text: str, index: dict[str, set[tuple[str, int, str]]]) -> None:
    tree = python_tree(text)
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and CONSTANT.fullmatch(node.id):
            index[node.id].add((path, node.lineno, "name"))
        elif isinstance(node, ast.Attribute) and CONSTANT.fullmatch(node.attr):
            index[node.attr].add((path, node.lineno, "attribute"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and len(node.value) < 200
            and CONSTANT.fullmatch(node.value)
        ):
            index[node.value].add((path, node.lineno, "string"))


def _js(path: str, text: str, lang: str, index: dict[str, set[tuple[str, int, str]]]) -> None:
    stack = [parse_js(text, lang).root_node]
    while stack:
        cur = stack.pop()
        stack.extend(cur.children)
        if cur.type in JS_NAME_NODES:
            word = node_text(cur)
            if len(word) < 200 and CONSTANT.fullmatch(word):
                kind = {"string_fragment": "string", "identifier": "name"}.get(
                    cur.type, "attribute"
                )
                index[word].add((path, cur.start_point[0] + 1, kind))
