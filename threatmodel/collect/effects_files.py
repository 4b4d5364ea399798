"""The repository's code files as the effects reader looks them up: listed, parsed and their
functions listed once per repository (which file a module is: ``RepoReader.python_modules``).

``effects`` asks for the same things again for every route's handler and for every import of
every function it reads, so every answer here is kept for the life of the process, keyed by
the repository's root.
"""

from __future__ import annotations

import ast

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader

Fn = ast.FunctionDef | ast.AsyncFunctionDef

_FILES: dict[str, list[str]] = {}
_TREES: dict[tuple[str, str], ast.Module | None] = {}
_FUNCTIONS: dict[tuple[str, str], list[tuple[int, Fn]]] = {}


def code_files(reader: RepoReader) -> list[str]:
    """Python and JS/TS files of the repository in walk order (module resolution), and the
    ``package.json`` / ``tsconfig*.json`` files that name workspace packages and path aliases
    (``code.jsworkspace``)."""
    key = str(reader.root)
    if key not in _FILES:
        _FILES[key] = [
            f
            for f in reader.files
            if f.endswith((".py", ".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs"))
            or _config(f.rsplit("/", 1)[-1])
        ]
    return _FILES[key]


def _config(name: str) -> bool:
    return name == "package.json" or (
        name.startswith(("tsconfig", "jsconfig")) and name.endswith(".json")
    )


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
