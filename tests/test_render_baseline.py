"""Baseline: accepted findings by fingerprint, expiry, stale entries, the CLI around it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from render_sample import sample_report

from threatmodel.baseline import (
    BASELINE_PATH,
    Baseline,
    BaselineEntry,
    accepted_candidates,
    apply_baseline,
    extend_baseline,
    load_baseline,
)
from threatmodel.errors import InputFormatError
from threatmodel.models import Report
from threatmodel.redact import Redactor
from threatmodel.render import render

TODAY = date(2026, 11, 21)


def unaccepted() -> Report:
    r = sample_report()
    return r.model_copy(
        update={
            "findings": [
                f.model_copy(update={"accepted": False, "acceptance": None}) for f in r.findings
            ]
        }
    )


def by_id(report: Report) -> dict[str, object]:
    return {f.id: f for f in report.findings}


def test_listed_finding_is_accepted_with_its_justification() -> None:
    report = unaccepted()
    share = by_id(report)["TM-share001"]
    base = Baseline(
        accepted=[BaselineEntry(fingerprint=share.fingerprint, justification="internal tool")]
    )  # type: ignore[attr-defined]
    out = by_id(apply_baseline(report, base, TODAY))
    assert out["TM-share001"].accepted and out["TM-share001"].acceptance == "internal tool"  # type: ignore[attr-defined]
    assert not out["TM-secret01"].accepted  # type: ignore[attr-defined]


def test_expired_acceptance_comes_back_with_a_note() -> None:
    report = unaccepted()
    fp = by_id(report)["TM-share001"].fingerprint  # type: ignore[attr-defined]
    live = Baseline(
        accepted=[BaselineEntry(fingerprint=fp, justification="ok", expires=date(2026, 12, 1))]
    )
    accepted = by_id(apply_baseline(report, live, TODAY))["TM-share001"]
    assert accepted.accepted and accepted.acceptance == "ok (until 2026-12-01)"  # type: ignore[attr-defined]
    dead = Baseline(
        accepted=[BaselineEntry(fingerprint=fp, justification="ok", expires=date(2026, 11, 20))]
    )
    result = apply_baseline(report, dead, TODAY)
    back = by_id(result)["TM-share001"]
    assert not back.accepted  # type: ignore[attr-defined]
    assert "baseline acceptance expired on 2026-11-20: ok" in back.notes  # type: ignore[attr-defined]
    assert any("expired" in w for w in result.warnings)
    assert "baseline acceptance expired on 2026-11-20" in render(result, "md")


def test_stale_entries_are_named_in_a_warning() -> None:
    base = Baseline(accepted=[BaselineEntry(fingerprint="deadbeefdeadbeef", justification="x")])
    result = apply_baseline(unaccepted(), base, TODAY)
    assert any("match no current finding" in w and "deadbeefdeadbeef" in w for w in result.warnings)


def test_secret_finding_matches_by_its_masked_fingerprint() -> None:
    # The JSON report shows the fingerprint of the masked quote; a baseline written from it
    # must still match the unmasked finding in the next scan.
    report = unaccepted()
    secret = by_id(report)["TM-secret01"]
    shown = json.loads(render(report, "json"))
    fp = next(f["fingerprint"] for f in shown["findings"] if f["id"] == "TM-secret01")
    assert fp != secret.fingerprint  # type: ignore[attr-defined]
    assert fp == Redactor(report).finding(secret).fingerprint  # type: ignore[arg-type]
    base = Baseline(accepted=[BaselineEntry(fingerprint=fp, justification="test key")])
    assert by_id(apply_baseline(report, base, TODAY))["TM-secret01"].accepted  # type: ignore[attr-defined]


def test_candidates_from_json_and_sarif_and_extend_keeps_existing() -> None:
    report = unaccepted()
    from_json = accepted_candidates(json.loads(render(report, "json")))
    from_sarif = accepted_candidates(json.loads(render(report, "sarif")))
    assert {c.fingerprint for c in from_json} == {c.fingerprint for c in from_sarif}
    assert len(from_json) == 3  # confirmed only
    assert len(accepted_candidates(json.loads(render(report, "json")), include_review=True)) == 4
    first = from_json[0]
    old = Baseline(
        accepted=[BaselineEntry(fingerprint=first.fingerprint, justification="old reason")]
    )
    merged, added = extend_baseline(old, from_json, "new reason", date(2027, 1, 1))
    assert added == 2
    reasons = {e.fingerprint: e.justification for e in merged.accepted}
    assert reasons[first.fingerprint] == "old reason"
    assert merged.to_json() == Baseline.model_validate_json(merged.to_json()).to_json()
    with pytest.raises(InputFormatError):
        accepted_candidates({"something": []})


def test_bad_baseline_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text('{"accepted": [{"fingerprint": "abcdef0123", "justification": ""}]}')
    with pytest.raises(InputFormatError, match="justification"):
        load_baseline(bad)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threatmodel", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_baseline_round_trip_accepts_and_stops_fail_on(
    example_repo: Path, tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    first = run_cli("scan", str(example_repo), "-f", "json", "-o", str(report), "--fail-on", "high")
    assert first.returncode == 1, first.stderr
    made = run_cli(
        "baseline",
        str(report),
        "-j",
        "accepted for the demo",
        "--expires",
        "2999-01-01",
        "-o",
        str(example_repo / BASELINE_PATH),
    )
    assert made.returncode == 0, made.stderr
    entries = json.loads((example_repo / BASELINE_PATH).read_text())["accepted"]
    assert entries and all(e["justification"] == "accepted for the demo" for e in entries)
    again = run_cli("scan", str(example_repo), "-f", "json", "-o", str(report), "--fail-on", "high")
    assert again.returncode == 0, again.stderr
    findings = json.loads(report.read_text())["findings"]
    confirmed = [f for f in findings if f["verdict"] == "confirmed"]
    assert confirmed and all(f["accepted"] for f in confirmed)
    ignored = run_cli(
        "scan",
        str(example_repo),
        "-o",
        str(tmp_path / "x.md"),
        "--no-baseline",
        "--fail-on",
        "high",
    )
    assert ignored.returncode == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    refused = run_cli(
        "scan", str(example_repo), "-o", str(tmp_path / "x.md"), "--baseline", str(bad)
    )
    assert refused.returncode == 2 and "baseline" in refused.stderr
