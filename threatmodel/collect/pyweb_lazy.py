"""pyweb's guard summaries, computed when link reads one (issues 16 and 17).

Extract keeps every function it would summarise, but as a stub: where the function is in
its file and a checksum of its lines. Link reads the summaries of the functions a route,
a decorator or a dependency names, and of what those call: on saleor 724 of 18,282, in
364 of 3,193 files (``benchmarks/lazy.py``). ``LazyFunctions`` answers such a read by
parsing that function's lines again (alone, at their own line numbers; the whole file when
they do not parse alone) and summarising it exactly as extract used to
(``summarize_with_text``: its cited lines are masked there, so no secret is held or cached
either way).

A summary depends on its function's own lines only, so a stub is as cacheable as the
summary was. The file is read again at link from the scanned root; if its lines there no
longer match the checksum (the file changed during the scan), the function has no summary
rather than another version's.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from threatmodel.code.pyparse import parse_lines
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.guards import summarize_with_text
from threatmodel.frameworks._python.stubs import LAZY, crc
from threatmodel.frameworks._python.walked import Walked

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef


class _File:
    """One file as link reads it again: its lines, and the whole tree if a function's
    lines do not parse alone."""

    def __init__(self, root: Path, path: str) -> None:
        self.path = path
        try:
            self.src: SourceFile | None = SourceFile.from_bytes(path, (root / path).read_bytes())
        except OSError:
            self.src = None
        self.lines = self.src.lines if self.src is not None else []
        self.masked: dict[str, str] = {}  # summarize_with_text's per-file memo

    def function(self, qual: str, first: int, last: int, line: int) -> FuncDef | None:
        name = qual.rsplit(".", 1)[-1]
        got = _find(parse_lines(self.lines, first, last, self.path), name, line)
        if got is None and self.src is not None and self.src.python_ast is not None:
            body = self.src.python_ast.body
            got = _find(body, name, line) or _find(
                [m for c in body if isinstance(c, ast.ClassDef) for m in c.body], name, line
            )
        return got


def _find(body: list[ast.stmt], name: str, line: int) -> FuncDef | None:
    for node in body:
        if isinstance(node, FuncDef) and node.name == name and node.lineno == line:
            return node
    return None


class LazyFunctions(dict[str, Any]):
    """A file's ``functions`` whose stubs become summaries when read (``[]``, ``get``)."""

    def __init__(self, data: dict[str, Any], root: Path, path: str) -> None:
        super().__init__(data)
        self.root, self.path = root, path
        self._file: _File | None = None

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, dict) and LAZY in value:
            value = self._summary(key, *value[LAZY])
            super().__setitem__(key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (dict.get skips __getitem__)

    def _summary(self, qual: str, first: int, last: int, line: int, checksum: int) -> Any:
        if self._file is None:
            self._file = _File(self.root, self.path)
        f = self._file
        if len(f.lines) < last or crc(f.lines, first, last) != checksum:
            return None  # not the lines extract read
        fn = f.function(qual, first, last, line)
        if fn is None:
            return None
        return summarize_with_text(fn, f.lines, Walked(fn), None, f.masked)


def sources(root: Path) -> Callable[[str], SourceFile | None]:
    """Files read again at link by path (each once): what a built dependency makes is read
    from its factory's and class's own code (frameworks/_python/made.py)."""

    @lru_cache(maxsize=64)
    def read(path: str) -> SourceFile | None:
        try:
            return SourceFile.from_bytes(path, (root / path).read_bytes())
        except OSError:
            return None

    return read


def lazy(extracts: dict[str, Any], root: Path) -> None:
    """Every file's ``functions`` made lazy, in place, before link reads any."""
    for path, data in extracts.items():
        fns = data.get("functions")
        if fns and any(isinstance(v, dict) and LAZY in v for v in fns.values()):
            data["functions"] = LazyFunctions(fns, root, path)
