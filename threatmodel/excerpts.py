"""Find the code the LLM needs to see: a handler's extent and the guards wrapped around it.

summarize.py asks two questions of the code, always through ``RepoReader`` and a real
parser (Python's ``ast``, tree-sitter for JavaScript/TypeScript):

- ``unit_extent(path, line)``: the lines of the function or statement a fact points at
  (a Flask handler with its decorators, an Express ``router.get(...)`` call, a Next.js
  ``export async function GET``), so the model sees the whole handler and nothing else.
- ``guard_definitions(path, line)``: the definitions of the decorators / middleware wrapped
  around that handler (``@audit``, ``requireAuth``), followed through imports to the file
  that defines them. A wrapper that *looks* like a guard but checks nothing is exactly what
  an attacker looks for, so the model gets its body.

Files that do not parse give a fixed window of lines instead: never an exception.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from threatmodel.code import jsast
from threatmodel.code.jsworkspace import RepoFiles, repo_files
from threatmodel.code.pyast import FuncDef, dotted, imports_of, last
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.code.treesitter import node_text, parse_js
from threatmodel.collect.effects_files import code_files

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

FALLBACK_LINES = 25  # window shown when the file cannot be parsed
ROUTE_DECORATORS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "api_route",
        "websocket",
        "api_view",
        "action",
    }
)
_JS_STATEMENTS = frozenset(
    {
        "expression_statement",
        "export_statement",
        "function_declaration",
        "lexical_declaration",
        "variable_declaration",
        "method_definition",
    }
)


@dataclass(frozen=True)
class CodeRef:
    """Lines ``start..end`` of ``path``; ``label`` says what they are. ``fold``: quiet lines
    may be folded to a marker (a function a route runs; see ``excerpt_focus.py``).
    ``touched``: only the head and the statements that touch request data are shown (a
    plain write route's handler; see ``chunk_decided.plain_write``)."""

    path: str
    start: int
    end: int
    label: str
    fold: bool = False
    touched: bool = False


class CodeIndex:
    """Parses each file once (per summarise run) and answers extent / guard questions."""

    def __init__(self, reader: RepoReader) -> None:
        self.reader = reader
        self._py: dict[str, ast.Module | None] = {}
        self._js: dict[str, Tree | None] = {}
        self._files: RepoFiles | None = None  # the repository's, for import resolution

    # ------------------------------------------------------------------ parsing

    def _text(self, path: str) -> str | None:
        try:
            return "\n".join(self.reader.lines(path))
        except PathRefused:
            return None

    def python(self, path: str) -> ast.Module | None:
        if path not in self._py:
            text = self._text(path)
            self._py[path] = python_tree(text) if text is not None else None
        return self._py[path]

    def js(self, path: str) -> Tree | None:
        if path not in self._js:
            text = self._text(path)
            self._js[path] = parse_js(text, detect_language(path)) if text is not None else None
        return self._js[path]

    def exists(self, path: str) -> bool:
        try:
            self.reader.check(path)
        except PathRefused:
            return False
        return True

    # ------------------------------------------------------------------ extents

    def unit_extent(self, path: str, line: int) -> tuple[int, int]:
        """First and last line of the function / statement at ``line`` (a window otherwise)."""
        return self.unit_at(path, line) or (line, line + FALLBACK_LINES - 1)

    def unit_at(self, path: str, line: int) -> tuple[int, int] | None:
        """First and last line of the function / statement at ``line``; None where no parser
        finds one (a template, a JSON file, code that does not parse)."""
        lang = detect_language(path)
        found: tuple[int, int] | None = None
        if lang == "python":
            fn = self._py_function_at(path, line)
            if fn is not None:
                found = (_py_start(fn), fn.end_lineno or fn.lineno)
        elif lang in JS_LANGUAGES:
            node = self._js_unit_at(path, line)
            if node is not None:
                found = (node.start_point[0] + 1, node.end_point[0] + 1)
        return found

    def _py_function_at(self, path: str, line: int) -> FuncDef | None:
        tree = self.python(path)
        if tree is None:
            return None
        best: FuncDef | None = None
        for node in ast.walk(tree):
            # The innermost function containing the line is the handler.
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and _py_start(node) <= line <= (node.end_lineno or node.lineno)
                and (best is None or _py_start(node) >= _py_start(best))
            ):
                best = node
        return best

    def _js_unit_at(self, path: str, line: int) -> Node | None:
        tree = self.js(path)
        if tree is None:
            return None
        row = line - 1
        outer: Node | None = None
        inner_fn: Node | None = None
        for node in jsast.walk(tree.root_node):
            if node.start_point[0] > row or node.end_point[0] < row:
                continue
            if node.type in _JS_STATEMENTS and node.start_point[0] == row:
                if outer is None or node.end_byte - node.start_byte > (
                    outer.end_byte - outer.start_byte
                ):
                    outer = node
            elif node.type in jsast.FUNCTION_TYPES:
                inner_fn = node  # walk is depth first: the last one is the innermost
        return outer or inner_fn

    def python_function(self, dotted_name: str, near: str = "") -> CodeRef | None:
        """The definition of a handler named ``pkg.module.func`` (connexion, Django urls).

        The name may end in a class (a Django class-based view: its whole body) or in
        ``Class.method`` (a viewset action: the method, or the class when the method is
        inherited). The module is the file the kernel's rule gives when ``near`` (the file
        that routes to it) imports it: Django names modules from the folder holding
        ``manage.py``, which need not be the root.
        """
        parts = dotted_name.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module, attrs = parts[:split], parts[split:]
            if len(attrs) > 2:
                break
            for candidate in self.reader.python_modules.files_of(".".join(module), near):
                tree = self.python(candidate)
                found = _py_member(tree, attrs) if tree is not None else None
                if found is not None:
                    # (the module is the file the excerpt's head names: not said twice)
                    return _py_ref(candidate, found, f"handler {'.'.join(attrs)}")
        return None

    def view_method(self, ref: CodeRef, method: str) -> list[CodeRef] | None:
        """A class-based view's code for the route of one HTTP method: the class's head (its
        bases and attributes, ``permission_classes``, up to its first method) and the method
        of that name, when the class defines it; None otherwise (an inherited method: the
        class). The whole class, quoted for each of its routes, lost its later methods at
        the excerpt's length (a ``put`` after a long ``get`` and ``post``)."""
        tree = self.python(ref.path)
        cls = (
            next(
                (n for n in tree.body if isinstance(n, ast.ClassDef) and _py_start(n) == ref.start),
                None,
            )
            if tree is not None
            else None
        )
        if cls is None:
            return None
        fns = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        own = next((n for n in fns if n.name == method.lower()), None)
        if own is None:
            return None
        head_end = max(ref.start, _py_start(fns[0]) - 1)
        method_ref = _py_ref(ref.path, own, f"{ref.label}.{own.name}")
        return [
            replace(ref, end=head_end),
            replace(method_ref, fold=ref.fold, touched=ref.touched),
        ]

    def js_member_function(self, path: str, dotted_name: str) -> CodeRef | None:
        """The body of ``obj.method`` used as an Express handler in ``path``.

        ``obj`` is followed to the module it comes from (``require``/``import``, directly or
        through ``new Handler(...)``), where ``method`` is a method, an object property, a
        ``this.method = function`` assignment or a top-level function.
        """
        obj, _, member = dotted_name.rpartition(".")
        tree = self.js(path)
        if tree is None or not obj or "." in obj or not member.isidentifier():
            return None
        imports = jsast.imports(tree.root_node)
        source = obj
        # ``const h = require("./h")`` is itself an import (its call is no factory); only
        # ``new Handler(db)`` / ``makeHandler(db)`` names the import the object comes from.
        for node in () if obj in imports else jsast.walk(tree.root_node):
            name = node.child_by_field_name("name") if node.type == "variable_declarator" else None
            if name is not None and node_text(name) == obj:
                value = jsast.unwrap(node.child_by_field_name("value"))
                callee = None
                if value is not None and value.type in ("new_expression", "call_expression"):
                    field_ = "constructor" if value.type == "new_expression" else "function"
                    callee = value.child_by_field_name(field_)
                if callee is not None and callee.type == "identifier":
                    source = node_text(callee)
                break
        if source not in imports:
            return None
        module = self._js_module(path, imports[source][0])
        other = self.js(module) if module else None
        if other is None or module is None:
            return None
        for node in jsast.walk(other.root_node):
            if _js_defines(node, member):
                # (``obj`` is the module the excerpt's head names)
                return CodeRef(
                    module, node.start_point[0] + 1, node.end_point[0] + 1, f"handler {member}"
                )
        return None

    # ------------------------------------------------------------------ guards

    def guard_definitions(self, path: str, line: int) -> list[CodeRef]:
        """Definitions of the decorators / middleware wrapped around the handler at ``line``."""
        lang = detect_language(path)
        if lang == "python":
            return self._py_guards(path, line)
        if lang in JS_LANGUAGES:
            return self._js_guards(path, line)
        return []

    def _py_guards(self, path: str, line: int) -> list[CodeRef]:
        fn = self._py_function_at(path, line)
        tree = self.python(path)
        if fn is None or tree is None:
            return []
        out: list[CodeRef] = []
        for dec in fn.decorator_list:
            name = dotted(dec)
            if not name or ("." in name and last(name) in ROUTE_DECORATORS):
                continue
            ref = self._py_resolve(path, tree, name)
            if ref is not None:
                out.append(ref)
        return out

    def _py_resolve(self, path: str, tree: ast.Module, name: str) -> CodeRef | None:
        head, _, rest = name.partition(".")
        if not rest:
            local = _py_toplevel_def(tree, head)
            if local is not None:
                return _py_ref(path, local, f"decorator {name}")
        imported = imports_of(tree).get(head)
        if imported is None:
            return None
        module, member, level = str(imported[0]), str(imported[1]), int(imported[2])
        if rest:  # `import auth` then `@auth.guard`, or `from pkg import mod` then `@mod.guard`
            target = last(rest)
            if member:
                module = f"{module}.{member}" if module else member
        else:  # `from auth import guard` then `@guard`
            target = member or head
        for candidate in self.reader.python_modules.files_of(module, path, level):
            other = self.python(candidate)
            if other is None:
                continue
            found = _py_toplevel_def(other, target)
            if found is not None:
                return _py_ref(candidate, found, f"decorator {name}")
        return None

    def _js_guards(self, path: str, line: int) -> list[CodeRef]:
        tree = self.js(path)
        unit = self._js_unit_at(path, line)
        if tree is None or unit is None:
            return []
        call = next((n for n in jsast.walk(unit) if n.type == "call_expression"), None)
        if call is None:
            return []
        names = [node_text(a) for a in jsast.call_args(call) if a.type == "identifier"]
        out: list[CodeRef] = []
        imports = jsast.imports(tree.root_node)
        made = jsast.made_by_call(tree.root_node)  # ``limiter = rateLimiter({...})``: its factory
        for name in names:
            ref = _js_toplevel_def(path, tree.root_node, name)
            ref = ref or (self._js_imported(path, imports, name) if name in imports else None)
            if ref is not None:
                out.append(CodeRef(ref.path, ref.start, ref.end, f"middleware {name}"))
            factory = made.get(name)
            found = self._js_imported(path, imports, factory) if factory in imports else None
            if factory and found is not None:
                out.append(CodeRef(found.path, found.start, found.end, f"made by {factory}"))
        return out

    def _js_imported(
        self, path: str, imports: dict[str, tuple[str, str]], name: str
    ) -> CodeRef | None:
        spec, member = imports[name]
        target = self._js_module(path, spec)
        other = self.js(target) if target else None
        if other is None or target is None:
            return None
        return _js_toplevel_def(
            target, other.root_node, name if member in ("*", "default") else member
        )

    def _js_module(self, from_path: str, spec: str) -> str | None:
        """The repository file an import names, by the resolver every JS consumer uses
        (relative files, tsconfig aliases, workspace packages: ``jsast.resolve_module``)."""
        if self._files is None:
            self._files = repo_files(self.reader.root, code_files(self.reader))
        found = jsast.resolve_module(from_path, spec, self._files)
        return found if found is not None and self.exists(found) else None


