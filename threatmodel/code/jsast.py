"""Small helpers over tree-sitter JavaScript/TypeScript trees, shared by the JS collectors.

The Express, Next.js and NestJS collectors all need the same few things: walk a tree, read a
string literal, name a callee, map local names to the modules they were imported from, and
resolve a relative import to a repository file. Keeping them here keeps each collector small
and makes every one read code the same way (always from the parse tree, never by regex).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from threatmodel.code.jsindex import FUNCTION_TYPES as FUNCTION_TYPES
from threatmodel.code.jsindex import memo as memo
from threatmodel.code.jsindex import nodes_of as nodes_of
from threatmodel.code.jsindex import walk as walk
from threatmodel.code.jsworkspace import alias_candidates, package_candidates
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

_TEST_DIRS = frozenset({"test", "tests", "__tests__", "__mocks__", "cypress", "e2e", "spec"})
JS_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def walk_shallow(node: Node) -> Iterator[Node]:
    """Like walk() but does not descend into nested functions (their code runs elsewhere)."""
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        yield n
        if n.type not in FUNCTION_TYPES:
            stack.extend(reversed(n.children))


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


# A binding's node type -> the fields of its target and its value.
_BINDINGS = {
    "variable_declarator": ("name", "value"),  # const x = v
    "assignment_expression": ("left", "right"),  # x = v
}


def declared(fn: Node) -> dict[str, Node]:
    """Each name ``fn`` declares (``const x = v``, ``let``, ``var``) -> its value (the last
    declaration of a name wins)."""
    out: dict[str, Node] = {}
    for node in walk(fn):
        if node.type == "variable_declarator":
            bound = binding(node)
            if bound is not None:
                out[node_text(bound[0])] = bound[1]
    return out


def binding(node: Node) -> tuple[Node, Node] | None:
    """(target, value) of a declaration ``const x = v`` or an assignment ``x = v``; None for
    any other node, or one without both."""
    fields = _BINDINGS.get(node.type)
    if fields is None:
        return None
    target, value = (node.child_by_field_name(f) for f in fields)
    return (target, value) if target is not None and value is not None else None


def string_value(node: Node | None) -> str | None:
    """The value of a string literal or a template string without substitutions."""
    if node is None:
        return None
    if node.type == "string":
        return "".join(node_text(c) for c in node.named_children if c.type != "comment")
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
        return node_text(node)[1:-1]
    if node.type in ("parenthesized_expression", "as_expression", "satisfies_expression"):
        return string_value(node.named_children[0]) if node.named_children else None
    return None


def strings_of(node: Node | None) -> list[str] | None:
    """A string literal, or an array of only string literals, as a list; otherwise None."""
    if node is None:
        return None
    one = string_value(node)
    if one is not None:
        return [one]
    if node.type == "array":
        values = [string_value(c) for c in node.named_children]
        if values and all(v is not None for v in values):
            return [v for v in values if v is not None]
    return None


def dotted(node: Node | None) -> str:
    """``a.b.c`` for identifiers and member chains, '' for anything else."""
    if node is None:
        return ""
    if node.type in ("identifier", "property_identifier", "this", "shorthand_property_identifier"):
        return node_text(node)
    if node.type == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        base = dotted(obj)
        return f"{base}.{node_text(prop)}" if base and prop is not None else ""
    if node.type in ("non_null_expression", "parenthesized_expression", "await_expression"):
        return dotted(node.named_children[0]) if node.named_children else ""
    return ""


def callee(call: Node) -> str:
    """Dotted name of a call's function (``passport.authenticate``), '' when not a plain name."""
    return dotted(call.child_by_field_name("function"))


def call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [a for a in args.named_children if a.type != "comment"]


def object_props(node: Node | None) -> dict[str, Node]:
    """Key -> value node of an object literal (string, identifier and shorthand keys)."""
    out: dict[str, Node] = {}
    if node is None or node.type != "object":
        return out
    for child in node.named_children:
        if child.type == "pair":
            key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
            if key is None or value is None:
                continue
            name = string_value(key) if key.type == "string" else node_text(key)
            if name:
                out[name] = value
        elif child.type == "shorthand_property_identifier":
            out[node_text(child)] = child
        elif child.type == "method_definition":
            method = child.child_by_field_name("name")  # { async authorized() { ... } }
            if method is not None:
                out[node_text(method)] = child
    return out


