"""Labelled claim sets: the verifiers refute hallucinations and keep true findings.

Each ``tests/fixtures/claims/<app>.json`` holds findings about the fixture app
``tests/fixtures/verify/<app>/`` with a ``label``: "true" for a real flaw, "false" for a
plausible hallucination (invented file, line past the end, fabricated quote, missing route,
"no auth" on a guarded route, "SQL injection" on a parameterised query, "RLS disabled" on a
protected table ...). The bar: at least 95% of false claims refuted, at most 5% of true
claims refuted, and every refutation reason names a fact that is really in the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from threatmodel.cli.verify import verify_loaded
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.config import resolve_settings
from threatmodel.models import Facts, Finding, Report, Verdict
from threatmodel.scan import ScanOptions, collect_repo_facts
from threatmodel.verify.inputs import load_findings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APPS = sorted(p.stem for p in (FIXTURES / "claims").glob("*.json"))
_LOCATION = re.compile(r"([\w./-]+\.[A-Za-z]+):(\d+)")


def run_claims(app: str, tmp_path: Path) -> tuple[Report, dict[str, str]]:
    root = FIXTURES / "verify" / app
    text = (FIXTURES / "claims" / f"{app}.json").read_text()
    labels = {f["id"]: f["label"] for f in json.loads(text)["findings"]}
    settings = resolve_settings(root, cache_dir=tmp_path / "cache")
    repo = collect_repo_facts(root, settings, ScanOptions(use_cache=False))
    _, loaded = load_findings(text, root, repo.facts)
    return verify_loaded(loaded, repo.facts, root, repo.stages), labels


def names_real_fact(reason: str, root: Path, facts: Facts) -> bool:
    """A refutation reason must point at something real: a file line, a fact, a refused path."""
    if "refused" in reason or "climbs out" in reason or "absolute path" in reason:
        return True
    reader = RepoReader(root)
    for path, line in _LOCATION.findall(reason):
        try:
            if int(line) <= len(reader.lines(path)):
                return True
        except PathRefused:
            continue
    for path in re.findall(r"[\w./-]+\.[A-Za-z]+", reason):
        try:
            reader.lines(path)
            return True
        except PathRefused:
            continue
    known = [r.id for r in facts.routes] + [t.name for t in facts.tables]
    known += [b.name for b in facts.buckets]
    return any(k in reason for k in known)


def verdicts(report: Report) -> dict[str, Finding]:
    return {f.id: f for f in [*report.findings, *report.suppressed]}


@pytest.mark.parametrize("app", APPS)
def test_labelled_claims_meet_the_bar(app: str, tmp_path: Path) -> None:
    report, labels = run_claims(app, tmp_path)
    got = verdicts(report)
    assert set(got) == set(labels), "every input finding keeps its id and lands somewhere"
    false_ids = [i for i, label in labels.items() if label == "false"]
    true_ids = [i for i, label in labels.items() if label == "true"]
    missed = [i for i in false_ids if got[i].verdict is not Verdict.REFUTED]
    wrongly = [i for i in true_ids if got[i].verdict is Verdict.REFUTED]
    assert len(missed) <= 0.05 * len(false_ids), {i: got[i].reason for i in missed}
    assert len(wrongly) <= 0.05 * len(true_ids), {i: got[i].reason for i in wrongly}
    root = FIXTURES / "verify" / app
    for f in report.suppressed:
        assert f.reason and names_real_fact(f.reason, root, report.facts), (f.id, f.reason)


@pytest.mark.parametrize("app", APPS)
def test_true_claims_are_mostly_confirmed_not_just_unrefuted(app: str, tmp_path: Path) -> None:
    report, labels = run_claims(app, tmp_path)
    got = verdicts(report)
    true_ids = [i for i, label in labels.items() if label == "true"]
    confirmed = [i for i in true_ids if got[i].verdict is Verdict.CONFIRMED]
    assert len(confirmed) >= 0.8 * len(true_ids), {
        i: (got[i].verdict.value, got[i].reason) for i in true_ids if i not in confirmed
    }
