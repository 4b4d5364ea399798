"""PostgreSQL / Supabase schema from SQL migrations, parsed with pglast (libpg_query).

Extract (per ``.sql`` file): the file's schema-changing statements, in order, as small
operations: tables and columns, ``ENABLE/DISABLE ROW LEVEL SECURITY``, ``CREATE/ALTER/DROP
POLICY``, renames, ``GRANT/REVOKE`` on tables, ``SECURITY DEFINER`` functions, and storage
buckets (``insert into storage.buckets``, ``update storage.buckets set public``). A file
pglast rejects is split into statements with pglast's scanner and each is parsed alone:
the statements that parse still count, and the first failure is recorded as the reason.

Link: per Supabase project (``_sql_projects.py``: each is its own database, and loose files
that create the same table are alternatives, each its own database), applies every
file's operations in migration order (paths sorted the way migration
tools sort them: by name, numbers compared as numbers) and reports the **final** state, so
a policy dropped or replaced later is gone and a table whose RLS a later migration disables
is reported disabled. Policies on ``storage.objects`` become that table's policies.

Whether a policy lets every row through (``Policy.permissive``) is decided in ``_rls.py``;
read its docstring for the exact rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pglast import ast, parse_plpgsql, parser

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import SourceFile
from threatmodel.collect._sql_ops import statement_ops
from threatmodel.collect._sql_projects import group_by_project
from threatmodel.collect._sql_state import SchemaState

# Statements worth parsing at all; a .sql file with none of these words is data or queries.
_INTERESTING = re.compile(
    r"\b(create|alter|drop|grant|revoke|insert\s+into\s+storage|update\s+storage)\b", re.I
)
_META = re.compile(r"^[ \t]*\\[a-zA-Z!].*$", re.M)
# ``COPY t (a, b) FROM stdin;`` then its rows up to a ``\.`` line: psql sends the rows as
# COPY data (pg_dump writes them so), they are no SQL
# a statement (its leading comments, as a pg_dump writes them, left aside) that is such a COPY
COPY_IN = re.compile(r"^(?:\s*--[^\n]*\n)*\s*COPY\b[^;]*\bFROM\s+STDIN\b", re.I)
_COPY_IN_LINE = re.compile(r"^[ \t]*COPY\b[^;]*\bFROM\s+STDIN\b[^;]*;", re.I | re.M)
_DATA_END = re.compile(r"^\\\.[ \t]*$", re.M)


def sql_only(text: str) -> str:
    """``text`` with what psql reads that is no SQL blanked, offsets and lines kept: its
    meta-commands (``\\set``, ``\\connect``) and the rows after a ``COPY ... FROM stdin;``."""
    out, at = [], 0
    for m in _COPY_IN_LINE.finditer(text):
        if m.start() < at:
            continue  # inside the rows of an earlier COPY
        end = _DATA_END.search(text, m.end())
        stop = end.end() if end else len(text)
        out += [text[at : m.end()], re.sub(r"[^\n]", " ", text[m.end() : stop])]
        at = stop
    return _META.sub(lambda m: " " * len(m.group(0)), "".join([*out, text[at:]]))


def statement_line(text: str, offset: int) -> int:
    """The line a statement starting at ``offset`` is on, past leading blanks and comments
    (pglast's offsets and its scanner's slices start before them)."""
    return text.count("\n", 0, offset) + 1 + _leading_newlines(text, offset)


def _leading_newlines(text: str, offset: int) -> int:
    i, n = offset, 0
    while i < len(text):
        if text[i] == "\n":
            n += 1
            i += 1
        elif text[i] in " \t\r":
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        else:
            break
    return n


def _reason(exc: Exception) -> str:
    """The parser's message without the quoted source text (it could hold a secret)."""
    return str(exc.args[0] if exc.args else exc).split(" at or near ")[0].split(" at end")[0]


