"""On-disk cache of per-file extracts, keyed by path and content hash (SQLite, one file).

A re-scan parses only the files that changed. Lookups go by digest, a batch at a time, from
whichever process read the file (each extraction worker opens its own read-only
connection), so nothing loads the whole cache into memory or ships it between processes.
Entries are stored as the JSON text the pipeline passes around anyway, so a hit costs one
``json.loads`` in the process that links the facts.

Extracts never hold secret values (the collector interface forbids it), so the cache is as
safe to keep as the report.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

_DB_NAME = "facts.sqlite3"
_IN_CHUNK = 500  # digests per "IN (...)" query, well under SQLite's bound-parameter limit


class FactCache:
    """The read-write handle the scan's main process holds."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / _DB_NAME
        self._db = sqlite3.connect(self.path)
        # WAL: worker processes read while the main process writes new entries.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a lost cache entry is only a re-parse
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS extracts ("
            " signature TEXT NOT NULL, digest TEXT NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (signature, digest))"
        )
        self._pruned: set[str] = set()

    def lookup(self, signature: str, digests: Iterable[str]) -> dict[str, str]:
        """The stored JSON text of each digest that has an entry for this signature."""
        return _lookup(self._db, signature, digests)

    def put_many(self, signature: str, items: list[tuple[str, str]]) -> None:
        """Store (digest, JSON text) pairs; the first write of a run drops other signatures."""
        with self._db:
            if signature not in self._pruned:
                # Entries of another tool or collector version can never be hit again.
                self._db.execute("DELETE FROM extracts WHERE signature != ?", (signature,))
                self._pruned.add(signature)
            self._db.executemany(
                "INSERT OR REPLACE INTO extracts VALUES (?, ?, ?)",
                [(signature, digest, data) for digest, data in items],
            )

    def close(self) -> None:
        self._db.close()


class CacheReader:
    """A read-only handle for an extraction worker (opened in the worker, never inherited)."""

    def __init__(self, path: Path) -> None:
        self._db: sqlite3.Connection | None
        try:
            # Not ``mode=ro``: a read-only handle on a WAL database fails when it would have
            # to create the shared-memory file; query_only keeps this handle from writing.
            self._db = sqlite3.connect(path)
            self._db.execute("PRAGMA query_only=1")
        except sqlite3.Error:
            self._db = None  # unreadable: every file is a miss

    def lookup(self, signature: str, digests: Iterable[str]) -> dict[str, str]:
        if self._db is None:
            return {}
        try:
            return _lookup(self._db, signature, digests)
        except sqlite3.Error:
            return {}  # a cache that cannot be read only costs a re-parse

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def _lookup(db: sqlite3.Connection, signature: str, digests: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(digests))
    found: dict[str, str] = {}
    for i in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[i : i + _IN_CHUNK]
        rows = db.execute(
            "SELECT digest, data FROM extracts WHERE signature = ? AND digest IN"
            f" ({','.join('?' * len(chunk))})",
            (signature, *chunk),
        )
        found.update(rows)
    return found
