"""Loose SQL files that each create the same table are alternative schemas, judged apart;
loose files that build one schema step by step stay one database."""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect.proof import ProveOptions, sql_projects
from threatmodel.config import Settings
from threatmodel.models import Report
from threatmodel.scan import ScanOptions, run_scan

DATA = Path(__file__).parent / "fixtures" / "data"


def _scan(root: Path, tmp_path: Path) -> Report:
    settings = Settings(provider=None, cache_dir=tmp_path / "cache")
    return run_scan(root, settings, ScanOptions(use_cache=False, prove=ProveOptions(False)))


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_each_alternative_schema_is_judged_on_its_own(tmp_path: Path) -> None:
    report = _scan(DATA / "sql_alternatives", tmp_path)
    notes = sorted(
        (t.project, t.rls_enabled, len(t.policies))
        for t in report.facts.tables
        if t.name == "notes"
    )
    assert notes == [
        ("scripts/lab-closed.sql", True, 1),
        ("scripts/lab-open.sql", False, 0),
        ("setup.sql", False, 0),
    ]
    off = sorted(f.evidence[0].path for f in report.findings if f.rule_id == "TM103")
    assert off == ["scripts/lab-open.sql", "setup.sql"]


def test_the_proof_groups_files_as_the_collector_does() -> None:
    root = DATA / "sql_alternatives"
    assert sql_projects(root, _files(root)) == {
        "scripts/lab-closed.sql": ["scripts/lab-closed.sql"],
        "scripts/lab-open.sql": ["scripts/lab-open.sql"],
        "setup.sql": ["setup.sql"],
    }
    steps = DATA / "sql_steps"
    assert sql_projects(steps, _files(steps)) == {
        "": ["db/01_tables.sql", "db/02_policies.sql", "db/03_seed.sql"]
    }


def test_loose_steps_of_one_schema_stay_one_database(tmp_path: Path) -> None:
    report = _scan(DATA / "sql_steps", tmp_path)
    [notes] = [t for t in report.facts.tables if t.name == "notes"]
    assert (notes.project, notes.rls_enabled, len(notes.policies)) == (None, True, 1)
    assert not [f for f in report.findings if f.rule_id == "TM103"]
