"""End to end: `threatmodel verify FINDINGS --repo PATH` on a fixture app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from threatmodel.models import model_json_schema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP = FIXTURES / "verify" / "flask_shop"
CLAIMS = FIXTURES / "claims" / "flask_shop.json"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threatmodel", *args], capture_output=True, text=True, timeout=300
    )


def test_verify_json_keeps_ids_and_suppresses_with_reasons(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.json"
    proc = run_cli("verify", str(CLAIMS), "--repo", str(APP), "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, model_json_schema())
    ids = {f["id"] for f in json.loads(CLAIMS.read_text())["findings"]}
    kept = {f["id"]: f for f in report["findings"]}
    suppressed = {f["id"]: f for f in report["suppressed"]}
    assert set(kept) | set(suppressed) == ids and not set(kept) & set(suppressed)
    assert all(f["verdict"] == "refuted" and f["reason"] for f in suppressed.values())
    assert suppressed["FS-F03"]["reason"].startswith("DELETE /admin/users/<int:user_id> is guarded")
    assert kept["FS-T01"]["verdict"] == "confirmed"
    assert "FS-F09 refuted: line 165 of app.py is a comment" in proc.stderr
    assert report["stats"]["verifier"]["checked"] == len(ids)
    assert [s["stage"] for s in report["stages"]] == ["walk", "collect", "verify"]


def test_verify_reads_sarif_and_writes_markdown(tmp_path: Path) -> None:
    sarif = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "bandit", "rules": []}},
                "results": [
                    {
                        "ruleId": "B608",
                        "message": {"text": "Possible SQL injection vector"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app.py"},
                                    "region": {"startLine": 46},
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "B608",
                        "message": {"text": "Possible SQL injection vector"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app.py"},
                                    "region": {"startLine": 53},
                                }
                            }
                        ],
                    },
                ],
            }
        ],
    }
    src = tmp_path / "bandit.sarif"
    src.write_text(json.dumps(sarif))
    out = tmp_path / "verdicts.json"
    proc = run_cli("verify", str(src), "--repo", str(APP), "-f", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [f["id"] for f in report["findings"]] == ["B608#0.0"]
    assert report["suppressed"][0]["id"] == "B608#0.1"
    assert "passes parameters separately" in report["suppressed"][0]["reason"]
    md = run_cli("verify", str(src), "--repo", str(APP), "-q")
    assert md.returncode == 0 and md.stdout.startswith("# ")


def test_verify_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    proc = run_cli("verify", str(bad), "--repo", str(APP))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: findings file is not JSON")
    assert "Traceback" not in proc.stderr
