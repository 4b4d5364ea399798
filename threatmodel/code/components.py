"""The apps of a monorepo: each app root is its own component.

An app root is a folder with its own ``package.json`` that depends on a web framework (in
``dependencies``: a package listing one as a peer or dev dependency is a library), a
``manage.py``, a ``pyproject.toml``, or a ``supabase/`` folder. Every route belongs to the
deepest app root above its file (``Route.component``, '' for the repository root), so two
apps that both serve ``GET /api/health`` stay two routes with ids that say which app each
is (``GET /api/health`` and ``GET /api/health (apps/web)``), never one merged row.
``uses_package`` says which packages list a framework: a file is that framework's only
when its own package does (Next.js ``pages/`` beside a create-react-app's ``src/pages``).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from pathlib import Path

from threatmodel.models import Route

# Packages whose presence in a package.json makes its folder a server app.
_JS_FRAMEWORKS = frozenset(
    {
        "next",
        "express",
        "koa",
        "fastify",
        "hono",
        "@nestjs/core",
        "@hapi/hapi",
        "@remix-run/node",
        "@sveltejs/kit",
        "nuxt",
        "@apollo/server",
        "apollo-server",
        "apollo-server-express",
        "graphql-yoga",
    }
)
_PY_MARKERS = frozenset({"manage.py", "pyproject.toml"})


def app_roots(root: Path, files: Iterable[str]) -> list[str]:
    """Folders (repo-relative, '' for the root) that are apps of their own."""
    out: set[str] = set()
    for path in files:
        if "node_modules/" in path:
            continue
        folder, name = posixpath.split(path)
        if name in _PY_MARKERS or (name == "package.json" and _is_server_app(root / path)):
            out.add(folder)
        elif f"/{path}".find("/supabase/") >= 0:
            out.add(f"/{path}".split("/supabase/")[0].lstrip("/"))
    return sorted(out)


def _is_server_app(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    deps: set[str] = set()
    # runtime dependencies only: a library lists its framework as a peer or dev dependency
    for section in ("dependencies",):
        table = data.get(section)
        if isinstance(table, dict):
            deps |= set(table)
    return bool(deps & _JS_FRAMEWORKS)


def uses_package(root: Path, files: Iterable[str], package: str) -> dict[str, bool]:
    """Each folder with its own ``package.json`` (not the root's): does it list ``package``
    (dependencies, devDependencies, peerDependencies) or hold its config file? A file whose
    deepest such folder does not is no part of that framework's app (a create-react-app's
    ``src/pages`` beside a Next.js app of the same monorepo)."""
    listed: dict[str, bool] = {}
    configs = set()
    for path in files:
        if "node_modules/" in path:
            continue
        folder, name = posixpath.split(path)
        if name == "package.json" and folder:
            listed[folder] = _depends(root / path, package)
        elif name.startswith(f"{package}.config"):
            configs.add(folder)
    return {f: yes or f in configs for f, yes in listed.items()}


def _depends(path: Path, package: str) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return True  # unread: not evidence against
    if not isinstance(data, dict):
        return True
    return any(
        isinstance(data.get(s), dict) and package in data[s]
        for s in ("dependencies", "devDependencies", "peerDependencies")
    )


def component_of(path: str, roots: list[str]) -> str:
    """The deepest app root above ``path`` ('' when none is)."""
    best = ""
    for r in roots:
        if r and path.startswith(r + "/") and len(r) > len(best):
            best = r
    return best


def with_components(routes: list[Route], roots: list[str]) -> list[Route]:
    """Each route with its component; unchanged when the repository is one app."""
    if not [r for r in roots if r]:
        return routes
    return [
        r.model_copy(update={"component": component_of(r.location.path, roots)}) for r in routes
    ]