def _py_start(node: FuncDef | ast.ClassDef) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def _py_ref(path: str, node: FuncDef | ast.ClassDef, label: str) -> CodeRef:
    return CodeRef(path, _py_start(node), node.end_lineno or node.lineno, label)


def _py_member(tree: ast.Module, attrs: list[str]) -> FuncDef | ast.ClassDef | None:
    """``func``, ``Class`` or ``Class.method`` at the top of a module (the class if the
    method is not its own)."""
    if len(attrs) == 1:
        return _py_toplevel_def(tree, attrs[0]) or _py_toplevel_class(tree, attrs[0])
    cls = _py_toplevel_class(tree, attrs[0])
    if cls is None:
        return None
    own = next(
        (
            n
            for n in cls.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == attrs[1]
        ),
        None,
    )
    return own or cls


def _py_toplevel_class(tree: ast.Module, name: str) -> ast.ClassDef | None:
    return next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name),
        None,
    )


def _py_toplevel_def(tree: ast.Module, name: str) -> FuncDef | None:
    return next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name
        ),
        None,
    )


def _js_toplevel_def(path: str, root: Node, name: str) -> CodeRef | None:
    for node in root.named_children:
        inner = (
            node.named_children[0]
            if node.type == "export_statement" and (node.named_children)
            else node
        )
        if inner.type in ("function_declaration", "generator_function_declaration"):
            ident = inner.child_by_field_name("name")
            if ident is not None and node_text(ident) == name:
                return CodeRef(path, node.start_point[0] + 1, node.end_point[0] + 1, name)
        elif inner.type in ("lexical_declaration", "variable_declaration"):
            for decl in inner.named_children:
                ident = (
                    decl.child_by_field_name("name") if decl.type == "variable_declarator" else None
                )
                if ident is not None and node_text(ident) == name:
                    return CodeRef(path, node.start_point[0] + 1, node.end_point[0] + 1, name)
    return None


def _js_defines(node: Node, member: str) -> bool:
    """``node`` defines a function called ``member`` (method, property, assignment, decl)."""
    if node.type in ("method_definition", "function_declaration"):
        name = node.child_by_field_name("name")
        return name is not None and node_text(name) == member
    if node.type in ("pair", "variable_declarator", "assignment_expression"):
        key = node.child_by_field_name(
            {"pair": "key", "variable_declarator": "name", "assignment_expression": "left"}[
                node.type
            ]
        )
        value = jsast.unwrap(
            node.child_by_field_name("right" if node.type == "assignment_expression" else "value")
        )
        if key is None or value is None or value.type not in jsast.FUNCTION_TYPES:
            return False
        if key.type == "member_expression":
            prop = key.child_by_field_name("property")
            return prop is not None and node_text(prop) == member
        return node_text(key).strip("'\"") == member
    return False
