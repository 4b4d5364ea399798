"""Which nodes of a tree-sitter JavaScript/TypeScript tree a collector reads, and in what order.

Every JS collector passes over each file's whole tree, several times, looking at a few node
types each time (calls, functions, member reads). A Python loop asking each of a tree's
thousands of nodes its type cost twice the parse (issue 11). Here one tree-sitter query, run in
C, finds once per tree the nodes of the types the collectors ask about; sorted into walk order
and grouped by type, they answer ``nodes_of`` for the whole tree and for any subtree exactly as
a walk filtered by type would, in the same order. ``jsast`` re-exports what collectors use.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import tree_sitter

from threatmodel.code.treesitter import _parser

if TYPE_CHECKING:
    from tree_sitter import Node

FUNCTION_TYPES = frozenset(
    {
        "arrow_function",
        "function_expression",
        "function_declaration",
        "function",
        "generator_function_declaration",
        "method_definition",
    }
)


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first (pre-order), without recursion.

    The collectors walk only small subtrees whole (handlers, expressions): their passes over
    whole files read ``nodes_of``, which never makes a Python object of every node.
    """
    return _cursor_walk(node)


# Every node type a collector asks ``nodes_of`` about (grep ``nodes_of(`` in collect/). A
# query over these types lists a third of a tree's nodes, in C, where a Python loop over all of
# them cost twice the parse (issue 11). Asking about another type still answers, by a walk.
_INDEXED_TYPES = FUNCTION_TYPES | {
    "assignment_expression",
    "call_expression",
    "class_declaration",
    "export_statement",
    "if_statement",
    "member_expression",
    "new_expression",
    "object",
    "pair",
    "return_statement",
    "subscript_expression",
    "ternary_expression",
    "throw_statement",
    "variable_declarator",
}


def nodes_of(node: Node, types: frozenset[str]) -> list[Node]:
    """The nodes of ``walk(node)`` whose type is in ``types``, in the same order.

    Most passes over a whole file look at one to six node types among thousands of nodes: the
    tree's nodes of the indexed types are found once, grouped by type, so such a pass reads
    only its own nodes, and a subtree's are a range of them (issue 11).
    """
    found = _indexed(node) if types <= _INDEXED_TYPES else None
    if found is None:
        return [n for n in _cursor_walk(node) if n.type in types]
    index, start, stop = found
    picked: list[int] = []
    for t in types:
        positions = index.by_type.get(t)
        if positions:
            picked.extend(positions[bisect_left(positions, start) : bisect_left(positions, stop)])
    if len(types) > 1:
        picked.sort()
    nodes = index.nodes
    return [nodes[i] for i in picked]


# A node's place in walk order, as one int: by start, then the longer node first. Adjacent
# siblings never share bytes, so this is walk order but for nodes over the same bytes (a
# parent first) and empty nodes (a missing token in an error tree): ``_listed`` fixes those.
_SPAN = 1 << 32


class _Index:
    """One tree's nodes of the indexed types in walk order, with positions and types.

    ``nodes`` is empty when that order could not be proven: then every question about the
    tree is answered by a walk instead.
    """

    def __init__(self, root: Node) -> None:
        self.root = root  # held, so the tree stays alive and no other tree reuses node ids
        self.nodes, self.keys = _listed(root)
        self.position = {n.id: i for i, n in enumerate(self.nodes)}
        self.by_type: dict[str, list[int]] = {}
        for i, n in enumerate(self.nodes):
            self.by_type.setdefault(n.type, []).append(i)
        # Results of analyses several collectors ask about the same node (see ``memo``).
        self.memo: dict[tuple[str, int], Any] = {}

    def span(self, node: Node) -> tuple[int, int] | None:
        """Positions ``[start, stop)`` of ``node``'s subtree, None when not in this tree."""
        i = self.position.get(node.id)
        if i is not None and self.nodes[i] == node:  # same tree: Node equality checks it
            return i, bisect_left(self.keys, node.end_byte * _SPAN, i)
        if node == self.root:
            return 0, len(self.nodes)
        s, e = node.byte_range
        if s == e:
            return None
        # An unlisted node: in this tree when the smallest node over its bytes is it or one
        # of its descendants over the same bytes.
        probe = self.root.descendant_for_byte_range(s, e)
        while probe is not None and probe != node and probe.byte_range == (s, e):
            probe = probe.parent
        if probe != node:
            return None
        above = set()  # listed ancestors over the same bytes come before the subtree
        parent = node.parent
        while parent is not None and parent.byte_range == (s, e):
            above.add(parent.id)
            parent = parent.parent
        key = s * _SPAN + _SPAN - e
        start = bisect_left(self.keys, key)
        while start < len(self.nodes) and self.keys[start] == key:
            if self.nodes[start].id not in above:
                break
            start += 1
        return start, bisect_left(self.keys, e * _SPAN, start)


