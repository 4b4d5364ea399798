"""NestJS route paths as @nestjs/core's RoutePathFactory builds them (routes.py).

A route's paths are: the URI version (``/{prefix}{version}`` when ``enableVersioning`` is
of type URI; the method's ``@Version()``, else the controller's ``version``, else the
``defaultVersion``; ``VERSION_NEUTRAL`` adds nothing; an array gives one path per version),
then the ``RouterModule.register`` path of the controller's module, the controller's
paths, the method's paths (``@Controller(['a', 'b'])`` and ``@Get(['x', 'y'])`` give one
path each), and in front of all the global prefix, unless ``setGlobalPrefix``'s
``exclude`` names the route (matched without the prefix and the version).

Values are read as written: a string, a template literal with its substitutions left out
(``${CONTEXT_PATH}v``: a deployment's context path, empty unless set), the default of
``process.env.X || 'api'``, an array of them. A prefix read from @nestjs/config
(``config.get('app.apiPrefix')``) is the literal its ``registerAs('app', ...)`` factory
answers with; any other prefix is unknown: no prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import call_args, callee, object_props, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks.nestjs.metadata import factory_body
from threatmodel.frameworks.nestjs.middleware import route_specs

if TYPE_CHECKING:
    from tree_sitter import Node

NEUTRAL = "*neutral*"


def literal(node: Node | None) -> str | None:
    """A string, or a template literal's fixed text (substitutions left out)."""
    node = unwrap(node)
    if node is None:
        return None
    value = string_value(node)
    if value is not None:
        return value
    if node.type == "template_string":
        return "".join(node_text(c) for c in node.named_children if c.type == "string_fragment")
    op = node.child_by_field_name("operator") if node.type == "binary_expression" else None
    if op is not None and node_text(op) in ("||", "??"):  # process.env.PREFIX || 'api'
        return literal(node.child_by_field_name("right"))
    return None


def config_key(node: Node | None) -> str | None:
    """``config.get('app.apiPrefix')`` (@nestjs/config's ConfigService): the key it reads."""
    node = unwrap(node)
    if node is None or node.type != "call_expression":
        return None
    if not callee(node).endswith((".get", ".getOrThrow")) or not call_args(node):
        return None
    return string_value(call_args(node)[0])


def registered(call: Node) -> dict[str, str]:
    """``registerAs('app', () => ({apiPrefix: process.env.API_PREFIX || 'api'}))``: each
    key the namespace's factory answers with a literal, as ``app.apiPrefix`` -> ``api``."""
    args = call_args(call)
    if callee(call) != "registerAs" or len(args) < 2:
        return {}
    space = string_value(args[0])
    body = factory_body(args[1])
    if space is None or body is None or body.type != "object":
        return {}
    out = {}
    for key, value in object_props(body).items():
        text = literal(value)
        if text is not None:
            out[f"{space}.{key}"] = text
    return out


def values(node: Node | None) -> list[str]:
    """A path or version as written: one literal, or each of an array's."""
    node = unwrap(node)
    if node is None:
        return []
    if node.type == "array":
        return [v for c in node.named_children for v in values(c)]
    if node_text(node).endswith("VERSION_NEUTRAL"):
        return [NEUTRAL]
    value = literal(node)
    return [value] if value is not None else []


def decorator_paths(args: list[Node]) -> tuple[list[str], list[str]]:
    """``@Controller('cats')``, ``@Controller({path, version})``, ``@Get(['a', 'b'])``:
    the paths (``[""]`` when none) and the versions written there."""
    if not args:
        return [""], []
    first = unwrap(args[0])
    if first is not None and first.type == "object":
        props = object_props(first)
        return values(props.get("path")) or [""], values(props.get("version"))
    return values(first) or [""], []


def versioning(call: Node) -> dict[str, Any] | None:
    """``app.enableVersioning({type: VersioningType.URI, prefix, defaultVersion})``."""
    args = call_args(call)
    props = object_props(unwrap(args[0])) if args else {}
    kind = node_text(props["type"]) if "type" in props else ""
    if not kind.endswith("URI"):
        return None  # header, media type and custom versioning leave the path alone
    prefix = "v"
    if "prefix" in props:
        written = props["prefix"]
        prefix = "" if written.type == "false" else (literal(written) or "")
    return {"prefix": prefix, "default": values(props.get("defaultVersion"))}


def global_prefix(call: Node) -> dict[str, Any] | None:
    """``app.setGlobalPrefix('api', {exclude: ['health', {path, method}]})``."""
    args = call_args(call)
    prefix = literal(args[0]) if args else None
    config = config_key(args[0]) if args else None
    if prefix is None and config is None:
        return None
    opts = object_props(unwrap(args[1])) if len(args) > 1 else {}
    excl = unwrap(opts.get("exclude"))
    exclude = route_specs(excl.named_children) if excl is not None and excl.type == "array" else []
    return {"prefix": prefix or "", "config": config, "exclude": exclude}


def router_paths(call: Node) -> list[list[str]]:
    """``RouterModule.register([{path, module, children}])``: [path, module] pairs, a
    child's path under its parent's (a bare module among the children keeps the parent's)."""
    if not callee(call).endswith(("RouterModule.register", "RouterModule.forRoutes")):
        return []
    args = call_args(call)
    out: list[list[str]] = []

    def visit(node: Node | None, base: str) -> None:
        node = unwrap(node)
        if node is None:
            return
        if node.type == "array":
            for c in node.named_children:
                visit(c, base)
        elif node.type == "identifier":
            out.append([base, node_text(node)])
        elif node.type == "object":
            props = object_props(node)
            path = join(base, literal(props.get("path")) or "")
            if "module" in props:
                out.append([path, node_text(props["module"])])
            visit(props.get("children"), path)

    visit(args[0] if args else None, "")
    return out


def join(*parts: str) -> str:
    """``/a`` + ``b/`` + ``/c`` -> ``a/b/c`` (no leading slash; empty parts dropped)."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def route_paths(
    ctrl: dict[str, Any],
    route: dict[str, Any],
    module_path: str,
    versions: dict[str, Any] | None,
) -> list[tuple[str, str]]:
    """``(path without the global prefix, the same without the version)`` for each path
    the route answers on."""
    chosen = route["versions"] or ctrl["versions"] or (versions or {}).get("default") or []
    tags = [""]
    if versions is not None and chosen:
        tags = ["" if v == NEUTRAL else versions["prefix"] + v for v in chosen]
    out = []
    for tag in tags:
        for cpath in ctrl["paths"]:
            for mpath in route["paths"]:
                local = join(module_path, cpath, mpath)
                out.append((join(tag, local), local))
    return out
