"""Python ORM schemas from ``ast``: SQLAlchemy models and ``Table()``, Django models.

- SQLAlchemy: classes with ``__tablename__`` (or whose body declares ``Column``/
  ``mapped_column`` attributes), including Flask-SQLAlchemy's ``db.Model`` (table name then
  defaults to the snake-cased class name); ``Table("name", metadata, Column("id", ...))``.
- Django: subclasses of ``models.Model`` (not ``abstract``), table ``<app>_<model>`` unless
  ``Meta.db_table`` says otherwise; the app is the folder holding ``models.py`` (or the
  ``models/`` package).

Columns are flagged sensitive by name (``_names.is_sensitive_column``). These tables have no
row-level security semantics, so ``rls_enabled`` stays None.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.names import is_sensitive_column
from threatmodel.code.pyast import tree_nodes
from threatmodel.code.source import SourceFile
from threatmodel.collect._pygates import gate
from threatmodel.models import Column, Location, Table

_SA_COLUMNS = frozenset({"Column", "mapped_column", "column_property"})


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Subscript):
        return _dotted(node.value)
    return ""


def _last(node: ast.AST) -> str:
    return _dotted(node).split(".")[-1]


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _assigned(stmt: ast.stmt) -> tuple[str, ast.AST | None, ast.AST | None] | None:
    """(name, value, annotation) of a simple class-body assignment."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            return target.id, stmt.value, None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value, stmt.annotation
    return None


def _sa_type(call: ast.Call, annotation: ast.AST | None) -> str | None:
    for arg in call.args:
        if isinstance(arg, ast.Name | ast.Attribute | ast.Call) and _last(arg) != "ForeignKey":
            return _last(arg)
    if isinstance(annotation, ast.Subscript):  # Mapped[str], Mapped[Optional[int]]
        return ast.unparse(annotation.slice)
    return None


def _sqlalchemy_class(cls: ast.ClassDef) -> dict[str, Any] | None:
    table: str | None = None
    columns: list[list[Any]] = []
    for stmt in cls.body:
        item = _assigned(stmt)
        if item is None:
            continue
        name, value, annotation = item
        if name == "__tablename__":
            table = _str(value)
        elif isinstance(value, ast.Call) and _last(value.func) in _SA_COLUMNS:
            column = _str(value.args[0]) if value.args else None  # Column("db_name", ...)
            columns.append([column or name, _sa_type(value, annotation)])
        elif isinstance(annotation, ast.Subscript) and _last(annotation) == "Mapped":
            columns.append([name, ast.unparse(annotation.slice)])
    bases = {_last(b) for b in cls.bases}
    if table is None and not columns:
        return None
    if table is None:
        if not bases & {"Model", "Base"}:
            return None  # a mixin or a plain class with Column attributes
        table = _snake(cls.name)
    return {"name": table, "source": "sqlalchemy", "line": cls.lineno, "columns": columns}


def _sa_table_call(call: ast.Call) -> dict[str, Any] | None:
    """``Table("users", metadata, Column("id", Integer), ...)``."""
    name = _str(call.args[0]) if call.args else None
    if name is None:
        return None
    columns = [
        [col, _sa_type(arg, None)]
        for arg in call.args[1:]
        if isinstance(arg, ast.Call) and _last(arg.func) == "Column"
        if (col := _str(arg.args[0]) if arg.args else None)
    ]
    return {"name": name, "source": "sqlalchemy", "line": call.lineno, "columns": columns}


def _django_app(path: str) -> str:
    p = PurePosixPath(path)
    folder = p.parent.parent if p.parent.name == "models" else p.parent
    return folder.name or "app"


def _django_class(cls: ast.ClassDef, path: str) -> dict[str, Any] | None:
    table = f"{_django_app(path)}_{cls.name.lower()}"
    columns: list[list[Any]] = []
    for stmt in cls.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for meta in stmt.body:
                item = _assigned(meta)
                if item and item[0] == "abstract" and isinstance(item[1], ast.Constant):
                    if item[1].value is True:
                        return None
                elif item and item[0] == "db_table":
                    table = _str(item[1]) or table
            continue
        item = _assigned(stmt)
        if item and isinstance(item[1], ast.Call):
            field = _last(item[1].func)
            if field.endswith("Field") or field in ("ForeignKey", "OneToOneField"):
                columns.append([item[0], field])
    return {"name": table, "source": "django", "line": cls.lineno, "columns": columns}


def python_models(tree: ast.Module, path: str, text: str) -> Iterator[dict[str, Any]]:
    django = "django" in text
    for node in tree_nodes(tree):
        if isinstance(node, ast.ClassDef):
            bases = {_dotted(b) for b in node.bases}
            in_models = PurePosixPath(path).stem == "models" or "/models/" in path
            if django and (
                bases & {"models.Model", "Model"}
                or (in_models and any(b.endswith(("Model", "User")) for b in bases))
            ):
                model = _django_class(node, path)
            else:
                model = _sqlalchemy_class(node)
            if model:
                yield model
        elif isinstance(node, ast.Call) and _last(node.func) == "Table" and "Column" in text:
            table = _sa_table_call(node)
            if table:
                yield table


# What a file must spell for python_models() to find a model: a SQLAlchemy class needs
# ``__tablename__`` or a column (Column / mapped_column / column_property call, ``Mapped[]``
# annotation), ``Table(...)`` needs "Column", a Django model needs "django". Narrower than
# the text test in extract(): a pydantic ``BaseModel)`` file passes that one, not this.
GATE = gate(
    substrings=["Column", "mapped_column", "column_property", "__tablename__", "Mapped", "django"]
)


@register
class PythonOrmCollector(Collector):
    id = "orm_python"
    version = 1
    gate = GATE

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        text = src.text
        if not any(w in text for w in ("Column", "mapped_column", "models.Model", "Model)")):
            return None
        tree = src.python_ast
        if tree is None:
            return None
        return sorted(python_models(tree, src.path, text), key=lambda m: m["line"]) or None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path in sorted(extracts):
            for model in extracts[path]:
                out.tables.append(orm_table(model, path))


def orm_table(model: Mapping[str, Any], path: str) -> Table:
    """A Table fact from an ORM collector's extract entry."""
    return Table(
        name=model["name"],
        source=model["source"],
        rls_enabled=None,
        columns=[
            Column(name=n, type=t, sensitive=is_sensitive_column(n)) for n, t in model["columns"]
        ],
        location=Location(path=path, line=model["line"]),
    )