def _listed(root: Node) -> tuple[list[Node], list[int]]:
    """``root``'s nodes of the indexed types in walk order, and their keys ([] if unsure).

    A query finds them in no useful order; sorted by key they are in walk order, once nodes
    over the same bytes are put parent first and no node is empty.
    """
    query = _query(root.kind_id) if root.type == "program" else None
    if query is None:
        return [], []
    cursor = tree_sitter.QueryCursor(query)
    found = cursor.captures(root).get("n", [])
    if cursor.did_exceed_match_limit:
        return [], []
    keys = [n.start_byte * _SPAN + _SPAN - n.end_byte for n in found]
    order = sorted(range(len(found)), key=keys.__getitem__)
    nodes = [found[i] for i in order]
    keys.sort()
    # Empty nodes (a missing token in an error tree) have no certain place: walk instead.
    # Nodes over the same bytes are rare (none in most files).
    if any(n.start_byte == n.end_byte for n in nodes):
        return [], []
    if len(set(keys)) == len(keys):
        return nodes, keys
    i = 0
    while i < len(keys):
        j = i + 1
        while j < len(keys) and keys[j] == keys[i]:
            j += 1
        if j - i > 1:  # same bytes: order by how many same-byte ancestors each has
            run = sorted((_same_span_depth(n), k) for k, n in enumerate(nodes[i:j]))
            if len({d for d, _ in run}) != len(run):
                return [], []
            nodes[i:j] = [nodes[i + k] for _, k in run]
        i = j
    return nodes, keys


def _same_span_depth(node: Node) -> int:
    depth, parent = 0, node.parent
    while parent is not None and parent.byte_range == node.byte_range:
        depth, parent = depth + 1, parent.parent
    return depth


@cache
def _query(program_kind: int) -> tree_sitter.Query | None:
    """The query for the indexed types in the JS grammar whose ``program`` has this kind id."""
    languages = [_parser(name).language for name in ("javascript", "typescript", "tsx")]
    found = [
        lang
        for lang in languages
        if lang is not None and lang.id_for_node_kind("program", True) == program_kind
    ]
    if len(found) != 1:
        return None  # not a JS tree, or ambiguous: never guess, walk
    language = found[0]
    # Named nodes and keywords alike: a walk lists the ``function`` keyword too.
    kinds = [f"({t})" for t in sorted(_INDEXED_TYPES) if language.id_for_node_kind(t, True)]
    kinds += [f'"{t}"' for t in sorted(_INDEXED_TYPES) if language.id_for_node_kind(t, False)]
    return tree_sitter.Query(language, "[" + " ".join(kinds) + "] @n")


def _indexed(node: Node) -> tuple[_Index, int, int] | None:
    """The index holding ``node`` and its subtree's positions, indexing a new tree's root."""
    global _INDEXED
    index = _INDEXED
    if node.type == "program" and (index is None or index.root != node):
        index = _INDEXED = _Index(node)
    if index is None or not index.nodes:
        return None
    span = index.span(node)
    return (index, span[0], span[1]) if span is not None else None


_INDEXED: _Index | None = None


def memo(kind: str, node: Node) -> tuple[dict[tuple[str, int], Any], tuple[str, int]] | None:
    """Where to keep the ``kind`` analysis of ``node`` for the rest of its tree's extraction.

    The Express and Next.js collectors both ask ``handler_auth`` about the same functions of a
    file; keyed by the node's position in its indexed tree, an answer is computed once and
    dropped with the index. None when the node is not an indexed node of the indexed tree.
    """
    index = _INDEXED
    i = index.position.get(node.id) if index is not None else None
    if index is None or i is None or index.nodes[i] != node:
        return None
    return index.memo, (kind, i)


def _cursor_walk(node: Node) -> Iterator[Node]:
    """Pre-order, as ``walk``; a TreeCursor is twice as fast as building ``children`` lists."""
    cursor = node.walk()
    yield node
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            yield cursor.node  # type: ignore[misc]
            continue
        while True:
            if depth == 0:
                return
            if cursor.goto_next_sibling():
                yield cursor.node  # type: ignore[misc]
                break
            cursor.goto_parent()
            depth -= 1
