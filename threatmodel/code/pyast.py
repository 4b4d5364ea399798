"""Small AST helpers shared by the Python web-framework collectors.

Names as written (``a.b.c``), string constants, keyword arguments, imports (so that a name
used in one file can be followed to the file that defines it), and the normalisation of
every framework's path-parameter syntax to ``{name}``. ``walk`` lists a tree's nodes in
``ast.walk`` order about twice as fast, and ``tree_nodes`` lists a whole module once for
all the collectors that read it (walking is most of what the Python collectors cost).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.urlpattern import group_end

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef
_AST = ast.AST

# Fields that hold only identifiers, strings or numbers in a parsed tree (the grammar's
# identifier / string / constant / int): never a node, so the walks below skip them.
# tests/test_pyast_walk.py checks the walks still equal ast.walk on hundreds of files.
_LEAF_FIELDS: dict[str, tuple[str, ...]] = {
    "FunctionDef": ("name", "type_comment"),
    "AsyncFunctionDef": ("name", "type_comment"),
    "ClassDef": ("name",),
    "Assign": ("type_comment",),
    "For": ("type_comment",),
    "AsyncFor": ("type_comment",),
    "With": ("type_comment",),
    "AsyncWith": ("type_comment",),
    "AnnAssign": ("simple",),
    "ImportFrom": ("module", "level"),
    "Global": ("names",),
    "Nonlocal": ("names",),
    "Constant": ("value", "kind"),
    "Attribute": ("attr",),
    "Name": ("id",),
    "FormattedValue": ("conversion",),
    "comprehension": ("is_async",),
    "ExceptHandler": ("name",),
    "arg": ("arg", "type_comment"),
    "keyword": ("arg",),
    "alias": ("name", "asname"),
    "MatchSingleton": ("value",),
    "MatchStar": ("name",),
    "MatchAs": ("name",),
    "MatchMapping": ("rest",),
    "MatchClass": ("kwd_attrs",),
}
# Node class -> the fields that may hold nodes, in _fields order (other classes: _fields).
CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f for f in cls._fields if f not in _LEAF_FIELDS.get(name, ()))
    for name, cls in vars(ast).items()
    if isinstance(cls, type) and issubclass(cls, ast.AST)
}


def walk(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` (itself first), in exactly ``ast.walk``'s breadth-first order.

    The same traversal as ``ast.walk`` (fields in ``_fields`` order, AST values and the AST
    items of lists), without its two generator layers per node nor the fields that never
    hold a node (``CHILD_FIELDS``).
    """
    out: list[ast.AST] = [node]
    append, fields = out.append, CHILD_FIELDS
    for n in out:  # the list grows while it is read: breadth-first, as ast.walk's deque
        for name in fields.get(n.__class__, n._fields):
            v = getattr(n, name, None)
            if isinstance(v, _AST):
                append(v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, _AST):
                        append(x)
    return out


_last_tree: list[Any] = [None, None]  # [module, its walk]: the file every collector is on


def forget_tree() -> None:
    """Let go of the last module's walk: called when its file is done, so the tree dies by
    reference counting then (not when the next file is walked, after the cyclic garbage
    collector has traversed it again)."""
    _last_tree[0] = _last_tree[1] = None


def has_tree_nodes(tree: ast.Module) -> bool:
    """Is ``tree_nodes(tree)`` already listed (free to ask)?"""
    return _last_tree[0] is tree


def tree_nodes(tree: ast.Module) -> list[ast.AST]:
    """``walk(tree)`` of a whole module, listed once for every collector that reads it.

    Collectors run one file after another on the same parsed tree, so remembering the last
    tree is enough; it is held (not its id) so a new tree can never be mistaken for it.
    Callers must not change the list.
    """
    if _last_tree[0] is not tree:
        _last_tree[0], _last_tree[1] = tree, walk(tree)
    nodes: list[ast.AST] = _last_tree[1]
    return nodes


def dotted(node: ast.AST | None) -> str:
    """``a.b.c`` for Name / Attribute chains (a call unwraps to its callee); "" otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def subscript_head(node: ast.expr) -> ast.expr:
    """``Generic[T]`` / ``GenericAPIView[Any]``: the class named before the subscript (a
    generic alias subclasses the class itself)."""
    return node.value if isinstance(node, ast.Subscript) else node


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def str_const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def arg_or_kw(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The argument given by position ``index`` or by keyword ``name``."""
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return kw(call, name)


