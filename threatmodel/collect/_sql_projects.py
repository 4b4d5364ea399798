"""Which Supabase project a SQL file belongs to: each project is its own database.

A project is the nearest folder above the file that holds a ``config.toml`` (a ``supabase/``
folder made by ``supabase init``), or the folder holding the ``migrations/`` folder the file
is in. Files under neither belong to the repository-wide project ``""``. Tables of different
projects never merge: the same ``profiles`` in two apps of a monorepo are two tables.

The loose files of project ``""`` have no migration tool ordering them. When two of them
create the same table outright (``CREATE TABLE`` without ``IF NOT EXISTS``) they are
alternative schemas (a lab's insecure and secure setups, an old and a new ``schema.sql``),
not steps: run in a row, the second ``CREATE TABLE`` fails or drops the first's table. Each
loose file is then its own database, named by its path, so one file's policies never decide
another file's tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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


def group_by_project(
    paths: Iterable[str], files: frozenset[str], creates: Mapping[str, Collection[str]]
) -> dict[str, list[str]]:
    """Paths per project, in the order given; ``creates`` names the tables each file creates."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(project_of(path, files), []).append(path)
    loose = groups.get("", [])
    if _alternatives(loose, creates):
        del groups[""]
        groups.update((path, [path]) for path in loose)
    return groups


def _alternatives(paths: list[str], creates: Mapping[str, Collection[str]]) -> bool:
    """Whether two of the files create the same table."""
    seen: set[str] = set()
    for path in paths:
        tables = set(creates.get(path, ()))
        if tables & seen:
            return True
        seen |= tables
    return False
