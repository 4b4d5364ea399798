"""Module-level objects a package's factory made: ``const db = pgp(url)`` with
``const pgp = require('pg-promise')()``, ``const knex = require('knex')(config)``.

Such a name is the package's object: ``db.one(q)`` is ``pg-promise.one``, so a catalog row
can name the package's method (``one`` and ``many`` are far too common to be sinks by name
alone), and a package's row matches where the app's module holds the object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.code.jsast import call_args, imports, string_value, unwrap, walk
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node


def made_by_packages(root: Node) -> dict[str, str]:
    """Name -> the package whose factory call made it, in source order (a factory's product
    made in turn: ``pgp`` then ``db``), at the top or in a function (``var db = pgp(url)``
    in each query function). A name the file also declares as anything else is left out.
    A relative import is the repository's own function, not a package's factory; a named
    import (``{ a } from``) is a member, not the package's factory."""
    taken = set(imports(root))  # a name an import binds is that import
    known = {
        local: spec.removeprefix("node:")
        for local, (spec, name) in imports(root).items()
        if name in ("*", "default") and not spec.startswith((".", "@/", "~/"))
    }
    out: dict[str, str] = {}
    mixed: set[str] = set()  # a name declared elsewhere in the file as something else
    for decl in walk(root):
        if decl.type != "variable_declarator":
            continue
        name = decl.child_by_field_name("name")
        if name is None or name.type != "identifier":
            continue
        local = node_text(name)
        value = unwrap(decl.child_by_field_name("value"))
        package = _factory(value, known) if value is not None else None
        if package is None or local in taken or out.get(local, package) != package:
            mixed.add(local)
        elif local not in known:
            known[local] = out[local] = package
    return {k: v for k, v in out.items() if k not in mixed}


def _factory(value: Node, known: dict[str, str]) -> str | None:
    if value.type != "call_expression":
        return None
    fn = unwrap(value.child_by_field_name("function"))
    if fn is None:
        return None
    if fn.type == "call_expression":  # ``require('pg-promise')(options)``
        inner = unwrap(fn.child_by_field_name("function"))
        args = call_args(fn)
        if inner is None or node_text(inner) != "require" or not args:
            return None
        spec = string_value(unwrap(args[0]))
        if not spec or spec.startswith((".", "@/", "~/")):
            return None
        return spec.removeprefix("node:")
    if fn.type == "identifier":  # ``pgp(url)``: what a package's factory made makes
        return known.get(node_text(fn))
    return None
