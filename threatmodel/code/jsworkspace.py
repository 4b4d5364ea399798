"""A JS/TS monorepo's workspace packages: which folder a bare import such as ``@acme/utils`` names.

pnpm, npm and yarn workspaces link each package of the repository under its
``package.json`` ``name``; TypeScript ``paths`` do the same for aliases. An import of
``@acme/utils`` or ``@acme/utils/src/constants`` therefore names a file of this repository,
and a guard or a constant defined there (the hostnames a middleware dispatches on) must be
followed like a relative import. ``RepoFiles`` carries that map next to the file list, so
every caller of ``jsast.resolve_module`` resolves workspace imports without a new argument.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path


class RepoFiles(frozenset[str]):
    """The repository's files, plus its workspace packages (name -> folder)."""

    packages: Mapping[str, str]

    def __new__(cls, files: Iterable[str], packages: Mapping[str, str]) -> RepoFiles:
        self = super().__new__(cls, files)
        self.packages = dict(packages)
        return self


def workspace_packages(root: Path, files: Iterable[str]) -> dict[str, str]:
    """``name`` -> folder of every ``package.json`` in the repository (not the root's own)."""
    out: dict[str, str] = {}
    for path in sorted(files):
        if posixpath.basename(path) != "package.json" or "/" not in path:
            continue
        if "node_modules/" in path:
            continue
        try:
            data = json.loads((root / path).read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str) and name and name not in out:
            out[name] = posixpath.dirname(path)
    return out


def package_candidates(spec: str, packages: Mapping[str, str]) -> list[str]:
    """Base paths (without suffix) a workspace import may name, most likely first.

    ``@acme/utils`` -> the package's ``src/index`` or ``index``; ``@acme/utils/src/x`` ->
    ``src/x``; ``@acme/utils/x`` -> ``x`` or ``src/x`` (a built ``dist`` is not in the
    repository, its sources are)."""
    parts = spec.split("/")
    n = 2 if spec.startswith("@") else 1
    folder = packages.get("/".join(parts[:n]))
    if folder is None:
        return []
    rest = "/".join(parts[n:])
    if not rest:
        return [f"{folder}/src/index", f"{folder}/index", f"{folder}/src"]
    return [f"{folder}/{rest}", f"{folder}/src/{rest}"]
