"""A JS/TS monorepo's workspace packages: which folder a bare import such as ``@acme/utils`` names.

pnpm, npm and yarn workspaces link each package of the repository under its
``package.json`` ``name``; TypeScript ``paths`` do the same for aliases. An import of
``@acme/utils`` or ``@acme/utils/src/constants`` therefore names a file of this repository,
and a guard or a constant defined there (the hostnames a middleware dispatches on) must be
followed like a relative import. ``RepoFiles`` carries that map next to the file list, so
every caller of ``jsast.resolve_module`` resolves workspace imports without a new argument.
The ``compilerOptions.paths`` of each ``tsconfig.json`` ride along the same way
(``"@server/*": ["./server/*"]``): an aliased import names a file of this repository too.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

# tsconfig folder -> [(alias pattern, [target patterns, repository-relative])]
Aliases = Mapping[str, list[tuple[str, list[str]]]]
_MAX_ALIASES = 200  # repository content is untrusted: a bound on what one config may add


class RepoFiles(frozenset[str]):
    """The repository's files, plus its workspace packages (name -> folder) and the
    TypeScript path aliases of its ``tsconfig.json`` files."""

    packages: Mapping[str, str]
    aliases: Aliases

    def __new__(
        cls, files: Iterable[str], packages: Mapping[str, str], aliases: Aliases | None = None
    ) -> RepoFiles:
        self = super().__new__(cls, files)
        self.packages = dict(packages)
        self.aliases = dict(aliases or {})
        return self


def repo_files(root: Path, files: Iterable[str]) -> RepoFiles:
    """The file list a linker resolves imports against: workspace packages and aliases."""
    listed = frozenset(files)
    return RepoFiles(listed, workspace_packages(root, listed), tsconfig_paths(root, listed))


def jsonc(text: str) -> object:
    """``tsconfig.json`` is JSON with comments and trailing commas."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", "".join(out)))


def tsconfig_paths(root: Path, files: Iterable[str]) -> dict[str, list[tuple[str, list[str]]]]:
    """Each ``tsconfig.json``'s ``compilerOptions.paths``, its targets made repository-relative.

    TypeScript resolves a ``paths`` target against ``baseUrl`` when one is set, else against
    the folder of the config that declares it; the config governs the files under its folder.
    """
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for path in sorted(files):
        if not re.fullmatch(r"tsconfig[\w.-]*\.json", posixpath.basename(path)):
            continue
        if "node_modules/" in path:
            continue
        try:
            data = jsonc((root / path).read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        opts = data.get("compilerOptions") if isinstance(data, dict) else None
        paths = opts.get("paths") if isinstance(opts, dict) else None
        if not isinstance(opts, dict) or not isinstance(paths, dict):
            continue
        folder = posixpath.dirname(path)
        given = opts.get("baseUrl")
        base = given if isinstance(given, str) else "."
        base_dir = posixpath.normpath(posixpath.join(folder, base))
        entries = out.setdefault(folder, [])
        for alias, targets in list(paths.items())[:_MAX_ALIASES]:
            if not isinstance(targets, list) or alias.count("*") > 1:
                continue
            made = [
                posixpath.normpath(posixpath.join(base_dir, t))
                for t in targets
                if isinstance(t, str) and t.count("*") <= 1 and "node_modules" not in t
            ]
            if made:
                entries.append((alias, [m.removeprefix("./") for m in made]))
    return out


def alias_candidates(from_path: str, spec: str, aliases: Aliases) -> list[str]:
    """Base paths an import may name through the path aliases of the configs above
    ``from_path``, nearest config first; a pattern's ``*`` carries the rest of the import."""
    out: list[str] = []
    folder = posixpath.dirname(from_path)
    while True:
        for alias, targets in aliases.get(folder, []):
            head, star, tail = alias.partition("*")
            if not star:
                rest = "" if spec == alias else None
            elif spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(alias) - 1:
                rest = spec[len(head) : len(spec) - len(tail)]
            else:
                rest = None
            if rest is not None:
                out.extend(t.replace("*", rest) for t in targets)
        if not folder:
            return out
        folder = posixpath.dirname(folder)


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
