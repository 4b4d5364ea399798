"""On-disk cache of per-file extracts, keyed by path and content hash (SQLite, one file).

A re-scan parses only the files that changed. Extracts never hold secret values (the
collector interface forbids it), so the cache is as safe to keep as the report.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


class FactCache:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "facts.sqlite3"
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS extracts ("
            " signature TEXT NOT NULL, digest TEXT NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (signature, digest))"
        )

    def get_many(self, signature: str) -> dict[str, Any]:
        """Every cached extract for this collector signature, by digest."""
        rows = self._db.execute(
            "SELECT digest, data FROM extracts WHERE signature = ?", (signature,)
        )
        return {digest: json.loads(data) for digest, data in rows}

    def put_many(self, signature: str, items: list[tuple[str, Any]]) -> None:
        with self._db:
            self._db.execute("DELETE FROM extracts WHERE signature != ?", (signature,))
            self._db.executemany(
                "INSERT OR REPLACE INTO extracts VALUES (?, ?, ?)",
                [(signature, d, json.dumps(v, separators=(",", ":"))) for d, v in items],
            )

    def close(self) -> None:
        self._db.close()
