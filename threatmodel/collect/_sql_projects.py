"""Which Supabase project a SQL file belongs to: each project is its own database.

A project is the nearest folder above the file that holds a ``config.toml`` (a ``supabase/``
folder made by ``supabase init``), or the folder holding the ``migrations/`` folder the file
is in. Files under neither belong to the repository-wide project ``""``. Tables of different
projects never merge: the same ``profiles`` in two apps of a monorepo are two tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath


def project_of(path: str, files: frozenset[str]) -> str:
    """The project folder of ``path`` (repository-relative, POSIX), or ``""``."""
    parts = PurePosixPath(path).parts[:-1]
    for depth in range(len(parts), 0, -1):
        folder = "/".join(parts[:depth])
        if f"{folder}/config.toml" in files:
            return folder
        if parts[depth - 1] == "migrations":
            return "/".join(parts[: depth - 1])
    return ""


def group_by_project(paths: Iterable[str], files: frozenset[str]) -> dict[str, list[str]]:
    """Paths per project, in the order given."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(project_of(path, files), []).append(path)
    return groups
