"""A search loop's result: what a value found by a loop proves once it is tested.

::

    found = None
    for key, names in pools.items():
        if name in names:
            found = key
            break
    if found is None:
        raise ValueError(name)

After the loop ``found`` is still ``None`` on the way that ran out of items and set on the
ways that left by ``break``; the engine joins the two, so on its own it would forget that
``found`` being set means a ``break`` was taken, where ``name in names`` held (an
allow-list: ``conds.member_fact``). ``note_splits`` records, for each variable that is a
falsy constant when the loop runs out, what every other variable held on the ``break``
ways; ``apply_split`` restores those values on the way where the variable is then tested
truthy (``if found is None: raise``, ``if not found: return``, ``assert found``), for the
variables not changed since the loop. A loop with a ``continue`` or an ``else`` is left
alone: its ``break`` ways are not the only ones that can set the variable.
"""

from __future__ import annotations

import ast

from threatmodel.dataflow.assign import join_env
from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame
from threatmodel.dataflow.values import Value


class SplitMixin(EngineBase):
    def note_splits(
        self,
        body: list[ast.stmt],
        normal: dict[str, Value],
        breaks: list[dict[str, Value]],
        f: Frame,
    ) -> None:
        """``normal``: the environment when the loop ran out; ``breaks``: at each ``break``."""
        if not breaks or _continues(body):
            return
        found = breaks[0]
        for env in breaks[1:]:
            found = join_env(found, env)
        for name, value in normal.items():
            if value.known and not value.const and not value.labels and "." not in name:
                f.splits[name] = (found, dict(f.env))

    def apply_split(self, name: str, f: Frame) -> None:
        """``name`` is truthy here: the variables a search loop set with it are as they
        were on its ``break`` ways (where unchanged since)."""
        got = f.splits.get(name)
        if got is None:
            return
        found, after = got
        if f.env.get(name) != after.get(name):
            return  # assigned again since the loop: the split says nothing of it
        for other, value in found.items():
            if other != name and other in f.env and f.env[other] == after.get(other):
                f.env[other] = value


def _continues(body: list[ast.stmt]) -> bool:
    """A ``continue`` of this loop (not of a loop nested in it)."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Continue):
            return True
        if isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.FunctionDef | ast.ClassDef):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False