def str_list(node: ast.AST | None) -> list[str] | None:
    """``["GET", "POST"]`` / ``("a",)`` / ``{"a"}`` -> list; None when not all constants."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        out = [str_const(e) for e in node.elts]
        return [s for s in out if s is not None] if all(s is not None for s in out) else None
    s = str_const(node)
    return [s] if s is not None else None


def bool_const(node: ast.AST | None) -> bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def line_text(lines: list[str], line: int) -> str:
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def evidence(lines: list[str], line: int) -> list[Any]:
    """``[line, text]``: the JSON-able form extracts use for one evidence line."""
    return [line, line_text(lines, line)]


def imports_of(tree: ast.Module) -> dict[str, list[Any]]:
    """Imports: local name -> [module, imported name or "", level].

    ``from .auth import login_required as lr`` -> ``{"lr": ["auth", "login_required", 1]}``;
    ``import app.views as v`` -> ``{"v": ["app.views", "", 0]}``. Module-level imports (and
    those under ``if``/``try``) first: that is where names used by decorators and
    ``include()`` come from. Then imports inside a top-level function or method: an
    application factory imports its blueprints there (``from app.auth import bp`` in
    ``create_app``, Flask's own tutorial does so) to register them. Such a name is kept
    only where the module binds it nowhere else, and only when every function that imports
    it imports the same thing.
    """
    out = _imports_in(tree.body)
    bound = set(out) | _module_bindings(tree)
    local: dict[str, list[Any] | None] = {}
    for node in tree.body:
        bodies = [node] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else []
        if isinstance(node, ast.ClassDef):
            bodies = [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for fn in bodies:
            for name, target in _imports_in(fn.body).items():
                if name not in bound:
                    local[name] = target if local.get(name, target) == target else None
    out.update({name: target for name, target in local.items() if target is not None})
    return out


def _imports_in(body: list[ast.stmt]) -> dict[str, list[Any]]:
    """The imports of ``body``, through ``if`` and ``try`` (not into nested functions)."""
    out: dict[str, list[Any]] = {}
    stack: list[ast.stmt] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name != "*":
                    out[a.asname or a.name] = [node.module or "", a.name, node.level]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = [a.name, "", 0]
                else:
                    out[a.name.split(".")[0]] = [a.name.split(".")[0], "", 0]
        elif isinstance(node, ast.If | ast.Try):
            stack.extend(node.body)
            stack.extend(node.orelse)
            if isinstance(node, ast.Try):
                for h in node.handlers:
                    stack.extend(h.body)
    return out


def _module_bindings(tree: ast.Module) -> set[str]:
    """Names the module's own top-level statements bind (assignments, defs, classes)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def absolute_name(name: str, imports: Mapping[str, list[Any]]) -> str:
    """``name`` with its first part replaced by what ``imports`` (``imports_of``) says it is:
    ``setup_jinja`` -> ``aiohttp_jinja2.setup``. A relative import is the repository's own
    code and stays as written."""
    head, _, rest = name.partition(".")
    got = imports.get(head)
    if got is None or got[2]:
        return name
    base = ".".join(p for p in (got[0], got[1]) if p)
    return f"{base}.{rest}" if rest else base


def star_imports_of(tree: ast.Module) -> list[list[Any]]:
    """``from x import *`` at module level: [[module, level]]."""
    return [
        [n.module or "", n.level]
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
    ]


# --------------------------------------------------------------------------- paths


def _params(path: str, open_: str, close: str) -> str:
    """Replace ``open_ ... close`` parameters by ``{name}``, the name being after the last ':'
    for Flask/Django (``<int:id>``) and before the first ':' for ``{name:regex}``."""
    out, i = [], 0
    while i < len(path):
        j = path.find(close, i + 1) if path[i] == open_ else -1
        if j == -1:
            out.append(path[i])
            i += 1
            continue
        inner = path[i + 1 : j]
        name = inner.split(":")[-1] if open_ == "<" else inner.split(":")[0]
        out.append("{" + name.strip() + "}")
        i = j + 1
    return "".join(out)


def normalize_angle(path: str) -> str:
    """Flask / Django converters: ``/users/<int:id>`` -> ``/users/{id}``."""
    return _params(path, "<", ">")


def normalize_brace(path: str) -> str:
    """FastAPI / aiohttp / OpenAPI: ``/f/{p:path}``, ``/{id:\\d+}`` -> ``/f/{p}``, ``/{id}``."""
    if ":" not in path:
        return path
    depth, out, start = 0, [], 0
    # Regexes inside braces may contain braces ({id:\d{3}}): track depth to find the end.
    for i, ch in enumerate(path):
        if ch == "{":
            if depth == 0:
                out.append(path[start:i])
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                out.append("{" + path[start + 1 : i].split(":")[0].strip() + "}")
                start = i + 1
    out.append(path[start:])
    return "".join(out)


def normalize_regex(pattern: str) -> str:
    """Django ``re_path`` / ``url()``: ``^users/(?P<pk>[0-9]+)/$`` -> ``users/{pk}/``.

    Named groups become ``{name}``, unnamed groups ``{arg1}``..., anchors and escapes go.
    """
    p = pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out: list[str] = []
    i, unnamed = 0, 0
    while i < len(p):
        ch = p[i]
        if ch == "\\" and i + 1 < len(p):
            out.append(p[i + 1])
            i += 2
            continue
        if ch == "(":
            j = group_end(p, i + 1)
            group = p[i:j]
            if group.startswith("(?P<"):
                out.append("{" + group[4 : group.index(">")] + "}")
            elif group.startswith("(?:") or group.startswith("(?="):
                pass  # non-capturing / look-ahead: not a parameter, drop it
            else:
                unnamed += 1
                out.append(f"{{arg{unnamed}}}")
            i = j
            continue
        if ch in "?*+":
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def join_paths(*parts: str) -> str:
    """Join URL prefixes: ``("/api/", "/v1", "users/")`` -> ``/api/v1/users/``.

    A trailing slash is kept from the last part only (it matters to Django and Flask).
    """
    segs = [p.strip("/") for p in parts if p and p.strip("/")]
    path = "/" + "/".join(segs)
    tail = next((p for p in reversed(parts) if p), "")
    if tail.endswith("/") and path != "/":
        path += "/"
    return path


def skips_verification(call: ast.Call) -> bool:
    """Does a token decode say it checks no signature (``verify=False``, ``options=
    {"verify_signature": False}``)? Its payload is whatever the caller wrote."""
    for k in call.keywords:
        if k.arg == "verify" and isinstance(k.value, ast.Constant) and k.value.value is False:
            return True
        if k.arg == "options" and isinstance(k.value, ast.Dict):
            for kk, vv in zip(k.value.keys, k.value.values, strict=False):
                if str_const(kk) == "verify_signature" and isinstance(vv, ast.Constant):
                    return vv.value is False
    return False
