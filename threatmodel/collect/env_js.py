"""Environment variables read by JavaScript/TypeScript code, and which ones reach the browser.

Reads found in the parse tree: ``process.env.X``, ``process.env["X"]``, destructuring
``const { X, Y: y } = process.env``, ``import.meta.env.X`` (Vite, Astro, SvelteKit),
``Bun.env.X`` and ``Deno.env.get("X")`` (Deno, Supabase Edge Functions). Bundlers inline
variables with certain prefixes into the client bundle (``NEXT_PUBLIC_``, ``VITE_``,
``REACT_APP_``, ``PUBLIC_``, ``EXPO_PUBLIC_``, ``NUXT_PUBLIC_``, ``GATSBY_``): those are
recorded ``client_exposed``, because anyone who loads the page can read them. Only names are
recorded, never values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import dotted, line_of, nodes_of, string_value, unwrap
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.models import Location

if TYPE_CHECKING:
    from tree_sitter import Node

CLIENT_PREFIXES = (
    "NEXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "NUXT_PUBLIC_",
    "GATSBY_",
)
_ENV_OBJECTS = frozenset({"process.env", "import.meta.env", "Bun.env"})
_READ_TYPES = frozenset(
    {"member_expression", "subscript_expression", "variable_declarator", "call_expression"}
)
# Deno has no env object to index: a variable is read by a call.
_ENV_CALLS = frozenset({"Deno.env.get"})


def is_client_exposed(name: str) -> bool:
    return name.startswith(CLIENT_PREFIXES)


def _env_object(node: Node | None) -> bool:
    node = unwrap(node)
    if node is None:
        return False
    # `import.meta` is a meta_property, which dotted() does not name: compare the text.
    return dotted(node) in _ENV_OBJECTS or node_text(node).replace(" ", "") == "import.meta.env"


@register
class JsEnvCollector(Collector):
    id = "env_js"
    version = 2
    # Every read names ``.env`` literally (``process.env``, ``import.meta.env``, ``Bun.env``,
    # ``Deno.env``, ``= process.env`` when destructured): extract() returns None without it.
    gate = re.compile(r"\.env")

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES

    def extract(self, src: SourceFile) -> Extract:
        text = src.text
        if "process.env" not in text and ".env" not in text:
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        reads: set[tuple[str, int]] = set()
        for node in nodes_of(tree.root_node, _READ_TYPES):
            t = node.type
            if t == "member_expression":
                obj = node.child_by_field_name("object")
                prop = node.child_by_field_name("property")
                if prop is not None and _env_object(obj):
                    reads.add((node_text(prop), line_of(node)))
            elif t == "subscript_expression":
                name = string_value(node.child_by_field_name("index"))
                if name and _env_object(node.child_by_field_name("object")):
                    reads.add((name, line_of(node)))
            elif t == "call_expression":
                args = node.child_by_field_name("arguments")
                first = args.named_children[0] if args and args.named_children else None
                name = string_value(first) if first is not None else None
                if name and dotted(node.child_by_field_name("function")) in _ENV_CALLS:
                    reads.add((name, line_of(node)))
            elif t == "variable_declarator":
                pattern = node.child_by_field_name("name")
                if pattern is None or pattern.type != "object_pattern":
                    continue
                if not _env_object(node.child_by_field_name("value")):
                    continue
                for p in pattern.named_children:
                    key = p
                    if p.type == "pair_pattern":
                        key = p.child_by_field_name("key") or p
                    elif p.type == "object_assignment_pattern":
                        key = p.child_by_field_name("left") or p
                    name = node_text(key)
                    if name.isidentifier():
                        reads.add((name, line_of(p)))
        valid = sorted((n, line) for n, line in reads if n and n.replace("_", "a").isalnum())
        return [[n, line] for n, line in valid] or None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path in sorted(extracts):
            for name, line in extracts[path]:
                out.add_env_read(name, Location(path=path, line=line), is_client_exposed(name))