def parse_file(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every schema operation of a SQL file with its line, and why part of it failed (if so)."""
    pieces: list[tuple[int, Any]] = []
    error: str | None = None
    text = sql_only(text)
    try:
        pieces = [(raw.stmt_location or 0, raw.stmt) for raw in parser.parse_sql(text)]
    except parser.ParseError:
        # Parse statement by statement so one bad statement (a psql \ command, a newer
        # syntax) does not hide the rest of the file.
        for part in parser.split(text, with_parser=False, only_slices=True):
            try:
                parsed = parser.parse_sql(text[part])
            except parser.ParseError as exc:
                if error is None:
                    error = (
                        f"SQL not parsed at line {statement_line(text, part.start)}: {_reason(exc)}"
                    )
                continue
            pieces.extend((part.start + (raw.stmt_location or 0), raw.stmt) for raw in parsed)
    ops = []
    for offset, stmt in pieces:
        line = statement_line(text, offset)
        if isinstance(stmt, ast.DoStmt):
            ops.extend(_do_block_ops(stmt, line))
        for op in statement_ops(stmt):
            ops.append({**op, "line": line})
    return ops, error


def read_ops(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """``parse_file``, with a file the scanner itself rejects giving no operations."""
    try:
        return parse_file(text)
    except parser.ParseError as exc:  # the scanner itself failed (unterminated quote)
        return [], f"SQL not parsed: {_reason(exc)}"
    except RecursionError:
        return [], "SQL nested too deeply to analyse"


def _do_block_ops(stmt: ast.DoStmt, line: int) -> list[dict[str, Any]]:
    """Schema statements inside ``DO $$ ... $$`` (run once, at migration time).

    Both branches of an ``IF`` are applied in order: an ``IF NOT EXISTS ... THEN CREATE``
    guard is the common use, and its effect is the statement's. Strings run by ``EXECUTE``
    are dynamic and stay invisible.
    """
    body = next((d.arg.sval for d in stmt.args or () if d.defname == "as"), None)
    language = next((d.arg.sval for d in stmt.args or () if d.defname == "language"), "plpgsql")
    if not body or language != "plpgsql":
        return []
    try:
        tree = parse_plpgsql(
            f"CREATE FUNCTION tm_do() RETURNS void LANGUAGE plpgsql AS $tm_do${body}$tm_do$"
        )
    except parser.ParseError:
        return []
    ops: list[dict[str, Any]] = []
    for lineno, query in _execsql(tree):
        try:
            inner = parser.parse_sql(query)
        except parser.ParseError:
            continue
        for raw in inner:
            ops.extend({**op, "line": line + max(lineno - 1, 0)} for op in statement_ops(raw.stmt))
    return ops


def _execsql(node: Any) -> list[tuple[int, str]]:
    """(line, query) of every plain SQL statement in a parse_plpgsql tree, in order."""
    found: list[tuple[int, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "PLpgSQL_stmt_execsql":
                query = value.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    found.append((int(value.get("lineno", 1)), query))
            else:
                found.extend(_execsql(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_execsql(item))
    return found


def created(ops: list[dict[str, Any]]) -> set[str]:
    """The tables a file's operations create outright (``IF NOT EXISTS`` tolerates a table
    already there: a file repeating one that way can follow the file that made it)."""
    return {op["table"] for op in ops if op["op"] == "create_table" and not op["if_not_exists"]}


_DIGITS = re.compile(r"(\d+)")


def migration_order(path: str) -> list[Any]:
    """Sort key: name order with numbers compared numerically (V2 before V10)."""
    return [(int(p), "") if p.isdigit() else (0, p) for p in _DIGITS.split(path.lower())]


@register
class SqlCollector(Collector):
    id = "sql"
    version = 6  # 6: the rows after COPY ... FROM stdin are no SQL (sql_only)

    def wants(self, path: str, language: str) -> bool:
        return language == "sql"

    def extract(self, src: SourceFile) -> Extract:
        if not _INTERESTING.search(src.text):
            return None
        ops, error = read_ops(src.text)
        if error:
            src.parse_errors.append(error)
        return {"ops": ops} if ops else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        ordered = sorted(extracts, key=migration_order)
        creates = {path: created(extracts[path]["ops"]) for path in ordered}
        projects = group_by_project(ordered, frozenset(ctx.files), creates)
        for project, paths in sorted(projects.items()):
            state = SchemaState()
            for path in paths:
                for op in extracts[path]["ops"]:
                    state.apply(path, op)
            # Named only when there is more than one database to tell apart.
            state.emit(out, project if len(projects) > 1 else None)
