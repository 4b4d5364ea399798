"""jsast's per-tree listing: ``nodes_of`` and ``memo`` answer exactly what a walk would.

The JS collectors read whole files through ``nodes_of`` (positions grouped by node type) and
share ``handler_auth`` answers through ``memo``; their output must be what a plain walk
filtered by type gives, in the same order, for whole trees and for subtrees.
"""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Node

from threatmodel.code import jsast, jsindex
from threatmodel.code.treesitter import parse_js
from threatmodel.frameworks._js.handler import handler_auth

FIXTURES = Path(__file__).parent / "fixtures" / "js"
TYPES = [
    frozenset({"call_expression"}),
    frozenset({"call_expression", "new_expression", "pair", "assignment_expression"}),
    jsast.FUNCTION_TYPES,
    frozenset({"no_such_type"}),
]


def _plain(node: Node, types: frozenset[str]) -> list[int]:
    return [n.id for n in jsindex._cursor_walk(node) if n.type in types]


def test_nodes_of_is_a_filtered_walk_in_walk_order() -> None:
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".js", ".ts", ".tsx"))
    assert len(files) > 10
    for path in files:
        language = "tsx" if path.suffix == ".tsx" else "typescript"
        tree = parse_js(path.read_text(), language)
        root = tree.root_node
        assert [n.id for n in jsast.walk(root)] == [n.id for n in jsindex._cursor_walk(root)]
        for types in TYPES:
            assert [n.id for n in jsast.nodes_of(root, types)] == _plain(root, types)
        for fn in jsast.nodes_of(root, jsast.FUNCTION_TYPES):  # subtrees: slices of the listing
            for types in TYPES:
                assert [n.id for n in jsast.nodes_of(fn, types)] == _plain(fn, types)


def test_memo_answers_once_per_tree_and_hands_out_copies() -> None:
    src = "function guard(req, res) { if (!req.session.user) { return res.status(401).end(); } }"
    root = parse_js(src, "javascript").root_node
    fn = jsast.nodes_of(root, frozenset({"function_declaration"}))[0]
    first = handler_auth(fn)
    assert first is not None and first["v"] == "authenticated"
    slot = jsast.memo("handler_auth", fn)
    assert slot is not None and slot[0][slot[1]] == first
    first["extra"] = 1  # a caller adding keys must not change what the next caller gets
    again = handler_auth(fn)
    assert again is not None and "extra" not in again and again["v"] == "authenticated"
    other = parse_js(src, "javascript").root_node  # another tree: listed afresh, no stale memo
    jsast.nodes_of(other, TYPES[0])
    assert jsast.memo("handler_auth", fn) is None
