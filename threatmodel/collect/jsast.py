"""Small helpers over tree-sitter JavaScript/TypeScript trees, shared by the JS collectors.

The Express, Next.js and NestJS collectors all need the same few things: walk a tree, read a
string literal, name a callee, map local names to the modules they were imported from, and
resolve a relative import to a repository file. Keeping them here keeps each collector small
and makes every one read code the same way (always from the parse tree, never by regex).
"""

from __future__ import annotations

import posixpath
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from threatmodel.collect.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

FUNCTION_TYPES = frozenset(
    {
        "arrow_function",
        "function_expression",
        "function_declaration",
        "function",
        "generator_function_declaration",
        "method_definition",
    }
)
_TEST_DIRS = frozenset({"test", "tests", "__tests__", "__mocks__", "cypress", "e2e", "spec"})
JS_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first, without recursion.

    The collectors walk each file's tree many times over (whole file, then each handler), so
    the last tree's nodes are listed once, in this order, and any walk of one of its nodes is
    a slice of that list (a subtree is ``descendant_count`` nodes from its own position).
    Measured on generated TypeScript: the JS collectors' time halves (benchmarks/, issue 11).
    """
    found = _indexed(node)
    if found is not None:
        nodes, i = found[0].nodes, found[1]
        return iter(nodes[i : i + node.descendant_count])
    return _cursor_walk(node)


def nodes_of(node: Node, types: frozenset[str]) -> list[Node]:
    """The nodes of ``walk(node)`` whose type is in ``types``, in the same order.

    Most passes over a whole file look at one to six node types among hundreds of thousands
    of nodes: the listing groups node positions by type once, so such a pass reads only its
    own nodes instead of asking every node its type (issue 11).
    """
    found = _indexed(node)
    if found is None:
        return [n for n in _cursor_walk(node) if n.type in types]
    index, start = found
    stop = start + node.descendant_count
    picked: list[int] = []
    for t in types:
        positions = index.by_type.get(t)
        if positions:
            picked.extend(positions[bisect_left(positions, start) : bisect_left(positions, stop)])
    if len(types) > 1:
        picked.sort()
    nodes = index.nodes
    return [nodes[i] for i in picked]


class _Index:
    """One tree's nodes in walk order, each node's position, and positions by node type."""

    def __init__(self, root: Node) -> None:
        self.root = root  # held, so the tree stays alive and no other tree reuses node ids
        nodes: list[Node] = []
        position: dict[int, int] = {}
        by_type: dict[str, list[int]] = {}
        # _cursor_walk's order, inlined: one Python loop per node instead of three (listing,
        # positions, types) is a fifth of the JS collectors' time on generated TypeScript.
        cursor = root.walk()
        first, sibling, parent = (
            cursor.goto_first_child,
            cursor.goto_next_sibling,
            cursor.goto_parent,
        )
        node, i, depth = root, 0, 0
        while True:
            nodes.append(node)
            position[node.id] = i
            positions = by_type.get(node.type)
            if positions is None:
                by_type[node.type] = [i]
            else:
                positions.append(i)
            i += 1
            if first():
                depth += 1
                node = cursor.node  # type: ignore[assignment]
                continue
            while depth and not sibling():
                parent()
                depth -= 1
            if not depth:
                break
            node = cursor.node  # type: ignore[assignment]
        self.nodes, self.position, self.by_type = nodes, position, by_type
        # Results of analyses several collectors ask about the same node (see ``memo``).
        self.memo: dict[tuple[str, int], Any] = {}


def _indexed(node: Node) -> tuple[_Index, int] | None:
    """The listing holding ``node`` and its position there, listing a new tree's root."""
    global _INDEXED
    index = _INDEXED
    if index is not None:
        i = index.position.get(node.id)
        if i is not None and index.nodes[i] == node:  # same tree: Node equality checks it
            return index, i
    if node.type == "program":  # a tree's root: list it for the walks that follow
        index = _Index(node)
        # Two nodes sharing an id (never seen, but not promised) would make slices ambiguous.
        _INDEXED = index if len(index.position) == len(index.nodes) else None
        return (index, 0) if _INDEXED is not None else None
    return None


_INDEXED: _Index | None = None


def memo(kind: str, node: Node) -> tuple[dict[tuple[str, int], Any], tuple[str, int]] | None:
    """Where to keep the ``kind`` analysis of ``node`` for the rest of its tree's extraction.

    The Express and Next.js collectors both ask ``handler_auth`` about the same functions of a
    file; keyed by the node's position in its listed tree, an answer is computed once and
    dropped with the listing. None when the node's tree is not the listed one.
    """
    found = _indexed(node)
    return (found[0].memo, (kind, found[1])) if found is not None else None


def _cursor_walk(node: Node) -> Iterator[Node]:
    """Pre-order, as ``walk``; a TreeCursor is twice as fast as building ``children`` lists."""
    cursor = node.walk()
    yield node
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            yield cursor.node  # type: ignore[misc]
            continue
        while True:
            if depth == 0:
                return
            if cursor.goto_next_sibling():
                yield cursor.node  # type: ignore[misc]
                break
            cursor.goto_parent()
            depth -= 1


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
    if spec.startswith(("@/", "~/")):
        # The common tsconfig alias for the source root; try both conventions.
        for base in ("src/" + spec[2:], spec[2:]):
            hit = _with_suffix(base, files)
            if hit:
                return hit
        return None
    if not spec.startswith("."):
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
