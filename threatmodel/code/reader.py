"""Read repository files by a path someone else named (an LLM, a SARIF file, a user).

The path is untrusted: an absolute path, a ``..`` segment, or a symlink that resolves out
of the repository is refused *before* anything is opened. Files are cached per reader.

A reader also knows which files the repository holds (the walk's list, so every reader of
imports agrees with the collectors on it) and which file each Python module name is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from threatmodel.code.pymodules import ModuleIndex
from threatmodel.code.walk import DEFAULT_MAX_FILE_BYTES, walk


class PathRefused(Exception):
    """The named path is not a readable file inside the repository; ``str()`` says why."""


class RepoReader:
    def __init__(
        self,
        root: Path,
        max_bytes: int = DEFAULT_MAX_FILE_BYTES * 5,
        files: Sequence[str] | None = None,
    ) -> None:
        """``files``: the repository's walked files when the caller has them (a scan does);
        otherwise the reader walks the repository the first time it is asked."""
        self.root = root.resolve()
        self._root = str(self.root)
        self._root_prefix = self._root.rstrip(os.sep) + os.sep
        self.max_bytes = max_bytes
        self._lines: dict[str, list[str]] = {}
        self._files = list(files) if files is not None else None
        self._modules: ModuleIndex | None = None

    @property
    def files(self) -> list[str]:
        """The repository's files as the walk lists them (sorted, ignored and vendored ones
        left out)."""
        if self._files is None:
            self._files = walk(self.root).files
        return self._files

    @property
    def python_modules(self) -> ModuleIndex:
        """The repository's Python files by the module names they may be imported as."""
        if self._modules is None:
            self._modules = ModuleIndex(self.files)
        return self._modules

    def check(self, path: str) -> Path:
        """The absolute path for a repo-relative ``path``, or PathRefused (nothing is read)."""
        # String operations, not pathlib: rules and verifiers check thousands of paths.
        if not path or "\0" in path:
            raise PathRefused("empty or malformed path")
        posix = path.replace("\\", "/")
        if posix.startswith("/") or (len(path) > 1 and path[1] == ":"):
            raise PathRefused(f"{path} is an absolute path, outside the repository")
        parts = [p for p in posix.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise PathRefused(f"{path} climbs out of the repository with '..'")
        # Resolve symlinks (each component) and insist the target stays in the repository.
        try:
            resolved = os.path.realpath(os.path.join(self._root, *parts))
        except OSError as exc:
            raise PathRefused(f"{path}: {exc.strerror or exc}") from None
        if resolved != self._root and not resolved.startswith(self._root_prefix):
            raise PathRefused(f"{path} is a symlink that points outside the repository")
        try:
            is_file = os.path.isfile(resolved)  # a stat, never an open: FIFOs are refused
        except (OSError, ValueError) as exc:  # e.g. a name too long for the file system
            raise PathRefused(f"{path[:120]}: {exc}") from None
        if not is_file:
            raise PathRefused(f"{path} does not exist in the repository")
        return Path(resolved)

    def lines(self, path: str) -> list[str]:
        """The file's lines (UTF-8, replacement on bad bytes); PathRefused when not readable."""
        if path not in self._lines:  # keyed as named: another spelling is only read again
            target = self.check(path)
            try:
                if target.stat().st_size > self.max_bytes:
                    raise PathRefused(f"{path} is larger than {self.max_bytes} bytes")
                self._lines[path] = target.read_bytes().decode("utf-8", "replace").splitlines()
            except OSError as exc:
                raise PathRefused(f"{path}: {exc.strerror or exc}") from None
        return self._lines[path]

    def snippet(self, path: str, start: int, end: int | None = None) -> str:
        """Lines start..end (1-based, inclusive) joined, or "" when out of range or refused."""
        try:
            lines = self.lines(path)
        except PathRefused:
            return ""
        end = end or start
        if start < 1 or end > len(lines) or end < start:
            return ""
        return "\n".join(lines[start - 1 : end])
