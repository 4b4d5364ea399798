"""Route parameters a framework injects, named through a type alias: not request input.

FastAPI resolves a parameter annotated ``Annotated[Session, Depends(get_db)]`` by calling
the dependency, whether the ``Annotated`` is written in place or through an alias another
module defines (``DbSession = Annotated[Session, Depends(get_db)]``, then
``db: DbSession``). The value is what the dependency returned (a database session, the
current user), not something the caller sent. A default or an annotation written in place
is read where the handler is (``python.py``); an alias is known only once every module is:
extract records each module's injecting aliases and each route parameter's annotation, and
``dropped`` names the request sources whose annotation is such an alias.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from threatmodel.code.pyast import dotted

Injects = Callable[[str], bool]  # does this source text make the framework inject a value?


def is_alias_value(node: ast.expr | None, injects: Injects) -> bool:
    """``Annotated[T, Depends(...)]``: a type whose metadata makes the framework inject."""
    return (
        isinstance(node, ast.Subscript)
        and dotted(node.value).rsplit(".", 1)[-1] == "Annotated"
        and injects(ast.unparse(node.slice))
    )


def aliases(tree: ast.Module, module: str, injects: Injects) -> list[str]:
    """The module's top-level names assigned an injecting ``Annotated`` type, qualified."""
    out = []
    for s in tree.body:
        targets = s.targets if isinstance(s, ast.Assign) else []
        if isinstance(s, ast.AnnAssign):
            targets = [s.target]
        if isinstance(s, ast.Assign | ast.AnnAssign) and is_alias_value(s.value, injects):
            out += [f"{module}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    return sorted(out)


def dropped(
    extracts: Mapping[str, Any],
    canonical: Callable[[str], str],
    candidates: Callable[[str], list[str]],
) -> set[tuple[str, int, str]]:
    """(file, line, origin) of every route parameter source annotated with an injecting
    alias of any module (``canonical``: a name re-exported by a package, as link reads it;
    ``candidates``: the names it may have as its file names it, below the repository's
    root, ``pyroots``: ``polar.x.Alias`` imported, ``server/polar/x.py`` defining it)."""
    known = {a for data in extracts.values() for a in data.get("injected_aliases", [])}
    out = set()
    for path, data in extracts.items():
        for line, param, qual in data.get("annotated_params", []):
            if {qual, canonical(qual), *candidates(qual)} & known:
                out.add((path, line, f"parameter {param}"))
    return out
