"""Django URL patterns as written: a route's text from constants, f-strings and ``.format``.

``text`` reads a string, a module constant or an f-string of constants. ``formatted`` reads
``"^{}api/".format(get_setting("prefix"))`` and ``f"^{prefix()}api/"``: a value read from a
setting at run time is read as empty (the path a deployment without a prefix serves) and
named, so the route can say its prefix was not read; any other computed value leaves the
route unread (nothing is invented).
"""

from __future__ import annotations

import ast

from threatmodel.code.pyast import dotted, str_const
from threatmodel.frameworks._python.configured import setting_call
from threatmodel.frameworks._python.reject import mentions


def str_consts(tree: ast.Module) -> dict[str, str]:
    """Module-level string constants, first assignment wins (the default configuration)."""
    out: dict[str, str] = {}
    for n in tree.body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            v = str_const(n.value)
            if v is not None and n.targets[0].id not in out:
                out[n.targets[0].id] = v
    return out


def text(node: ast.AST | None, consts: dict[str, str]) -> str | None:
    """A route as written: a string, a module constant, or an f-string of constants."""
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                if not isinstance(v.value, ast.Name) or v.value.id not in consts:
                    return None
                parts.append(consts[v.value.id])
            else:
                parts.append(str_const(v) or "")
        return "".join(parts)
    return str_const(node)


def formatted(node: ast.AST | None, consts: dict[str, str]) -> tuple[str, str] | None:
    """``"^{}api/".format(get_setting("url_prefix"))`` / ``f"^{prefix()}api/"``: the route with
    each value the code cannot know (a call: a setting read at run time, a deployment's URL
    prefix) read as empty, and the first such value's source ("" when every one folded).

    Read empty, the path is the one a deployment without a prefix serves: nothing invented.
    """
    pieces: list[ast.AST | str] = []
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and (template := str_const(node.func.value)) is not None
        and not node.keywords
    ):
        parts = template.split("{}")
        if len(parts) != len(node.args) + 1 or any("{" in x or "}" in x for x in parts):
            return None
        for part, arg in zip(parts, [*node.args, None], strict=True):
            pieces.append(part)
            if arg is not None:
                pieces.append(arg)
    elif isinstance(node, ast.JoinedStr):
        for v in node.values:
            pieces.append(v.value if isinstance(v, ast.FormattedValue) else str_const(v) or "")
    else:
        return None
    out, unread = [], ""
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
        elif (known := text(piece, consts)) is not None:
            out.append(known)
        elif setting_read(piece):
            unread = unread or ast.unparse(piece)[:80]
        else:
            return None
    return "".join(out), unread


def setting_read(node: ast.AST) -> bool:
    """``get_system_setting("url_prefix")``: a call named for a setting, of constants only
    (a computed value such as ``settings.MEDIA_URL.strip("/")`` is not read as empty)."""
    call = setting_call(node) if isinstance(node, ast.Call) else None
    func = call.func if call is not None else None
    if isinstance(func, ast.Attribute):  # ``config.get("prefix")``, not a value's method
        named = func.attr == "get" or mentions(func, ("setting",))
        call = call if named and "." not in dotted(func.value) else None
    return call is not None and all(
        isinstance(a, ast.Constant) for a in [*call.args, *(k.value for k in call.keywords)]
    )
