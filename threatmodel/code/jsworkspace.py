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


# package name -> {subpath (``.``, ``./nest``) -> entry bases, repository-relative}
Entries = Mapping[str, Mapping[str, list[str]]]
# where a package's build goes (not in the repository; its sources are, under ``src/``)
_BUILD_DIRS = frozenset({"dist", "build", "lib", "out", "esm", "cjs"})


class RepoFiles(frozenset[str]):
    """The repository's files, plus its workspace packages (name -> folder, and the entry
    points their ``package.json`` declares) and the TypeScript path aliases of its
    ``tsconfig.json`` files."""

    packages: Mapping[str, str]
    aliases: Aliases
    entries: Entries

    def __new__(
        cls,
        files: Iterable[str],
        packages: Mapping[str, str],
        aliases: Aliases | None = None,
        entries: Entries | None = None,
    ) -> RepoFiles:
        self = super().__new__(cls, files)
        self.packages = dict(packages)
        self.aliases = dict(aliases or {})
        self.entries = dict(entries or {})
        return self


def repo_files(root: Path, files: Iterable[str]) -> RepoFiles:
    """The file list a linker resolves imports against: workspace packages and aliases
    (read afresh each time: novu's 5k files and 39 packages take a tenth of a second)."""
    listed = frozenset(files)
    found: dict[str, dict[str, list[str]]] = {}
    packages = workspace_packages(root, listed, found)
    return RepoFiles(listed, packages, tsconfig_paths(root, listed), found)


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
    A config inherits both through ``extends`` (a file, or a workspace package's), each
    relative to the config it was written in, its own overriding (``_options``).
    """
    listed = frozenset(files)
    packages = workspace_packages(root, listed)
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for path in sorted(listed):
        if not re.fullmatch(r"[tj]sconfig[\w.-]*\.json", posixpath.basename(path)):
            continue
        if "node_modules/" in path:
            continue
        base_dir, paths, origin = _options(root, path, listed, packages, 0)
        if paths is None:
            continue
        base_dir = base_dir if base_dir is not None else origin
        entries = out.setdefault(posixpath.dirname(path), [])
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


_MAX_EXTENDS = 5  # a chain of configs is short; a cycle must end


def _options(
    root: Path, path: str, files: frozenset[str], packages: Mapping[str, str], depth: int
) -> tuple[str | None, dict[str, object] | None, str]:
    """A config's effective ``baseUrl`` (repository-relative), ``paths`` and the folder of
    the config that declared those ``paths``, following ``extends`` (first to last, later
    ones and the config's own options overriding)."""
    try:
        data = jsonc((root / path).read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None, None, ""
    if not isinstance(data, dict):
        return None, None, ""
    base_dir: str | None = None
    paths: dict[str, object] | None = None
    origin = ""
    parents = data.get("extends")
    for parent in (parents if isinstance(parents, list) else [parents])[:_MAX_EXTENDS]:
        found = _extended(path, parent, files, packages) if isinstance(parent, str) else None
        if found is not None and depth < _MAX_EXTENDS:
            got_base, got_paths, got_origin = _options(root, found, files, packages, depth + 1)
            base_dir = got_base if got_base is not None else base_dir
            if got_paths is not None:
                paths, origin = got_paths, got_origin
    opts = data.get("compilerOptions")
    if isinstance(opts, dict):
        folder = posixpath.dirname(path)
        if isinstance(opts.get("baseUrl"), str):
            base_dir = posixpath.normpath(posixpath.join(folder, opts["baseUrl"]))
        if isinstance(opts.get("paths"), dict):
            paths, origin = opts["paths"], folder
    return base_dir, paths, origin


def _extended(
    path: str, spec: str, files: frozenset[str], packages: Mapping[str, str]
) -> str | None:
    """The repository file an ``extends`` names: a path relative to the config, or a
    workspace package's file (``@acme/tsconfig/base.json``); ``.json`` may be left out. A
    package from the registry (``@tsconfig/node20``) is not in the repository: None."""
    if spec.startswith("."):
        bases = [posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))]
    else:
        parts = spec.split("/")
        n = 2 if spec.startswith("@") else 1
        folder = packages.get("/".join(parts[:n]))
        rest = "/".join(parts[n:]) or "tsconfig.json"
        bases = [f"{folder}/{rest}"] if folder is not None else []
    for base in bases:
        for cand in (base, f"{base}.json", f"{base}/tsconfig.json"):
            if cand in files and cand != path:
                return cand
    return None


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


def workspace_packages(
    root: Path, files: Iterable[str], entries: dict[str, dict[str, list[str]]] | None = None
) -> dict[str, str]:
    """``name`` -> folder of every ``package.json`` in the repository (not the root's own);
    each package's entry points go to ``entries`` when given (``package_entries``)."""
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
            if entries is not None:
                entries[name] = package_entries(data, out[name])
    return out


def package_entries(data: dict[str, object], folder: str) -> dict[str, list[str]]:
    """What a package's ``exports`` (its ``.`` and subpaths, through conditions such as
    ``types`` / ``import`` / ``default``), ``types``, ``module`` and ``main`` point at, as
    bases under ``folder``. A build output (``dist/index.js``) is not in the repository: its
    source twin under ``src/`` (``src/index``) is named after it, as Nx and tsconfig
    ``paths`` map a workspace package to its sources."""
    out: dict[str, list[str]] = {}
    exports = data.get("exports")
    if isinstance(exports, (str, list)) or (
        isinstance(exports, dict) and not any(k.startswith(".") for k in exports)
    ):
        exports = {".": exports}
    if isinstance(exports, dict):
        for sub, target in list(exports.items())[:_MAX_ALIASES]:
            if isinstance(sub, str) and sub.startswith(".") and "*" not in sub:
                out[sub] = [b for t in _targets(target) for b in _entry_bases(folder, t)]
    top = [data.get(k) for k in ("types", "typings", "module", "main")]
    main = [b for t in top if isinstance(t, str) for b in _entry_bases(folder, t)]
    out["."] = [*out.get(".", []), *main]
    return out


def _targets(target: object, depth: int = 0) -> list[str]:
    """The paths an ``exports`` value names, its conditions in the order written."""
    if isinstance(target, str):
        return [target]
    if depth > 3:
        return []
    if isinstance(target, list):
        return [t for x in target for t in _targets(x, depth + 1)]
    if isinstance(target, dict):
        return [t for x in target.values() for t in _targets(x, depth + 1)]
    return []


def _entry_bases(folder: str, target: str) -> list[str]:
    """``./dist/esm/index.js`` -> the file itself, then ``src/index`` (``.js`` / ``.d.ts``
    off: the resolver tries the source suffixes)."""
    rel = posixpath.normpath(target.removeprefix("./"))
    if rel.startswith(("..", "/")) or "node_modules" in rel:
        return []
    out = [f"{folder}/{rel}" if folder else rel]
    stem = re.sub(r"(\.d)?\.[cm]?[jt]sx?$", "", rel)
    parts = stem.split("/")
    while len(parts) > 1 and parts[0] in _BUILD_DIRS:
        parts = parts[1:]  # dist/esm/index -> index
    if parts != stem.split("/"):
        out.append(posixpath.join(folder, "src", *parts))
    return out


def package_candidates(
    spec: str, packages: Mapping[str, str], entries: Entries | None = None
) -> list[str]:
    """Base paths (without suffix) a workspace import may name, most likely first.

    The entry its ``package.json`` declares for the import (``.`` or a subpath of
    ``exports``, ``package_entries``); then ``@acme/utils`` -> the package's ``src/index``
    or ``index``; ``@acme/utils/src/x`` -> ``src/x``; ``@acme/utils/x`` -> ``x`` or
    ``src/x`` (a built ``dist`` is not in the repository, its sources are)."""
    parts = spec.split("/")
    n = 2 if spec.startswith("@") else 1
    name = "/".join(parts[:n])
    folder = packages.get(name)
    if folder is None:
        return []
    rest = "/".join(parts[n:])
    declared = list((entries or {}).get(name, {}).get(f"./{rest}" if rest else ".", []))
    if not rest:
        return [*declared, f"{folder}/src/index", f"{folder}/index", f"{folder}/src"]
    return [*declared, f"{folder}/{rest}", f"{folder}/src/{rest}"]
