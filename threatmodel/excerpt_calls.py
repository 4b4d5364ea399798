"""Follow a handler into the repository's own code: the functions it calls, to a bounded depth.

A route's chunk must hold the code where its vulnerability lives, and that is often not the
handler: an aiohttp route table names a view in another module, a view calls a DAO function
that builds the SQL, an Express handler calls ``profile.updateUser`` on an object made from
another module. ``handler_definition`` finds the function a route *names* when its location
is a route table; ``callees`` follows calls from a code excerpt, through imports, to
definitions inside the repository (never into installed packages: those are not read).

Python calls are resolved from the file's imports (``f()``, ``mod.f()``, ``Cls.method()``,
``from pkg import mod`` then ``mod.f()``) and same-module definitions; JavaScript calls from
``require``/``import`` bindings (``f()``, ``obj.method()`` with ``obj`` imported or built
with ``new Imported()``). Everything goes through ``CodeIndex``, so each file is parsed once.
When the dataflow engine's call summaries exist, they say which callees carry request data;
until then every resolved callee counts, bounded by ``MAX_DEPTH`` and ``MAX_CALLEES``.
"""

from __future__ import annotations

import ast

from threatmodel.code import jsast
from threatmodel.code.pyast import dotted, imports_of
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.code.treesitter import node_text
from threatmodel.excerpts import (
    ROUTE_DECORATORS,
    CodeIndex,
    CodeRef,
    _js_toplevel_def,
    _py_member,
    _py_ref,
)

MAX_DEPTH = 2  # handler -> service -> DAO: where request data usually meets the sink
MAX_CALLEES = 8  # per route, so one handler calling everything cannot fill the budget
_SKIP_HEADS = frozenset({"self", "cls", "this", "super"})


def _py_def_in(index: CodeIndex, path: str, attrs: list[str]) -> CodeRef | None:
    tree = index.python(path)
    found = _py_member(tree, attrs) if tree is not None else None
    if isinstance(found, ast.ClassDef):
        # a class (a constructor call, an inherited method) is not a callee body, but a
        # model form's or serializer's ``Meta`` says which request fields it saves
        meta = _fields_meta(found) if len(attrs) == 1 else None
        return _py_ref(path, meta, f"called {attrs[0]}") if meta is not None else None
    return _py_ref(path, found, f"called {'.'.join(attrs)}") if found is not None else None


def _fields_meta(cls: ast.ClassDef) -> ast.ClassDef | None:
    """The inner ``class Meta`` of a Django ``ModelForm`` / DRF ``ModelSerializer`` that
    names the model fields a request may set (``fields``, ``exclude``)."""
    for node in cls.body:
        if isinstance(node, ast.ClassDef) and node.name == "Meta":
            names = {
                t.id
                for a in node.body
                if isinstance(a, ast.Assign)
                for t in a.targets
                if isinstance(t, ast.Name)
            }
            if names & {"fields", "exclude"}:
                return node
    return None


def resolve_python(index: CodeIndex, path: str, name: str) -> CodeRef | None:
    """The definition ``name`` (``f``, ``mod.f``, ``Cls.m``, ``pkg.mod.f``) means in ``path``."""
    tree = index.python(path)
    if tree is None or not name:
        return None
    parts = name.split(".")
    if parts[0] in _SKIP_HEADS:
        return None
    if len(parts) <= 2:
        local = _py_def_in(index, path, parts)
        if local is not None:
            return local
    imported = imports_of(tree).get(parts[0])
    if imported is None:
        return None
    module, member, level = str(imported[0]), str(imported[1]), int(imported[2])
    rest = parts[1:]
    # `from pkg import thing`: thing is a module (pkg/thing.py) or a member of pkg.
    tries: list[tuple[str, list[str]]] = []
    if member:
        tries.append((f"{module}.{member}" if module else member, rest))
        tries.append((module, [member, *rest]))
    else:
        for split in range(len(rest), -1, -1):
            tries.append((".".join([module, *rest[:split]]), rest[split:]))
    for mod, attrs in tries:
        if not attrs or len(attrs) > 2:
            continue
        for candidate in index.reader.python_modules.files_of(mod, path, level):
            ref = _py_def_in(index, candidate, attrs)
            if ref is not None:
                return ref
    return None


def handler_definition(index: CodeIndex, path: str, line: int, handler: str) -> CodeRef | None:
    """The function a route table line names, when the route's location is not inside it.

    ``router.add_get("/", views.index)`` in routes.py: the handler is ``views.index`` in
    the views module. Returns None when the location already is the handler's own code.
    """
    lang = detect_language(path)
    tail = handler.rsplit(".", 1)[-1]
    if lang == "python":
        fn = index._py_function_at(path, line)
        if fn is not None and fn.name == tail:
            return None  # the location is the handler itself (a decorated function)
        # Collectors write the handler as "module.func" with the module as imported (or a
        # dotted path from the root); try the name as written, then its last two parts.
        for name in (handler, ".".join(handler.split(".")[-2:]), tail):
            ref = resolve_python(index, path, name)
            if ref is not None:
                return CodeRef(ref.path, ref.start, ref.end, f"handler {handler}")
        ref = index.python_function(handler, near=path)
        return ref if ref is not None and ref.path != path else None
    return None


def _py_calls(index: CodeIndex, ref: CodeRef) -> list[str]:
    """Names called on the lines of ``ref`` (a function, or a class-based view's methods)."""
    tree = index.python(ref.path)
    names: list[str] = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and ref.start <= node.lineno <= ref.end:
            name = dotted(node.func)
            if name and name not in names:
                names.append(name)
    return names


