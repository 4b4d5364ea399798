"""The engine's parts as one type, so its mixins (expressions, calls, assignments) type-check."""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.dataflow.catalog import Catalog
from threatmodel.dataflow.frame import Frame
from threatmodel.dataflow.values import Value


class EngineBase:
    module: str
    lines: list[str]
    catalog: Catalog
    summaries: dict[str, dict[str, Any]]
    classes: dict[str, dict[str, Any]]

    def expr(self, node: ast.AST | None, f: Frame) -> Value:
        raise NotImplementedError

    def call(self, node: ast.Call, f: Frame) -> Value:
        raise NotImplementedError

    def assign(self, target: ast.AST, value: Value, f: Frame, line: int) -> None:
        raise NotImplementedError

    def element(self, seq: Value) -> Value:
        raise NotImplementedError

    def module_value(self, qual: str, line: int = 1) -> Value:
        raise NotImplementedError

    def refine(self, test: ast.expr, f: Frame, truth: bool) -> None:
        raise NotImplementedError

    def sanitize_names(
        self, node: ast.AST, kinds: frozenset[str], f: Frame, name: str = "guard"
    ) -> None:
        raise NotImplementedError

    def repo_predicate(self, test: ast.Call, f: Frame) -> None:
        raise NotImplementedError

    def block(self, body: list[ast.stmt], f: Frame) -> bool:
        raise NotImplementedError

    def dead(self, body: list[ast.stmt], f: Frame, reason: str) -> None:
        raise NotImplementedError

    def dead_expr(self, node: ast.expr, f: Frame, line: int) -> None:
        """An expression that never runs (the other arm of a constant ``a if t else b``, an
        operand after ``and`` / ``or`` decided): its sinks kept as safe, like a dead branch."""
        stmt = ast.copy_location(ast.Expr(value=node), node)
        self.dead([stmt], f, f"the condition at line {line} is constant")

    def function(self, fn: Any, parent: Frame, qual: str, method: bool) -> None:
        raise NotImplementedError

    def apply_split(self, name: str, f: Frame) -> None:
        raise NotImplementedError

    def may_be_repo(self, func: ast.expr, qual: str, f: Frame) -> bool:
        raise NotImplementedError