def literal_object(node: Node | None) -> Node | None:
    """The object literal ``node`` is, or that the name ``node`` is declared with in the
    nearest enclosing block declaring it once (``const opts = { noent: true }`` then
    ``parse(xml, opts)``); None when the name is assigned again there or is no object."""
    node = unwrap(node)
    if node is None or node.type == "object":
        return node
    if node.type != "identifier":
        return None
    name = node_text(node)
    scope = node.parent
    while scope is not None:
        if scope.type in ("statement_block", "program"):
            found = [
                d.child_by_field_name("value")
                for s in scope.named_children
                if s.type in ("lexical_declaration", "variable_declaration")
                for d in s.named_children
                if d.type == "variable_declarator"
                and node_text(d.child_by_field_name("name") or d) == name
            ]
            if found:
                value = unwrap(found[0])
                reassigned = any(
                    n.type == "assignment_expression"
                    and node_text(n.child_by_field_name("left") or n) == name
                    for n in walk(scope)
                )
                if len(found) > 1 or reassigned or value is None:
                    return None
                return value if value.type == "object" else None
        scope = scope.parent
    return None


def made_by_call(root: Node) -> dict[str, str]:
    """Top-level name -> the function whose call made it (``const l = rateLimiter({...})``)."""
    out: dict[str, str] = {}
    for stmt in root.named_children:
        if stmt.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for decl in stmt.named_children:
            name = decl.child_by_field_name("name")
            value = unwrap(decl.child_by_field_name("value"))
            fn = value.child_by_field_name("function") if value is not None else None
            if name is not None and fn is not None and fn.type == "identifier":
                out[node_text(name)] = node_text(fn)
    return out


def params(fn: Node) -> list[str]:
    """Parameter names of a function node ('' for destructured or unnamed ones)."""
    ps = fn.child_by_field_name("parameters")
    if ps is None:  # `x => ...`
        p = fn.child_by_field_name("parameter")
        return [node_text(p)] if p is not None else []
    out = []
    for p in ps.named_children:
        target = p.child_by_field_name("pattern") if p.type.endswith("_parameter") else p
        if target is not None and target.type == "assignment_pattern":
            target = target.child_by_field_name("left")
        out.append(node_text(target) if target is not None and target.type == "identifier" else "")
    return out


def body_of(fn: Node) -> Node | None:
    return fn.child_by_field_name("body")


def unwrap(node: Node | None) -> Node | None:
    """Strip ``await``, parentheses, ``as`` casts and non-null assertions."""
    while node is not None and node.type in (
        "await_expression",
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "type_assertion",
    ):
        node = node.named_children[0] if node.named_children else None
    return node


def imports(root: Node) -> dict[str, tuple[str, str]]:
    """Local name -> (module specifier, imported name); '*' for namespaces, 'default' too.

    Covers ESM ``import`` and CommonJS ``require`` (plain, destructured and ``.member``).
    """
    out: dict[str, tuple[str, str]] = {}
    for node in root.named_children:
        if node.type == "import_statement":
            spec = string_value(node.child_by_field_name("source"))
            clause = next((c for c in node.named_children if c.type == "import_clause"), None)
            if spec is None or clause is None:
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    out[node_text(part)] = (spec, "default")
                elif part.type == "namespace_import" and part.named_children:
                    out[node_text(part.named_children[0])] = (spec, "*")
                elif part.type == "named_imports":
                    for s in part.named_children:
                        name, alias = s.child_by_field_name("name"), s.child_by_field_name("alias")
                        if name is not None:
                            out[node_text(alias or name)] = (spec, node_text(name))
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for decl in node.named_children:
                if decl.type == "variable_declarator":
                    _require_binding(decl, out)
    return out