def _js_callees(index: CodeIndex, ref: CodeRef) -> list[CodeRef]:
    tree = index.js(ref.path)
    if tree is None:
        return []
    imports = jsast.imports(tree.root_node)
    out: list[CodeRef] = []
    seen: set[str] = set()
    for node in jsast.walk(tree.root_node):
        if node.type != "call_expression":
            continue
        row = node.start_point[0] + 1
        if not ref.start <= row <= ref.end:
            continue
        fn = node.child_by_field_name("function")
        name = node_text(fn) if fn is not None else ""
        if not name or name in seen or name.split(".")[0] in _SKIP_HEADS:
            continue
        seen.add(name)
        found: CodeRef | None = None
        if fn is not None and fn.type == "identifier":
            found = _js_toplevel_def(ref.path, tree.root_node, name)
            if found is None and name in imports:
                spec, member = imports[name]
                target = index._js_module(ref.path, spec)
                other = index.js(target) if target else None
                if other is not None and target is not None:
                    wanted = name if member in ("*", "default") else member
                    found = _js_toplevel_def(target, other.root_node, wanted)
        elif name.count(".") == 1:
            found = index.js_member_function(ref.path, name)
        if found is not None:
            out.append(CodeRef(found.path, found.start, found.end, f"called {name}"))
    return out


def callees(index: CodeIndex, refs: list[CodeRef], depth: int = MAX_DEPTH) -> list[CodeRef]:
    """Definitions, inside the repository, of the functions ``refs`` call (breadth first)."""
    known = {(r.path, r.start) for r in refs}
    out: list[CodeRef] = []
    frontier = list(refs)
    for _ in range(depth):
        nxt: list[CodeRef] = []
        for ref in frontier:
            lang = detect_language(ref.path)
            found: list[CodeRef] = []
            if lang == "python":
                names = _py_calls(index, ref)
                found = [
                    CodeRef(r.path, r.start, r.end, f"called {n}")
                    for n in names
                    if (r := resolve_python(index, ref.path, n))
                ]
            elif lang in JS_LANGUAGES:
                found = _js_callees(index, ref)
            for r in found:
                if (r.path, r.start) in known or jsast.is_test_path(r.path):
                    continue
                known.add((r.path, r.start))
                out.append(r)
                nxt.append(r)
                if len(out) >= MAX_CALLEES:
                    return out
        frontier = nxt
    return out


MAX_CONSTANTS = 4  # per route: allow-lists, query templates, patterns the code checks against
MAX_CONSTANT_LINES = 25


def _registrars(tree: ast.Module, ref: CodeRef) -> set[int]:
    """The names a decorator in ``ref`` is reached through (``mod_user`` of
    ``@mod_user.route('/login')``): the blueprint or app registering the function, which
    the route's own facts already say. Its arguments are read as usual."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for deco in node.decorator_list:
                if not ref.start <= deco.lineno <= ref.end:
                    continue
                target = deco.func if isinstance(deco, ast.Call) else deco
                if not (isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS):
                    continue
                while isinstance(target, ast.Attribute):
                    target = target.value
                if isinstance(target, ast.Name):
                    out.add(id(target))
    return out


def _py_constants(index: CodeIndex, ref: CodeRef) -> list[CodeRef]:
    tree = index.python(ref.path)
    if tree is None:
        return []
    registrar = _registrars(tree, ref)
    used = {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and ref.start <= n.lineno <= ref.end and id(n) not in registrar
    }
    out = []
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in used]
        end = node.end_lineno or node.lineno
        if (
            names
            and end - node.lineno < MAX_CONSTANT_LINES
            and not ref.start <= node.lineno <= ref.end
        ):
            out.append(CodeRef(ref.path, node.lineno, end, f"constant {names[0]}"))
    return out


def _js_constants(index: CodeIndex, ref: CodeRef) -> list[CodeRef]:
    tree = index.js(ref.path)
    if tree is None:
        return []
    used = {
        node_text(n)
        for n in jsast.walk(tree.root_node)
        if n.type == "identifier" and ref.start <= n.start_point[0] + 1 <= ref.end
    }
    out = []
    for node in tree.root_node.named_children:
        inner = (
            node.named_children[0]
            if node.type == "export_statement" and node.named_children
            else node
        )
        if inner.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for decl in inner.named_children:
            name = decl.child_by_field_name("name") if decl.type == "variable_declarator" else None
            value = jsast.unwrap(decl.child_by_field_name("value")) if name is not None else None
            if name is None or value is None or node_text(name) not in used:
                continue
            if value.type in jsast.FUNCTION_TYPES or value.type in ("call_expression", "class"):
                continue  # functions are callees; require()/factories are not data
            start, end = node.start_point[0] + 1, node.end_point[0] + 1
            if end - start < MAX_CONSTANT_LINES and not ref.start <= start <= ref.end:
                out.append(CodeRef(ref.path, start, end, f"constant {node_text(name)}"))
    return out


def constants(index: CodeIndex, refs: list[CodeRef]) -> list[CodeRef]:
    """Module-level values the code in ``refs`` reads (an allow-list a redirect is checked
    against, a query template, a pattern): the data its behaviour depends on."""
    out: list[CodeRef] = []
    seen = {(r.path, r.start) for r in refs}
    for ref in refs:
        lang = detect_language(ref.path)
        found = (
            _py_constants(index, ref)
            if lang == "python"
            else _js_constants(index, ref)
            if lang in JS_LANGUAGES
            else []
        )
        for c in found:
            if (c.path, c.start) not in seen:
                seen.add((c.path, c.start))
                out.append(c)
                if len(out) >= MAX_CONSTANTS:
                    return out
    return out
