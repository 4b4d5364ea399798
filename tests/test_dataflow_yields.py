"""The engine's generator mark (``gen``): a yield anywhere under the function, read from its
text first (``python._yields``), must mark exactly what a walk of its subtree marks."""

from __future__ import annotations

import ast
import textwrap

from threatmodel.code.source import SourceFile
from threatmodel.dataflow import extract

CODE = textwrap.dedent(
    """
    def gen(xs):
        for x in xs:
            yield x

    def plain(x):
        return "yield " + x  # the word in a string: no yield node

    def outer(x):
        def inner():
            yield from x
        return inner

    def deco(f):
        return f

    def later():
        @deco
        def marked():
            return 1
        return (
            (yield marked)
        )

    class C:
        def m(self):
            return [i for i in range(3)]

        async def a(self):
            yield 1
    """
)


def _walked(tree: ast.Module) -> dict[str, bool]:
    """What the old test (a walk of every function's whole subtree) marks, by name."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(node))
    return out


def test_gen_marks_what_a_subtree_walk_marks() -> None:
    src = SourceFile.from_bytes("app/mod.py", CODE.encode())
    data = extract(src)
    assert data is not None
    marked = {q.rsplit(".", 1)[-1]: bool(s.get("gen")) for q, s in data["summaries"].items()}
    expected = _walked(ast.parse(CODE))
    assert {k: marked[k] for k in expected} == expected
    # the cases that matter, spelled out: a nested generator marks its enclosing function
    # too (as the walk did), a string that says "yield" marks nothing
    assert marked["gen"] and marked["outer"] and marked["inner"] and marked["a"]
    assert not marked["plain"] and not marked["m"] and not marked["marked"]
    assert marked["later"]