def _require_binding(decl: Node, out: dict[str, tuple[str, str]]) -> None:
    name, value = decl.child_by_field_name("name"), unwrap(decl.child_by_field_name("value"))
    member = None
    if value is not None and value.type == "member_expression":
        prop = value.child_by_field_name("property")
        member = node_text(prop) if prop is not None else None
        value = value.child_by_field_name("object")
    if name is None or value is None or value.type != "call_expression":
        return
    if callee(value) != "require":
        return
    args = call_args(value)
    spec = string_value(args[0]) if args else None
    if spec is None:
        return
    if name.type == "identifier":
        out[node_text(name)] = (spec, member or "*")
    elif name.type == "object_pattern":
        for p in name.named_children:
            if p.type == "shorthand_property_identifier_pattern":
                out[node_text(p)] = (spec, node_text(p))
            elif p.type == "pair_pattern":
                key, val = p.child_by_field_name("key"), p.child_by_field_name("value")
                if key is not None and val is not None and val.type == "identifier":
                    out[node_text(val)] = (spec, node_text(key))


def resolve_module(from_path: str, spec: str, files: frozenset[str] | set[str]) -> str | None:
    """The repository file a relative import names, trying the usual suffixes and index files."""
    aliases = getattr(files, "aliases", None)
    if aliases and not spec.startswith("."):
        # The repository's own tsconfig ``paths`` (``jsworkspace.RepoFiles``) say first.
        for cand in alias_candidates(from_path, spec, aliases):
            hit = _with_suffix(cand, files)
            if hit:
                return hit
    if spec.startswith(("@/", "~/")):
        # The common tsconfig alias for the source root, from the importing file's own app
        # outwards (a monorepo's apps/web/lib/...), trying both conventions.
        parts = posixpath.dirname(from_path).split("/") if "/" in from_path else []
        for depth in range(len(parts), -1, -1):
            root = "/".join(parts[:depth])
            for base in (f"{root}/src/{spec[2:]}", f"{root}/{spec[2:]}"):
                hit = _with_suffix(base.lstrip("/"), files)
                if hit:
                    return hit
        return None
    if not spec.startswith(".") and "/" in spec and not spec.startswith("@"):
        # baseUrl imports (``app/x/page``): only a file of this repository can match
        parts = posixpath.dirname(from_path).split("/") if "/" in from_path else []
        for depth in range(len(parts), -1, -1):
            hit = _with_suffix(posixpath.join("/".join(parts[:depth]), spec), files)
            if hit:
                return hit
    if not spec.startswith("."):
        # A workspace package of this monorepo (``@acme/utils``), when the caller's file list
        # knows them (``jsworkspace.RepoFiles``); any other bare import is a library.
        packages = getattr(files, "packages", None)
        entries = getattr(files, "entries", None)
        for cand in package_candidates(spec, packages, entries) if packages else []:
            hit = _with_suffix(cand, files)
            if hit:
                return hit
        return None
    base = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), spec))
    return _with_suffix(base, files)


def _with_suffix(base: str, files: frozenset[str] | set[str]) -> str | None:
    if base in files:
        return base
    stem = base[: -len(posixpath.splitext(base)[1])] if base.endswith(JS_SUFFIXES) else base
    for suffix in JS_SUFFIXES:
        if stem + suffix in files:
            return stem + suffix
    for suffix in JS_SUFFIXES:
        if f"{base}/index{suffix}" in files:
            return f"{base}/index{suffix}"
    return None


def is_test_path(path: str) -> bool:
    """Tests, specs and end-to-end suites: they call routes, they do not define them."""
    parts = path.lower().split("/")
    name = parts[-1]
    if any(p in _TEST_DIRS for p in parts[:-1]):
        return True
    return ".test." in name or ".spec." in name or name.endswith((".d.ts", ".stories.tsx"))


def snippet(text_lines: list[str], line: int) -> str:
    return text_lines[line - 1].strip() if 0 < line <= len(text_lines) else ""


def has_directive(body: Node | None, directive: str) -> bool:
    """Does a module or function body open with ``directive`` (``"use client"``, ...)?

    The directive prologue is the string statements before any other code; comments may
    sit among them."""
    for node in body.named_children if body is not None else []:
        if node.type == "comment":
            continue
        value = (
            string_value(node.named_children[0] if node.named_children else None)
            if node.type == "expression_statement"
            else None
        )
        if value is None:
            return False
        if value == directive:
            return True
    return False
