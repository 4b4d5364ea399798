"""Set up one scratch database per Supabase project and apply its migrations in order.

Repository SQL is untrusted: it runs as the migration role (``postgres`` on the embedded
cluster, whose bootstrap superuser is ``tm_admin``, so ``OWNER TO postgres`` works as on
Supabase; ``tm_migrator`` on a database given by URL), a role that can log in but is not a
superuser (so ``COPY ... PROGRAM``, C functions, server file reads and ``ALTER SYSTEM`` are
refused), owns the scratch database and Supabase's schemas (so policies on
``storage.objects`` and triggers on ``auth.users`` work as they do on a project), and has a
statement timeout. Each statement runs alone (autocommit): one that fails (a missing
extension, a Supabase-only object) is named with its file and line and skipped, and the rest
still counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from pglast import parser

from threatmodel.collect.proof.seed import message
from threatmodel.collect.proof.server import Database, DatabaseUnavailable, connect
from threatmodel.collect.proof.shim import ROLES_SQL, SCHEMA_SQL, database_sql
from threatmodel.collect.sql import COPY_IN, sql_only, statement_line

TEMPLATE = "tm_supabase_shim"
COPY_IN_SKIPPED = "COPY FROM STDIN: its rows are psql input, not loaded"


@dataclass
class Applied:
    """What applying one project's migrations did."""

    statements: int = 0
    skipped: list[str] = field(default_factory=list)  # "path:line: reason"


class Cluster:
    """The admin connection: creates the roles, the shim template and a database per project."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.migrator = db.migrator
        self.admin = connect(db.conninfo, connect_timeout=10)
        row = self.admin.execute("SHOW server_version").fetchone()
        self.version = f"PostgreSQL {str(row[0]).split()[0]}" if row else "PostgreSQL"
        self._password = secrets.token_hex(16)
        self.created: list[str] = []
        self._setup()

    def _setup(self) -> None:
        a = self.admin
        if a.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.migrator,)).fetchone():
            a.execute(f"ALTER ROLE {self.migrator} LOGIN NOSUPERUSER PASSWORD '{self._password}'")
        else:
            a.execute(f"CREATE ROLE {self.migrator} LOGIN NOSUPERUSER PASSWORD '{self._password}'")
        a.execute(ROLES_SQL)
        a.execute(f"GRANT anon, authenticated, service_role TO {self.migrator}")
        a.execute(f"ALTER ROLE {self.migrator} SET statement_timeout = '10s'")
        # Seeding writes rows without firing the project's triggers or FK checks.
        a.execute(f"GRANT SET ON PARAMETER session_replication_role TO {self.migrator}")
        a.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        a.execute(f"CREATE DATABASE {TEMPLATE} OWNER {self.migrator}")
        self.created.append(TEMPLATE)
        with self.connect(TEMPLATE) as conn:
            conn.execute(SCHEMA_SQL)

    def connect(self, dbname: str) -> Any:
        """A connection as the unprivileged migration role."""
        try:
            return connect(
                self.db.conninfo, dbname=dbname, user=self.migrator, password=self._password
            )
        except DatabaseUnavailable as exc:
            raise DatabaseUnavailable(f"could not log in as the migration role: {exc}") from exc

    def new_database(self, index: int) -> str:
        name = f"tm_project_{index}"
        self.admin.execute(f"DROP DATABASE IF EXISTS {name}")
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {self.migrator}")
        self.admin.execute(database_sql(name))
        self.created.append(name)
        return name

    def close(self) -> None:
        """Drop every scratch database and the migration role (matters with --database-url)."""
        for name in reversed(self.created):
            try:
                self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception:  # best effort: an embedded cluster is deleted anyway
                continue
        try:
            self.admin.execute(f"DROP OWNED BY {self.migrator}")
            self.admin.execute(f"DROP ROLE IF EXISTS {self.migrator}")
        except Exception:  # best effort, as above
            pass
        self.admin.close()


def statements(text: str) -> list[tuple[int, str]]:
    """(line, SQL) of each statement of a migration, what psql reads that is no SQL blanked
    (``sql_only``)."""
    text = sql_only(text)
    try:
        parts = parser.split(text, with_parser=False, only_slices=True)
    except parser.ParseError:
        return [(1, text)] if text.strip() else []
    return [(statement_line(text, part.start), text[part]) for part in parts]


def apply_migrations(conn: Any, files: list[tuple[str, str]]) -> Applied:
    """Run every statement of every file, in the given order, skipping the ones that fail."""
    applied = Applied()
    for path, text in files:
        for line, sql in statements(text):
            if COPY_IN.match(sql):
                # run alone, it would leave the connection waiting for rows that never come
                applied.skipped.append(f"{path}:{line}: {COPY_IN_SKIPPED}")
                continue
            try:
                conn.execute(sql)
                applied.statements += 1
            except Exception as exc:  # any failure is named and skipped
                applied.skipped.append(f"{path}:{line}: {message(exc)}")
                if conn.closed:
                    raise DatabaseUnavailable("the database closed the connection") from exc
    return applied
