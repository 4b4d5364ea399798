"""jsindex's query-built listing answers ``nodes_of`` exactly as a walk filtered by type.

The listing is sorted by byte range, so the cases that ordering cannot settle on its own are
tested here: nodes over the same bytes (a parent must come first), empty nodes of an error
tree, subtrees that are not listed themselves, other trees, and types outside the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tree_sitter import Node

from threatmodel.code import jsindex
from threatmodel.code.treesitter import parse_js

FIXTURES = Path(__file__).parent / "fixtures" / "js"
_LANGUAGE = {".js": "javascript", ".jsx": "javascript", ".ts": "typescript", ".tsx": "tsx"}
INDEXED = sorted(jsindex._INDEXED_TYPES)
ASKED = [
    frozenset({"call_expression"}),
    frozenset({"member_expression", "subscript_expression", "variable_declarator"}),
    jsindex.FUNCTION_TYPES,
    jsindex._INDEXED_TYPES,
    frozenset({"identifier", "call_expression"}),  # not all indexed: a walk answers
]


def _plain(node: Node, types: frozenset[str]) -> list[tuple[int, str]]:
    return [(n.id, n.type) for n in jsindex._cursor_walk(node) if n.type in types]


def _asked(node: Node, types: frozenset[str]) -> list[tuple[int, str]]:
    return [(n.id, n.type) for n in jsindex.nodes_of(node, types)]


def _check_tree(root: Node) -> int:
    """Whole tree and every named subtree (leaves too): nodes_of == filtered walk."""
    checked = 0
    for types in ASKED:
        assert _asked(root, types) == _plain(root, types)
    for sub in jsindex._cursor_walk(root):
        if sub.is_named and sub.type != "program":
            for types in ASKED[:4]:
                assert _asked(sub, types) == _plain(sub, types), (sub.type, sub.byte_range)
            checked += 1
    return checked


def _fixture_trees() -> Iterator[Node]:
    for path in sorted(p for p in FIXTURES.rglob("*") if p.suffix in _LANGUAGE):
        yield parse_js(path.read_text(), _LANGUAGE[path.suffix]).root_node


def test_every_subtree_of_every_fixture_in_walk_order() -> None:
    subtrees = sum(_check_tree(root) for root in _fixture_trees())
    assert subtrees > 1000


def test_nodes_over_the_same_bytes_parent_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # `let x;`: the declarator and its identifier span the same byte; index identifiers too.
    monkeypatch.setattr(jsindex, "_INDEXED_TYPES", jsindex._INDEXED_TYPES | {"identifier"})
    jsindex._query.cache_clear()
    try:
        root = parse_js("let x; let y; f(x)(y);", "typescript").root_node
        jsindex.nodes_of(root, frozenset({"identifier"}))
        listed = jsindex._INDEXED
        assert listed is not None and listed.root == root and listed.nodes  # no fallback
        assert _asked(root, frozenset({"variable_declarator", "identifier"})) == _plain(
            root, frozenset({"variable_declarator", "identifier"})
        )
        assert [n.type for n in listed.nodes[:2]] == ["variable_declarator", "identifier"]
        _check_tree(root)
    finally:
        monkeypatch.undo()
        jsindex._query.cache_clear()


def test_an_empty_missing_node_falls_back_to_a_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsindex, "_INDEXED_TYPES", jsindex._INDEXED_TYPES | {"identifier"})
    jsindex._query.cache_clear()
    try:
        root = parse_js("const o = {a: }; g(o);", "typescript").root_node
        assert any(n.is_missing for n in jsindex._cursor_walk(root))
        assert _asked(root, frozenset({"identifier"})) == _plain(root, frozenset({"identifier"}))
        listed = jsindex._INDEXED
        assert listed is not None and listed.nodes == []  # not provable: every answer walks
        _check_tree(root)
    finally:
        monkeypatch.undo()
        jsindex._query.cache_clear()


def test_an_unlisted_subtree_under_a_listed_node_over_its_bytes() -> None:
    # `x` is a variable_declarator (listed) and an identifier (not) over the same byte.
    root = parse_js("let x; const y = 1;", "typescript").root_node
    declarators = jsindex.nodes_of(root, frozenset({"variable_declarator"}))
    name = declarators[0].child_by_field_name("name")
    assert name is not None and name.byte_range == declarators[0].byte_range
    assert jsindex.nodes_of(name, frozenset({"variable_declarator"})) == []
    assert jsindex.nodes_of(declarators[0], frozenset({"variable_declarator"})) == declarators[:1]


def test_a_subtree_of_another_tree_is_walked_not_sliced() -> None:
    src = "function a(req) { if (!req.user) { throw new Error('x'); } return f(req); }"
    first = parse_js(src, "javascript").root_node
    second = parse_js(src, "javascript").root_node
    jsindex.nodes_of(second, jsindex.FUNCTION_TYPES)  # the second tree is the listed one
    body = first.named_children[0].child_by_field_name("body")
    assert body is not None
    calls = frozenset({"call_expression", "new_expression", "throw_statement"})
    assert _asked(body, calls) == _plain(body, calls)
    assert jsindex.memo("k", first.named_children[0]) is None
    assert jsindex.memo("k", second.named_children[0]) is not None
