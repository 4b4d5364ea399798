"""tree-sitter parsers for JavaScript, JSX, TypeScript and TSX, built once per process."""

from __future__ import annotations

from functools import cache

import tree_sitter


@cache
def _parser(language: str) -> tree_sitter.Parser:
    if language in ("typescript", "tsx"):
        import tree_sitter_typescript as ts

        lang = ts.language_tsx() if language == "tsx" else ts.language_typescript()
    else:
        import tree_sitter_javascript as js  # its grammar covers JSX too

        lang = js.language()
    return tree_sitter.Parser(tree_sitter.Language(lang))


def parse_js(text: str, language: str) -> tree_sitter.Tree:
    """Parse source; tree-sitter never raises on bad syntax, it marks ERROR nodes."""
    return _parser(language).parse(text.encode("utf-8", "replace"))


def node_text(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
