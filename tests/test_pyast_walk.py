"""The fast tree walks of the Python collectors visit exactly what ``ast`` would, in order.

Guard summaries and sink scopes depend on the order nodes are met (the last assignment of a
name wins, the first reject found is cited), so ``pyast.walk`` must equal ``ast.walk`` and
``_pyexpr._nodes_no_nested`` the depth-first walk it replaced, node for node, on every
Python file of the fixtures and of this package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from threatmodel.code.pyast import tree_nodes, walk
from threatmodel.collect import _pyexpr
from threatmodel.frameworks.flask import routes as flask

REPO = Path(__file__).resolve().parent.parent


def _trees() -> list[ast.Module]:
    paths = sorted(
        [*(REPO / "tests" / "fixtures").rglob("*.py"), *(REPO / "threatmodel").rglob("*.py")]
    )
    out = []
    for p in paths:
        try:
            out.append(ast.parse(p.read_text(encoding="utf-8")))
        except (SyntaxError, UnicodeDecodeError):
            continue  # fixtures hold broken files on purpose
    return out


TREES = _trees()


def _reference_no_nested(roots: list[ast.AST]) -> Iterator[ast.AST]:
    """The walk _nodes_no_nested replaced: depth first, nested defs listed, not entered."""
    stack: list[ast.AST] = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def test_enough_trees() -> None:
    assert len(TREES) > 100


def test_walk_is_ast_walk_node_for_node() -> None:
    for tree in TREES:
        assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]
        fn = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), None)
        if fn is not None:
            assert [id(n) for n in walk(fn)] == [id(n) for n in ast.walk(fn)]


def test_walk_of_built_nodes() -> None:
    node = ast.BinOp(left=ast.Name(id="x", ctx=ast.Load()), op=ast.Add(), right=ast.Constant(1))
    assert [type(n).__name__ for n in walk(node)] == [type(n).__name__ for n in ast.walk(node)]


def test_no_nested_walk_matches_the_reference() -> None:
    for tree in TREES:
        assert [id(n) for n in _pyexpr._nodes_no_nested(tree.body)] == [
            id(n) for n in _reference_no_nested(list(tree.body))
        ]


def test_tree_nodes_remembers_only_the_same_tree() -> None:
    a, b = ast.parse("x = 1"), ast.parse("y = f(2)")
    assert tree_nodes(a) is tree_nodes(a)
    assert [id(n) for n in tree_nodes(b)] == [id(n) for n in ast.walk(b)]
    assert [id(n) for n in tree_nodes(a)] == [id(n) for n in ast.walk(a)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "x = 1\nx += y\nfor i in z: pass\nwith o() as w: pass\nd['k'] = 2\n",
            {"x": 2, "i": 1, "w": 1, "d['k']": 1},
        ),
        ("a: int = 3\ndef f():\n    hidden = 1\n", {"a": 1}),  # nested bodies not entered
    ],
)
def test_assignments_of_each_target_kind(code: str, expected: dict[str, int]) -> None:
    found = _pyexpr.assignments(ast.parse(code).body)
    assert {k: len(v) for k, v in found.items()} == expected


def _reference_qualnames(tree: ast.Module) -> dict[int, str]:
    """flask._qualnames as it was, through ast.iter_child_nodes."""
    out: dict[int, str] = {}
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out[id(child)] = f"{prefix}{child.name}"
                stack.append((child, f"{prefix}{child.name}."))
            elif isinstance(child, ast.stmt):
                stack.append((child, prefix))
    return out


def test_flask_qualnames_match_the_full_walk() -> None:
    code = (
        "def f():\n    class A:\n        def m(self): pass\n"
        "try:\n    def g(): pass\nexcept E:\n    def h(): pass\nelse:\n    def i(): pass\n"
        "finally:\n    def j(): pass\n"
        "match x:\n    case 1:\n        def k(): pass\n"
    )
    for tree in [ast.parse(code), *TREES]:
        assert flask._qualnames(tree) == _reference_qualnames(tree)
