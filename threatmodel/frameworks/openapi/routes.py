"""OpenAPI-declared routes (connexion and similar): the spec names each route's handler.

Extract (per ``openapi*`` / ``swagger*`` YAML or JSON file): every operation's method, path,
``operationId``, ``x-openapi-router-controller`` and ``security`` (the operation's own, or
the document's when it has none), and the base path (Swagger 2 ``basePath``, or the path of
the first OpenAPI 3 server URL).
Link: maps each ``operationId`` to the Python function it names and judges auth from the
spec's security requirement together with the handler's own checks. A spec whose handlers
are not Python functions of this repository, and that no ``add_api`` serves, is documentation
of some other service: it yields no routes (so no route is invented).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import yaml

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import join_paths, normalize_brace
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, decide
from threatmodel.models import Location, Route

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _looks_like_spec(src: SourceFile) -> bool:
    name = src.path.rsplit("/", 1)[-1].lower()
    head = src.text[:400]
    return "openapi" in name or "swagger" in name or "openapi" in head or "swagger" in head


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    for i in range(start, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith((needle + ":", f'"{needle}"', f"'{needle}'")):
            return i + 1
    return start + 1 if start < len(lines) else 1


def _security(value: Any) -> list[list[Any]] | None:
    """[[scheme, scopes...], ...] from a security requirement list; None when absent."""
    if not isinstance(value, list):
        return None
    out = []
    for req in value:
        if isinstance(req, dict):
            for scheme, scopes in sorted(req.items()):
                out.append([str(scheme), *[str(s) for s in (scopes or [])]])
    return out


def extract(src: SourceFile) -> dict[str, Any] | None:
    if not _looks_like_spec(src):
        return None
    try:
        doc = yaml.load(src.text, Loader=_Loader)
    except yaml.YAMLError:
        src.parse_errors.append("OpenAPI document is not valid YAML/JSON")
        return None
    except RecursionError:  # PyYAML builds nested values recursively
        src.parse_errors.append("OpenAPI document nested too deeply to parse")
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        return None
    if "openapi" not in doc and "swagger" not in doc:
        return None
    base = str(doc.get("basePath") or "")
    servers = doc.get("servers")
    if not base and isinstance(servers, list) and servers and isinstance(servers[0], dict):
        base = urlparse(str(servers[0].get("url", ""))).path
    lines = src.lines
    ops: list[dict[str, Any]] = []
    default_sec = _security(doc.get("security"))
    for path, item in doc["paths"].items():
        if not isinstance(item, dict):
            continue
        pline = _line_of(lines, str(path))
        controller = item.get("x-openapi-router-controller")
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            mline = _line_of(lines, method, pline)
            own = _security(op.get("security"))
            sec = own if own is not None else default_sec
            sline = _line_of(lines, "security", mline) if own is not None else 0
            ops.append(
                {
                    "method": method.upper(),
                    "path": str(path),
                    "line": mline,
                    "operation": str(op.get("operationId") or ""),
                    "controller": str(op.get("x-openapi-router-controller") or controller or ""),
                    "security": sec,
                    "security_line": sline,
                    "security_text": lines[sline - 1].strip() if sline else "",
                }
            )
    return {"base": base, "ops": ops} if ops else None


def _served(resolver: Resolver) -> dict[str, str]:
    """Spec file names passed to connexion's ``add_api`` -> base_path."""
    out: dict[str, str] = {}
    for data in resolver.extracts.values():
        for spec, base in data.get("flask", {}).get("add_api", []):
            if spec:
                out[spec.rsplit("/", 1)[-1]] = base or ""
    return out


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    served = _served(resolver)
    for path, spec in sorted(extracts.items()):
        name = path.rsplit("/", 1)[-1]
        resolved = [_handler(op, resolver) for op in spec["ops"]]
        if name not in served and not any(f for f, _ in resolved):
            continue
        base = served.get(name) or spec["base"]
        framework = "connexion" if name in served else "openapi"
        for op, (file, symbol) in zip(spec["ops"], resolved, strict=True):
            gs: list[Guard] = []
            sec = op["security"]
            ev = (
                (
                    path,
                    op["security_line"] or op["line"],
                    op["security_text"] or op["method"].lower() + ":",
                ),
            )
            if sec:
                scoped = any(len(req) > 1 for req in sec)
                schemes = ", ".join(sorted({req[0] for req in sec}))
                gs.append(
                    Guard(
                        "restricted" if scoped else "authenticated",
                        f"OpenAPI security: {schemes}",
                        ev,
                    )
                )
            if file:
                gs += guards.handler_guards(file, symbol)
            full = normalize_brace(join_paths(base, op["path"]) if base else op["path"])
            handler = op["operation"] or f"{op['method']} {op['path']}"
            out.routes.append(
                Route(
                    id=f"{op['method']} {full}",
                    method=op["method"],
                    path=full,
                    framework=framework,
                    handler=handler,
                    location=Location(path=path, line=op["line"]),
                    auth=decide(gs),
                )
            )


def _handler(op: dict[str, Any], resolver: Resolver) -> tuple[str | None, str]:
    """(file, qualified function name) of the operationId, when it is in the repository."""
    dotted = op["operation"]
    if op["controller"] and dotted and "." not in dotted:
        dotted = f"{op['controller']}.{dotted}"
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        file = resolver.module_file(".".join(parts[:i]))
        if file and ".".join(parts[i:]) in resolver.extracts[file].get("functions", {}):
            return file, ".".join(parts[i:])
    return None, dotted
