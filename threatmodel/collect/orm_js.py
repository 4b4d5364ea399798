"""JavaScript/TypeScript data models: Prisma schemas, Sequelize models, Mongoose schemas.

- Prisma (``*.prisma``): ``model`` blocks parsed by their grammar (a block per model, a
  field per line: ``name Type? @attributes``); ``@@map("table")`` and ``@map("column")``
  rename; fields whose type is another model or a list of them are relations, not columns.
- Sequelize (tree-sitter): ``sequelize.define("User", {attrs}, {tableName})`` and
  ``User.init({attrs}, {tableName, modelName})``.
- Mongoose (tree-sitter): ``new Schema({fields})`` named by the ``mongoose.model("User",
  schema)`` call that registers it in the same file (else by the schema's variable name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import tree_sitter

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import nodes_of
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.collect.orm_python import orm_table

# --------------------------------------------------------------------------- Prisma

_BLOCK = re.compile(r"^\s*(model|enum|type|view)\s+(\w+)\s*\{", re.M)
_MAP = re.compile(r"@map\(\s*(?:name:\s*)?\"([^\"]+)\"")


def _strip_comment(line: str) -> str:
    """Drop a ``//`` comment that is not inside a string."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "/" and not quoted and line[i : i + 2] == "//":
            return line[:i]
    return line


def prisma_models(text: str) -> list[dict[str, Any]]:
    lines = [_strip_comment(ln) for ln in text.splitlines()]
    blocks: list[tuple[str, str, int, list[tuple[int, str]]]] = []
    i = 0
    while i < len(lines):
        m = _BLOCK.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != "}":
            body.append((i + 1, lines[i].strip()))
            i += 1
        blocks.append((m.group(1), m.group(2), start, body))
    names = {name for kind, name, _, _ in blocks if kind in ("model", "view", "type")}
    models = []
    for kind, name, start, body in blocks:
        if kind not in ("model", "view"):
            continue
        table, columns = name, []
        for _, line in body:
            if line.startswith("@@map("):
                found = re.search(r"\"([^\"]+)\"", line)
                table = found.group(1) if found else table
                continue
            parts = line.split()
            if len(parts) < 2 or line.startswith("@"):
                continue
            field, ftype = parts[0], parts[1]
            base = ftype.rstrip("?").removesuffix("[]")
            if (base in names and base != name) or "@relation" in line:
                continue  # a relation to another model, not a column
            mapped = _MAP.search(line)
            columns.append([mapped.group(1) if mapped else field, base])
        models.append({"name": table, "source": "prisma", "line": start, "columns": columns})
    return models


# --------------------------------------------------------------------------- tree-sitter


def _string(node: tree_sitter.Node | None) -> str | None:
    if node is not None and node.type == "string":
        return node_text(node)[1:-1]
    return None


def _callee(call: tree_sitter.Node) -> str:
    func = call.child_by_field_name("function")
    return node_text(func) if func is not None else ""


def _args(call: tree_sitter.Node) -> list[tree_sitter.Node]:
    args = call.child_by_field_name("arguments")
    return list(args.named_children) if args is not None else []


def _object_fields(obj: tree_sitter.Node | None) -> list[list[Any]]:
    """``{name: String, password: {type: String}}`` -> [[name, type], ...]."""
    if obj is None or obj.type != "object":
        return []
    fields = []
    for pair in obj.named_children:
        if pair.type == "shorthand_property_identifier":
            fields.append([node_text(pair), None])
            continue
        if pair.type != "pair":
            continue
        key = pair.child_by_field_name("key")
        value = pair.child_by_field_name("value")
        if key is None:
            continue
        name = _string(key) if key.type == "string" else node_text(key)
        if name is None:
            continue
        ftype: str | None = None
        if value is not None and value.type == "object":
            for inner in value.named_children:
                k = inner.child_by_field_name("key") if inner.type == "pair" else None
                if k is not None and node_text(k) == "type":
                    v = inner.child_by_field_name("value")
                    ftype = node_text(v).split(".")[-1] if v is not None else None
        elif value is not None and value.type in ("identifier", "member_expression", "array"):
            ftype = node_text(value).split(".")[-1]
        fields.append([name, ftype])
    return fields


