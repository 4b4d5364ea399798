"""Which tables a route's handler writes or reads, found by parsing the handler's code.

``ask`` answers "who can write to `orders`?" with the routes whose handlers touch the table.
The facts name each route's handler and where it is, not what it does, so this module parses
the handler (Python ``ast``, tree-sitter for JavaScript/TypeScript) and looks for:

- SQL in string literals (f-string holes become placeholders), tokenised with pglast's
  PostgreSQL scanner: ``INSERT INTO t``, ``UPDATE t``, ``DELETE FROM t`` are writes,
  ``FROM t`` / ``JOIN t`` reads;
- query-builder chains: ``.table("t")``, ``.from("t")``, ``.from_("t")``,
  ``.collection("t")``, ``knex("t")`` followed by a write method (insert, update, upsert,
  delete, insertOne, ...);
- ORM calls on a model class: ``Order.objects.create``, ``Order.create``,
  ``prisma.order.update``, ``session.add(Order(...))``, matched to a table by name.

Only the handler itself is read (not helpers in other modules), so an answer built on this
says which routes were seen writing, never that no other route can.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from pglast import parser as pg

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language

WRITE_METHODS = frozenset(
    {
        "insert", "insert_one", "insert_many", "insertOne", "insertMany", "update",
        "update_one", "update_many", "updateOne", "updateMany", "upsert", "delete",
        "delete_one", "delete_many", "deleteOne", "deleteMany", "remove", "create",
        "createMany", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
        "destroy", "save", "replaceOne", "findOneAndUpdate", "findOneAndDelete",
        "findByIdAndUpdate", "findByIdAndDelete", "findByIdAndRemove", "bulkCreate",
    }
)  # fmt: skip
READ_METHODS = frozenset(
    {"select", "find", "find_one", "findOne", "findMany", "findUnique", "findFirst", "get",
     "filter", "all", "findAll", "findById", "aggregate", "count"}
)  # fmt: skip
SOURCE_METHODS = frozenset({"table", "from", "from_", "collection", "into"})
SQL_WRITE = {"INSERT": "INTO", "UPDATE": None, "DELETE_P": "FROM"}
FUNCTION_NODES = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition",
     "generator_function_declaration", "function"}
)  # fmt: skip


@dataclass(frozen=True)
class Access:
    name: str  # table, collection or model name as written in the code
    write: bool
    line: int  # where in the handler's file
    how: str  # "SQL INSERT", "orm create", ...


@dataclass(frozen=True)
class HandlerCode:
    path: str
    start: int
    end: int
    accesses: tuple[Access, ...]
    # what wraps the handler: Python decorators, or the middleware an Express-style route
    # call passes before it, as (source text, line)
    wrappers: tuple[tuple[str, int], ...] = ()


def sql_accesses(text: str) -> list[tuple[str, bool, str]]:
    """(table, write, verb) for each table a SQL string writes or reads (pglast's scanner)."""
    try:
        tokens = pg.scan(text)
    except Exception:  # pglast raises its own ParseError subclasses; any failure = not SQL
        return []
    out: list[tuple[str, bool, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, target = tok.name, None
        if name in SQL_WRITE:
            want = SQL_WRITE[name]
            j = i + 1
            if want and j < len(tokens) and tokens[j].name == want:
                j += 1
            target, verb, write = j, name.removesuffix("_P"), True
        elif name in ("FROM", "JOIN") and not (i and tokens[i - 1].name == "DELETE_P"):
            target, verb, write = i + 1, name, False
        if target is not None:
            ident = _qualified(text, tokens, target)
            if ident:
                out.append((ident, write, verb))
        i += 1
    return out


def _qualified(text: str, tokens: list[pg.Token], j: int) -> str | None:
    parts: list[str] = []
    while j < len(tokens) and tokens[j].name == "IDENT":
        parts.append(text[tokens[j].start : tokens[j].end + 1].strip('"'))
        if j + 2 < len(tokens) and tokens[j + 1].name == "ASCII_46":
            j += 2
            continue
        break
    return ".".join(parts) or None


class HandlerIndex:
    """Finds and analyses handlers on demand; parsed files are kept for the session."""

    def __init__(self, reader: RepoReader) -> None:
        self.reader = reader

    def handler(self, path: str, line: int) -> HandlerCode | None:
        try:
            text = "\n".join(self.reader.lines(path))
        except PathRefused:
            return None
        lang = detect_language(path)
        if lang == "python":
            return _python_handler(path, text, line)
        if lang in JS_LANGUAGES:
            from threatmodel.chat.handlers_js import js_handler  # it imports this module

            return js_handler(path, text, line, lang)
        return None

    def for_route(self, path: str, line: int, handler: str) -> HandlerCode | None:
        """The route's handler: at its location, else by its dotted name (``pkg.mod.func``).

        Routes declared outside the code (an OpenAPI file for connexion, a urls.py) point
        at the declaration; the dotted handler name then says which module to parse.
        """
        code = self.handler(path, line)
        if code is not None or detect_language(path) in JS_LANGUAGES:
            return code
        parts = [p for p in handler.replace(":", ".").split(".") if p.isidentifier()]
        for cut in range(len(parts) - 1, 0, -1):
            module, names = parts[:cut], parts[cut:]
            for candidate in ("/".join(module) + ".py", "/".join(module) + "/__init__.py"):
                try:
                    text = "\n".join(self.reader.lines(candidate))
                except PathRefused:
                    continue
                found = _python_def_line(text, names)
                if found is not None:
                    return _python_handler(candidate, text, found)
        return None


def _python_def_line(text: str, names: list[str]) -> int | None:
    """Line of the def ``names[-1]`` at module level, or inside class ``names[0]``."""
    tree = python_tree(text)
    if tree is None or len(names) > 2:
        return None
    body: list[ast.stmt] = tree.body
    if len(names) == 2:
        classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == names[0]]
        body = classes[0].body if classes else []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == names[-1]:
            return node.lineno
    return None


def _python_handler(path: str, text: str, line: int) -> HandlerCode | None:
    tree = python_tree(text)
    if tree is None:
        return None
    best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno or node.lineno
            if first <= line <= end and (best is None or node.lineno > best.lineno):
                best = node
    if best is None:
        return None
    accesses: list[Access] = []
    models = _model_vars(best)
    for node in ast.walk(best):
        if isinstance(node, ast.Constant | ast.JoinedStr):
            sql = _py_string(node)
            if sql:
                accesses += [Access(t, w, node.lineno, f"SQL {v}") for t, w, v in sql_accesses(sql)]
        elif isinstance(node, ast.Call):
            accesses += _py_call(node, models)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:  # user.email = ...: a loaded model instance is changed
                if (
                    isinstance(t, ast.Attribute)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in models
                ):
                    accesses.append(Access(models[t.value.id], True, node.lineno, "orm set"))
    start = min([best.lineno] + [d.lineno for d in best.decorator_list])
    wrappers = tuple((short(ast.unparse(d)), d.lineno) for d in best.decorator_list)
    return HandlerCode(path, start, best.end_lineno or best.lineno, dedupe(accesses), wrappers)


def short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _py_string(node: ast.Constant | ast.JoinedStr) -> str | None:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    # f-string: constant parts kept, each hole becomes a placeholder identifier
    return "".join(
        v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else " x "
        for v in node.values
    )


def _model_vars(fn: ast.AST) -> dict[str, str]:
    """Local names bound to a model: ``u = User(...)``, ``u = User.query...first()``."""
    out: dict[str, str] = {}
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            model = _model_root(node.value)
            if model:
                out[node.targets[0].id] = model
    return out


def _model_root(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        return expr.func.id if expr.func.id[:1].isupper() else None  # User(...)
    chain: list[str] = []
    while isinstance(expr, ast.Call | ast.Attribute):
        if isinstance(expr, ast.Attribute):
            chain.append(expr.attr)
            expr = expr.value
        else:
            expr = expr.func
    if isinstance(expr, ast.Name) and expr.id[:1].isupper() and {"query", "objects"} & set(chain):
        return expr.id  # User.query.filter_by(...).first(), User.objects.get(...)
    return None


WRITE_VERBS = ("delete", "update", "create", "insert", "remove", "add", "upsert", "destroy")


def is_write(method: str) -> bool:
    """insert, update_one, ... and model helpers named for a write: delete_user, addUser."""
    if method in WRITE_METHODS:
        return True
    first = method.split("_")[0]
    for verb in WRITE_VERBS:
        if first == verb or (first.startswith(verb) and first[len(verb) : len(verb) + 1].isupper()):
            return True
    return False


def _py_call(call: ast.Call, models: dict[str, str]) -> list[Access]:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return []
    method, write = func.attr, is_write(func.attr)
    if method == "add" and call.args:
        arg = call.args[0]  # session.add(Order(...)) / session.add(order): an insert
        ctor = arg.func if isinstance(arg, ast.Call) else None
        if isinstance(ctor, ast.Name) and ctor.id[:1].isupper():
            return [Access(ctor.id, True, call.lineno, "orm add")]
        if isinstance(arg, ast.Name) and arg.id in models:
            return [Access(models[arg.id], True, call.lineno, "orm add")]
    if not write and method not in READ_METHODS:
        return []
    receiver: ast.expr = func.value
    while True:  # walk down the chain: x.table("t").eq(...).update(...)
        if isinstance(receiver, ast.Call):
            inner = receiver.func
            if (
                isinstance(inner, ast.Attribute)
                and inner.attr in SOURCE_METHODS
                and receiver.args
                and isinstance(receiver.args[0], ast.Constant)
                and isinstance(receiver.args[0].value, str)
            ):
                return [Access(receiver.args[0].value, write, call.lineno, f"{method}()")]
            receiver = inner
        elif isinstance(receiver, ast.Attribute):
            if receiver.attr == "objects" and isinstance(receiver.value, ast.Name):
                return [Access(receiver.value.id, write, call.lineno, f"orm {method}")]
            if receiver.attr == "query" and isinstance(receiver.value, ast.Name):
                return [Access(receiver.value.id, write, call.lineno, f"orm {method}")]
            receiver = receiver.value
        elif isinstance(receiver, ast.Name):
            if receiver is func.value and receiver.id[:1].isupper():  # Order.create(...)
                return [Access(receiver.id, write, call.lineno, f"orm {method}")]
            return []
        else:
            return []


def dedupe(items: list[Access]) -> tuple[Access, ...]:
    return tuple(sorted(set(items), key=lambda a: (a.line, a.name, a.how, a.write)))


def table_matches(code_name: str, table: str) -> bool:
    """Does a name seen in code (table, collection or model) denote ``table``?"""
    a = code_name.lower().split(".")[-1]
    b = table.lower().split(".")[-1]
    snake = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(code_name))
    snake = snake.lower().split(".")[-1]
    forms = {a, snake, a + "s", snake + "s", a + "es", snake + "es"}
    if a.endswith("y"):
        forms.add(a[:-1] + "ies")
    return b in forms or any(b.endswith("_" + f) for f in (a, snake, a + "s", snake + "s"))
