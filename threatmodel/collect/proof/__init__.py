"""Proof on a real PostgreSQL: what anon, user A and user B can really do to each table.

``prove(root, sql_files, options)`` starts a database (``server.py``: the embedded wheel, or
the user's own local ``--database-url``), gives every Supabase project its own scratch
database with Supabase's roles and ``auth``/``storage`` shimmed (``shim.py``), applies the
project's migrations in order, skipping and naming a statement that fails (``apply.py``),
writes a row owned by each of two synthetic users into every table and into every bucket
(``seed.py``), then tries select, insert, update and delete as each role, rolled back
(``probe.py``). ``attach.py`` puts the result on the table facts and lists where it
disagrees with the static reading of the migrations.

Nothing here may stop a scan: a database that cannot be started gives a ``ProofRun`` with
status ``unavailable`` and the reason, and the static reading stands.
"""

from __future__ import annotations

import re
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from threatmodel.collect.proof.apply import Cluster, apply_migrations
from threatmodel.collect.proof.probe import Check, probe
from threatmodel.collect.proof.read import disagreements
from threatmodel.collect.proof.seed import TableInfo, discover, message, seed, seed_objects
from threatmodel.collect.proof.server import Database, DatabaseUnavailable, embedded, from_url
from threatmodel.models import Facts, ProofCheck, ProofRun, TableProof

_CREATES = re.compile(r"\bcreate\b", re.I)


@dataclass(frozen=True)
class ProveOptions:
    enabled: bool = True
    database_url: str | None = None  # the user's own database; None: the embedded wheel
    allow_remote: bool = False  # --database-url may name a non-local host
    time_budget_s: float = 120.0  # projects left when it is spent are reported unproven


@dataclass
class ProvenProject:
    project: str
    tables: dict[str, TableProof] = field(default_factory=dict)


@dataclass
class ProofOutcome:
    run: ProofRun
    projects: dict[str, ProvenProject] = field(default_factory=dict)


def sql_projects(root: Path, files: list[str]) -> dict[str, list[str]]:
    """The repository's ``.sql`` files per Supabase project, each in migration order (the
    static collector's grouping: loose files are read for the tables they create)."""
    from threatmodel.collect._sql_projects import group_by_project, project_of
    from threatmodel.collect.sql import created, migration_order, read_ops

    sql = sorted((f for f in files if f.lower().endswith(".sql")), key=migration_order)
    present = frozenset(files)
    creates = {f: created(read_ops(_read(root, f))[0]) for f in sql if project_of(f, present) == ""}
    return group_by_project(sql, present, creates)


def _open(options: ProveOptions) -> AbstractContextManager[Database]:
    if options.database_url:
        return from_url(options.database_url, options.allow_remote)
    return embedded()


def prove(root: Path, projects: dict[str, list[str]], options: ProveOptions) -> ProofOutcome:
    """Prove every project's tables; ``projects`` maps a project to its SQL files, in order."""
    if not options.enabled:
        return ProofOutcome(ProofRun(status="off", message="proof turned off (--no-prove)"))
    if not projects:
        return ProofOutcome(ProofRun(status="nothing", message="no SQL migrations to prove"))
    started = time.monotonic()
    try:
        with _open(options) as db:
            outcome = _prove_on(db, root, projects, options, started)
    except DatabaseUnavailable as exc:
        return ProofOutcome(
            ProofRun(
                status="unavailable",
                message=f"could not start a database to prove on ({exc}); static reading only",
                duration_s=round(time.monotonic() - started, 3),
            )
        )
    outcome.run = outcome.run.model_copy(
        update={"duration_s": round(time.monotonic() - started, 3)}
    )
    return outcome


def _read(root: Path, path: str) -> str:
    try:
        return (root / path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _prove_on(
    db: Database,
    root: Path,
    projects: dict[str, list[str]],
    options: ProveOptions,
    started: float,
) -> ProofOutcome:
    import psycopg  # 0.3 s to import: only once there is a database to prove on

    cluster = Cluster(db)
    label = f"{cluster.version} ({'embedded' if db.label == 'embedded' else 'your database'})"
    outcome = ProofOutcome(ProofRun(status="proven", database=label))
    skipped: list[str] = []
    statements = 0
    notes: list[str] = []
    try:
        for index, (project, paths) in enumerate(sorted(projects.items())):
            if time.monotonic() - started > options.time_budget_s:
                notes.append(f"time budget spent: project {project or '.'} not proven")
                continue
            files = [(p, _read(root, p)) for p in paths]
            if not any(_CREATES.search(text) for _, text in files):
                continue  # an empty schema.sql, queries: no table to prove
            name = cluster.new_database(index)
            try:
                with cluster.connect(name) as conn:
                    applied = apply_migrations(conn, files)
                    statements += applied.statements
                    skipped += applied.skipped
                    outcome.projects[project] = _prove_project(conn, project, cluster.version)
            except DatabaseUnavailable:
                raise
            except psycopg.Error as exc:
                # one project's database failing to answer loses that project's proof, not
                # the scan: its tables keep their static reading
                notes.append(f"project {project or '.'} not proven: {message(exc)}")
    finally:
        cluster.close()
    outcome.run = outcome.run.model_copy(
        update={"statements": statements, "skipped": skipped, "message": "; ".join(notes)}
    )
    return outcome


def _prove_project(conn: Any, project: str, version: str) -> ProvenProject:
    """What each role reaches in every table of one project's migrated database."""
    tables = discover(conn)
    buckets = [r[0] for r in conn.execute("SELECT id FROM storage.buckets ORDER BY 1")]
    seed(conn, tables)
    proven = ProvenProject(project)
    for table in tables.values():
        proven.tables[table.name] = _table_proof(conn, table, tables, buckets, version)
    return proven


def _table_proof(
    conn: Any, table: TableInfo, tables: dict[str, TableInfo], buckets: list[str], version: str
) -> TableProof:
    checks: list[Check] = []
    seeded = 0
    if table.name == "storage.objects":
        for bucket in buckets:
            rows = seed_objects(conn, bucket)
            seeded += sum(1 for r in rows if r)
            checks += probe(conn, table, tables, rows, bucket)
    elif table.error is None:
        seeded = sum(1 for r in table.rows if r)
        checks = probe(conn, table, tables, table.rows)
    return TableProof(
        database=version,
        seeded=seeded,
        owner_columns=table.owner_columns,
        user_rows=table.user_rows,
        checks=[ProofCheck(**asdict(c)) for c in checks],
        note=table.error,
    )


def attach(facts: Facts, outcome: ProofOutcome) -> tuple[Facts, ProofRun]:
    """Facts whose SQL tables carry their proof, and the run with every disagreement listed."""
    run = outcome.run
    if not outcome.projects:
        return facts, run
    tables = []
    found: list[str] = []
    for table in facts.tables:
        # A table with no project is from the repository's only schema-bearing project.
        keys = [table.project] if table.project is not None else sorted(outcome.projects)
        proofs = [
            outcome.projects[k].tables[table.name]
            for k in keys
            if k in outcome.projects and table.name in outcome.projects[k].tables
        ]
        proof = proofs[0] if proofs and table.source == "sql" else None
        if proof is None:
            tables.append(table)
            continue
        table = table.model_copy(update={"proof": proof})
        found += disagreements(table, len(run.skipped))
        tables.append(table)
    return facts.model_copy(update={"tables": tables}), run.model_copy(
        update={"disagreements": found}
    )
