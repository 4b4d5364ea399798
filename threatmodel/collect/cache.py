"""On-disk cache of per-file extracts, keyed by path and content hash (SQLite, one file).

A re-scan parses only the files that changed. The scan's main process looks digests up a
batch at a time as it reads the files, and hands only the misses to extraction workers, so
nothing loads the whole cache into memory or ships it between processes. Entries are stored
as the text the pipeline passes around anyway (``_run._payload``). A cache that cannot be
opened or read is only a miss: the scan parses every file instead.

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
        self._pruned: set[str] = set()
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            self._db.execute("PRAGMA synchronous=NORMAL")  # a lost entry is only a re-parse
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS extracts ("
                " signature TEXT NOT NULL, digest TEXT NOT NULL, data TEXT NOT NULL,"
                " PRIMARY KEY (signature, digest))"
            )
        except sqlite3.Error:  # not a database (or locked, read-only): scan without it
            self._db.close()
            self._db = None

    def lookup(self, signature: str, digests: Iterable[str]) -> dict[str, str]:
        """The stored text of each digest that has an entry for this signature."""
        if self._db is None:
            return {}
        try:
            return _lookup(self._db, signature, digests)
        except sqlite3.Error:
            return {}

    def holds(self, signature: str) -> bool:
        """Whether any entry was stored for this signature (a cold cache has none: looking
        each file up in it would only cost the read and the hash)."""
        if self._db is None:
            return False
        try:
            row = self._db.execute(
                "SELECT 1 FROM extracts WHERE signature = ? LIMIT 1", (signature,)
            ).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    def put_many(self, signature: str, items: list[tuple[str, str]]) -> None:
        """Store (digest, text) pairs; the first write of a run drops other signatures."""
        if self._db is None:
            return
        try:
            with self._db:
                if signature not in self._pruned:
                    # Entries of another tool or collector version can never be hit again.
                    self._db.execute("DELETE FROM extracts WHERE signature != ?", (signature,))
                    self._pruned.add(signature)
                self._db.executemany(
                    "INSERT OR REPLACE INTO extracts VALUES (?, ?, ?)",
                    [(signature, digest, data) for digest, data in items],
                )
        except sqlite3.Error:
            pass  # a cache that cannot be written costs the next scan a re-parse, no more

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