def _option(obj: tree_sitter.Node | None, key: str) -> str | None:
    if obj is None or obj.type != "object":
        return None
    for pair in obj.named_children:
        k = pair.child_by_field_name("key") if pair.type == "pair" else None
        if k is not None and node_text(k).strip("'\"") == key:
            return _string(pair.child_by_field_name("value"))
    return None


# The node types js_models reads, listed in source order by jsast.nodes_of.
_MODEL_TYPES = frozenset({"new_expression", "call_expression"})


def js_models(root: tree_sitter.Node) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    schemas: dict[str, dict[str, Any]] = {}  # mongoose schema variable -> model entry
    registered: list[tuple[str, str]] = []  # mongoose.model("User", UserSchema)
    for node in nodes_of(root, _MODEL_TYPES):
        if node.type == "new_expression":
            ctor = node.child_by_field_name("constructor")
            args = node.child_by_field_name("arguments")
            if ctor is None or args is None or node_text(ctor).split(".")[-1] != "Schema":
                continue
            first = args.named_children[0] if args.named_children else None
            entry = {"name": "", "source": "mongoose", "line": node.start_point[0] + 1,
                     "columns": _object_fields(first)}  # fmt: skip
            parent = node.parent
            var = parent.child_by_field_name("name") if parent is not None else None
            key = (
                node_text(var)
                if parent is not None and parent.type == "variable_declarator" and var
                else ""
            )
            schemas[key or f"@{len(schemas)}"] = entry
        elif node.type == "call_expression":
            callee, call_args = _callee(node), _args(node)
            method = callee.split(".")[-1]
            if method == "define" and len(call_args) >= 2 and _string(call_args[0]):
                table = _option(
                    call_args[2] if len(call_args) > 2 else None, "tableName"
                ) or _string(call_args[0])
                line = node.start_point[0] + 1
                models.append({"name": table, "source": "sequelize", "line": line,
                               "columns": _object_fields(call_args[1])})  # fmt: skip
            elif method == "init" and len(call_args) >= 2 and call_args[0].type == "object":
                owner = callee.rsplit(".", 1)[0] if "." in callee else ""
                table = (
                    _option(call_args[1], "tableName")
                    or _option(call_args[1], "modelName")
                    or owner
                )
                # Model.init(attrs, {sequelize, tableName})
                if table and "sequelize" in node_text(call_args[1]):
                    models.append({"name": table, "source": "sequelize",
                                   "line": node.start_point[0] + 1,
                                   "columns": _object_fields(call_args[0])})  # fmt: skip
            elif method == "model" and len(call_args) >= 2 and _string(call_args[0]):
                registered.append((_string(call_args[0]) or "", node_text(call_args[1])))
    for name, schema_var in registered:
        if schema_var in schemas and not schemas[schema_var]["name"]:
            schemas[schema_var]["name"] = name
    for schema_name, entry in schemas.items():
        if not entry["name"] and not schema_name.startswith("@"):
            entry["name"] = re.sub(r"Schema$", "", schema_name) or schema_name
        if entry["name"]:
            models.append(entry)
    return models


@register
class JsOrmCollector(Collector):
    id = "orm_js"
    version = 1
    # JS: the markers extract() checks before parsing. Prisma: a model or view block starts
    # with the keyword at a line's start (_BLOCK), so the word must appear. No \b: a pattern
    # that starts with one cannot skip ahead by its first characters, and costs ten times more.
    gate = re.compile(r"Schema|\.(?:define|init)\(|model|view")

    def wants(self, path: str, language: str) -> bool:
        return language == "prisma" or language in JS_LANGUAGES

    def extract(self, src: SourceFile) -> Extract:
        if src.language == "prisma":
            return prisma_models(src.text) or None
        text = src.text
        if "Schema" not in text and ".define(" not in text and ".init(" not in text:
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        return sorted(js_models(tree.root_node), key=lambda m: m["line"]) or None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path in sorted(extracts):
            for model in extracts[path]:
                out.tables.append(orm_table(model, path))
