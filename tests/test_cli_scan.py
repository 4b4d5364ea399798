"""End to end: `threatmodel scan` on the bundled example, and its error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from threatmodel.models import model_json_schema


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threatmodel", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_scan_example_writes_markdown_with_entry_points(example_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "THREAT_MODEL.md"
    proc = run_cli("scan", str(example_repo), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "| POST | `/api/notes/{note_id}/share` | public |" in text
    assert "| DELETE | `/admin/users/{user_id}` | restricted" in text
    assert "LLM pass was skipped" in text and "LLM pass skipped" in proc.stderr
    assert "OPENAI_API_KEY" in proc.stderr  # says how to enable it


def test_scan_json_validates_against_contract(example_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run_cli("scan", str(example_repo), "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, model_json_schema())
    for key in ("schema_version", "repo", "facts", "findings", "suppressed", "stats"):
        assert key in report
    assert report["repo"]["commit"] and len(report["repo"]["commit"]) == 40
    route = next(r for r in report["facts"]["routes"] if r["path"] == "/api/notes/{note_id}/share")
    assert route["method"] == "POST" and route["auth"]["status"] == "public"
    assert route["location"] == {"path": "app.py", "line": route["location"]["line"]}
    assert set(report["stats"]["verifier"]) == {"checked", "confirmed", "refuted", "unverifiable"}


@pytest.mark.parametrize("target", ["/nonexistent/repo", __file__])
def test_scan_bad_path_is_one_line_exit_2(target: str) -> None:
    proc = run_cli("scan", target)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr


def test_fail_on_exits_1_when_a_confirmed_finding_is_severe(
    example_repo: Path, tmp_path: Path
) -> None:
    proc = run_cli("scan", str(example_repo), "--out", str(tmp_path / "x.md"), "--fail-on", "high")
    assert proc.returncode == 1
    bad = run_cli("scan", str(example_repo), "--out", str(tmp_path / "x.md"), "--fail-on", "severe")
    assert bad.returncode == 2 and "--fail-on" in bad.stderr


def test_a_command_imports_only_its_own_module() -> None:
    # `scan` must not pay for prompt_toolkit (ask) or GitPython's diff machinery at start-up.
    code = (
        "import sys; from threatmodel.cli import build_app; build_app(['scan', '--help']); "
        "print(sorted(m for m in sys.modules if m.startswith('threatmodel.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip()
    assert "threatmodel.cli.scan" in loaded
    assert "threatmodel.cli.ask" not in loaded and "threatmodel.cli.diff" not in loaded
    everything = subprocess.run(
        [sys.executable, "-c", code.replace("['scan', '--help']", "['--help']")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "threatmodel.cli.ask" in everything and "threatmodel.cli.diff" in everything
