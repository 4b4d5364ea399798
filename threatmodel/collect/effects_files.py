"""The repository's code files as the effects reader looks them up: listed, found by module,
parsed and their functions listed once per repository.

``effects`` asks for the same things again for every route's handler and for every import of
every function it reads (631 module look-ups on saleor), so every answer here is kept for the
life of the process, keyed by the repository's root.
"""

from __future__ import annotations

import ast
import os

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.collect.effects_catalog import SKIP_DIRS

Fn = ast.FunctionDef | ast.AsyncFunctionDef

_FILES: dict[str, list[str]] = {}
_NAMES: dict[str, dict[str, list[tuple[int, str]]]] = {}
_MODULES: dict[tuple[str, str], list[str]] = {}
_TREES: dict[tuple[str, str], ast.Module | None] = {}
_FUNCTIONS: dict[tuple[str, str], list[tuple[int, Fn]]] = {}


def code_files(reader: RepoReader) -> list[str]:
    """Python and JS/TS files of the repository in walk order (module resolution), and the
    ``package.json`` / ``tsconfig*.json`` files that name workspace packages and path aliases
    (``code.jsworkspace``)."""
    key = str(reader.root)
    if key not in _FILES:
        out: list[str] = []
        for dirpath, dirs, files in os.walk(reader.root):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            rel = os.path.relpath(dirpath, reader.root).replace(os.sep, "/")
            for f in files:
                if f.endswith((".py", ".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs")) or _config(f):
                    out.append(f if rel == "." else f"{rel}/{f}")
        _FILES[key] = out
    return _FILES[key]


def _config(name: str) -> bool:
    return name == "package.json" or (
        name.startswith(("tsconfig", "jsconfig")) and name.endswith(".json")
    )


def module_files(reader: RepoReader, module: str) -> list[str]:
    """Up to 3 files that may hold ``module`` (a path without ``.py``), in walk order: a
    suffix match, at a path boundary. A module with a directory part only looks at the
    files of its last name (what ends in ``a/b.py`` has the basename ``b.py``)."""
    key = (str(reader.root), module)
    if key not in _MODULES:
        wanted = (f"{module}.py", f"{module}/__init__.py")
        tail = module.rsplit("/", 1)[-1]
        files = (
            _by_name(reader).get(f"{tail}.py", []) + _by_name(reader).get(f"{tail}/", [])
            if "/" in module
            else list(enumerate(code_files(reader)))
        )
        _MODULES[key] = [
            f for _, f in sorted(files) if f.endswith(wanted) and (f in wanted or f"/{module}" in f)
        ][:3]
    return _MODULES[key]


def _by_name(reader: RepoReader) -> dict[str, list[tuple[int, str]]]:
    """(walk position, file) by basename, and ``__init__.py`` files by ``dirname/``."""
    key = str(reader.root)
    if key not in _NAMES:
        index: dict[str, list[tuple[int, str]]] = {}
        for i, f in enumerate(code_files(reader)):
            parts = f.rsplit("/", 2)
            name = f"{parts[-2]}/" if parts[-1] == "__init__.py" and len(parts) > 1 else parts[-1]
            index.setdefault(name, []).append((i, f))
        _NAMES[key] = index
    return _NAMES[key]


def parsed(reader: RepoReader, path: str) -> ast.Module | None:
    """One parse per file per repository; None when the file cannot be read or parsed."""
    key = (str(reader.root), path)
    if key not in _TREES:
        try:
            text = "\n".join(reader.lines(path))
        except PathRefused:
            _TREES[key] = None
        else:
            _TREES[key] = python_tree(text)  # the kernel's parse: any Python 3 grammar
    return _TREES[key]


def functions(reader: RepoReader, path: str) -> list[tuple[int, Fn]]:
    """Every function of a file, in ``ast.walk`` order, with the line its definition starts
    at (its first decorator's): listed once, not walked again for each of the file's routes."""
    key = (str(reader.root), path)
    if key not in _FUNCTIONS:
        tree = parsed(reader, path)
        _FUNCTIONS[key] = [
            (min([node.lineno, *(d.lineno for d in node.decorator_list)]), node)
            for node in (ast.walk(tree) if tree is not None else ())
            if isinstance(node, Fn)
        ]
    return _FUNCTIONS[key]
