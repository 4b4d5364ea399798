"""Issue 21 (a new user's first hour) and issue 18's redaction item.

- The tool's own reports, saved inside the repository under any name, are not read as code
  on the next scan ("possible prompt injection at report.json").
- Redaction is linear in a line's length and cuts evidence to a readable window.
- Redaction masks values, never the keys around them.
"""

from __future__ import annotations

import time
from pathlib import Path

from threatmodel.code.walk import OWN_OUTPUT, walk
from threatmodel.config import resolve_settings
from threatmodel.models import Evidence
from threatmodel.redact import (
    CUT,
    MASK,
    SNIPPET_LIMIT,
    cap_snippet,
    mask_line,
    redact_report,
)
from threatmodel.render.formats import render
from threatmodel.scan import ScanOptions, run_scan

APP = """\
from flask import Flask, request
import sqlite3

app = Flask(__name__)
SECRET_KEY = "sk_live_51Habcdefghijklmnopqrstuvwx"

@app.post("/notes")
def add_note():
    db = sqlite3.connect("notes.db")
    db.execute("INSERT INTO notes VALUES ('%s')" % request.form["body"])
    db.commit()
    return "ok"
"""


def test_own_reports_are_not_scanned_as_code(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text(APP)
    settings = resolve_settings(root, provider="none", cache_dir=tmp_path / "c")
    first = run_scan(root, settings, ScanOptions())
    assert first.findings, "the fixture must give findings for the reports to quote"
    # Saved under names that do not give them away: recognised by content.
    (root / "out.json").write_text(render(first, "json"))
    (root / "results.sarif").write_text(render(first, "sarif"))
    (root / "notes.md").write_text(render(first, "md"))
    (root / "data.json").write_text('{"findings": [{"title": "hand-written"}]}')
    walked = walk(root)
    assert sorted(s for s in walked.skipped if s.endswith(OWN_OUTPUT)) == [
        f"{name}: {OWN_OUTPUT}" for name in ("notes.md", "out.json", "results.sarif")
    ]
    assert "data.json" in walked.files  # someone else's JSON is still read
    second = run_scan(root, settings, ScanOptions())
    assert not [w for w in second.warnings if "out.json" in w or "notes.md" in w]
    assert not [w for w in second.warnings if "results.sarif" in w]
    assert {f.fingerprint for f in second.findings} == {f.fingerprint for f in first.findings}


def test_masking_a_huge_line_is_linear() -> None:
    """A 250 KB fixture line of short literals: was quadratic (the whole prefix searched
    again before every literal)."""
    line = '{"k": "v", "name": "x1"}, ' * 10_000  # 260 KB, 40,000 literals

    def seconds(text: str) -> float:
        started = time.perf_counter()
        mask_line(text, force=True)
        return time.perf_counter() - started

    small, large = seconds(line[:26_000]), seconds(line)
    # Ten times the text: linear is ~10x; the old quadratic search was ~100x (24 s and
    # 99 s for 26 and 52 KB).
    assert large < 30 * max(small, 0.01), f"26 KB: {small:.2f}s, 260 KB: {large:.2f}s"


def test_evidence_cut_to_a_window_around_the_secret() -> None:
    secret = "sk_live_51Habcdefghijklmnopqrstuvwx"
    line = "var a=1;" * 30_000 + f'var key="{secret}";' + "var b=2;" * 30_000
    cut = cap_snippet(line, f'"{secret}"')
    assert len(cut) <= SNIPPET_LIMIT
    assert cut.startswith(CUT) and cut.endswith(CUT)
    assert secret in cut  # the window is the cited part (masking comes after)
    many = "\n".join(["x" * 500] * 40)
    assert len(cap_snippet(many)) <= SNIPPET_LIMIT
    short = Evidence(path="a.py", start_line=1, end_line=1, snippet="x = 1")
    assert cap_snippet(short.snippet) == "x = 1"


def test_one_line_fixture_of_secrets_is_one_finding_with_a_short_snippet(
    tmp_path: Path,
) -> None:
    """A 130 KB one-line JSON fixture holding a thousand tokens: the evidence of every
    secret on it was the whole line (each normalised again for its fingerprint)."""
    root = tmp_path / "repo"
    root.mkdir()
    rows = ",".join(f'{{"id": {i}, "token": "q8Zr2VtLw9XcN4bH{i:05d}"}}' for i in range(1000))
    (root / "data.json").write_text(f"[{rows}]")
    report = run_scan(
        root, resolve_settings(root, provider="none", cache_dir=tmp_path / "c"), ScanOptions()
    )
    assert len(report.facts.secrets) >= 100
    secrets = [f for f in report.findings if f.rule_id == "TM105"]
    assert len(secrets) == 1
    for out in (render(report, "json"), render(report, "md")):
        assert "q8Zr2VtLw9XcN4bH00000" not in out
    snippet = redact_report(report).findings[0].evidence[0].snippet
    assert len(snippet) <= SNIPPET_LIMIT and snippet.endswith(CUT)
    assert MASK in snippet


def test_redaction_masks_values_not_keys() -> None:
    line = '    payload = jwt.decode(token, options={"verify_signature": False})'
    assert mask_line(line) == line  # the key is the code a reviewer needs
    assigned = 'API_TOKEN = "q8Zr2VtLw9XcN4bH7mK1pS6d"'
    assert mask_line(assigned) == 'API_TOKEN = "\u00abredacted\u00bb"'
    pair = 'headers = {"Authorization_token_x": "q8Zr2VtLw9XcN4bH7mK1pS6d"}'
    assert mask_line(pair) == 'headers = {"Authorization_token_x": "\u00abredacted\u00bb"}'
