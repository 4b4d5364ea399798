"""Issue 21, as a new user meets it: console, report and exit code agree; bad input is refused.

Each test runs the real entry point in a subprocess on a copy of examples/leaky-notes (or a
temporary folder) and checks what the user sees: the one line on stderr, the report, and
the exit code of the README's table (0 clean, 1 a finding at or above --fail-on, 2 a usage,
input or provider error).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
from diff_support import commit_all, git
from robust_support import cli, write_tuning
from typer.testing import CliRunner

from threatmodel import __version__, tally
from threatmodel.cli import build_app
from threatmodel.models import (
    AuthStatus,
    Claim,
    Facts,
    Finding,
    Location,
    Route,
    RouteAuth,
    Severity,
    Sink,
    Verdict,
)
from threatmodel.reach import routes_reaching

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "leaky-notes"


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    dest = tmp_path / "leaky-notes"
    shutil.copytree(EXAMPLE, dest)
    return dest


def _report(repo: Path, out: Path) -> None:
    proc = cli("scan", str(repo), "-f", "json", "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ one count of what counts


def test_tally_counts_accepted_findings_apart() -> None:
    def f(sev: Severity, verdict: Verdict, accepted: bool = False) -> Finding:
        return Finding(
            title=f"{sev} {verdict} {accepted}",
            severity=sev,
            source="rule",
            verdict=verdict,
            accepted=accepted,
        )

    items = [
        f(Severity.CRITICAL, Verdict.CONFIRMED, accepted=True),
        f(Severity.HIGH, Verdict.CONFIRMED),
        f(Severity.MEDIUM, Verdict.UNVERIFIABLE),
        f(Severity.HIGH, Verdict.UNVERIFIABLE, accepted=True),
    ]
    assert tally.by_severity(tally.open_threats(items)) == "1 high"
    assert len(tally.to_review(items)) == 1 and len(tally.accepted(items)) == 2
    assert tally.bucket_counts(items)["critical"] == {"confirmed": 0, "review": 0, "accepted": 1}
    assert tally.fails(items, Severity.HIGH) and not tally.fails(items, Severity.CRITICAL)
    assert not tally.fails(items, None)


def test_accepting_every_finding_makes_console_report_and_exit_agree(
    notes: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    _report(notes, report)
    out = notes / ".threatmodel" / "baseline.json"
    accepted = cli("baseline", str(report), "-j", "demo app", "-o", str(out))
    assert accepted.returncode == 0, accepted.stderr
    md = tmp_path / "tm.md"
    proc = cli("scan", str(notes), "--fail-on", "high", "-o", str(md))
    assert proc.returncode == 0, proc.stderr
    # Before: "confirmed threats: 2 critical, 5 high, 1 medium" while the report said none.
    assert (
        "confirmed threats: none (7 more accepted in the baseline) (1 more outside production)"
        in proc.stderr
    )
    assert "**No confirmed threats.**" in md.read_text()
    assert "7 accepted in the baseline" in md.read_text()
    loud = cli("scan", str(notes), "--fail-on", "high", "--no-baseline", "-o", str(md))
    assert loud.returncode == 1
    assert (
        "confirmed threats: 2 critical, 4 high, 1 medium (1 more outside production);"
        in loud.stderr
    )


# ------------------------------------------------------------------ baseline


def test_baseline_refuses_an_expiry_in_the_past(notes: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    _report(notes, report)
    out = notes / ".threatmodel" / "baseline.json"
    past = cli("baseline", str(report), "-j", "x", "--expires", "2020-01-01", "-o", str(out))
    assert past.returncode == 2
    assert "--expires 2020-01-01 is in the past" in past.stderr
    assert not out.exists()
    soon = (date.today() + timedelta(days=30)).isoformat()
    ok = cli("baseline", str(report), "-j", "x", "--expires", soon, "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "7 findings accepted; 7 in" in ok.stderr


def test_baseline_of_another_tools_sarif_says_why_nothing_was_accepted(
    notes: Path, tmp_path: Path
) -> None:
    sarif = tmp_path / "bandit.sarif"
    result = {"ruleId": "B105", "message": {"text": "hardcoded password"}}
    run = {"tool": {"driver": {"name": "bandit"}}, "results": [result]}
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    out = notes / ".threatmodel" / "baseline.json"
    proc = cli("baseline", str(sarif), "-j", "x", "-o", str(out))
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert line.startswith("error: ") and len(line.splitlines()) == 1
    assert "1 SARIF results (from bandit) carry no threatmodel fingerprint" in line
    assert "threatmodel scan --format json" in line
    assert not out.exists()


# ------------------------------------------------------------------ nothing scanned


@pytest.mark.parametrize("content", ["empty", "docs only"])
def test_a_folder_with_nothing_to_scan_says_so_and_fails_in_ci(
    content: str, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    if content == "docs only":
        (repo / "README.md").write_text("# notes\n")
        (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    md = tmp_path / "tm.md"
    proc = cli("scan", str(repo), "-o", str(md))
    assert proc.returncode == 0, proc.stderr
    assert "nothing was scanned: " in proc.stderr
    assert "No confirmed threats" not in proc.stderr
    text = md.read_text()
    assert "**Nothing was scanned**" in text and "**No confirmed threats.**" not in text
    assert str(tmp_path) not in text  # the report holds no absolute path
    ci = cli("scan", str(repo), "-o", str(md), "--ci")
    assert ci.returncode == 2
    assert "STAGE FAILED: walk: nothing was scanned" in ci.stderr


# ------------------------------------------------------------------ flags and paths


def test_output_into_a_missing_folder_is_an_error_not_a_mkdir(notes: Path, tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.md"
    proc = cli("scan", str(notes), "-o", str(target))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --out ") and "does not exist" in proc.stderr
    assert "stages:" not in proc.stderr  # refused before the scan
    assert not (tmp_path / "nonexistent").exists()
    sarif = cli("diff", "--base", "HEAD", str(notes), "--sarif", str(target))
    assert sarif.returncode == 2 and "--sarif" in sarif.stderr


@pytest.mark.parametrize(
    "flag", [["--max-cost", "-5"], ["--max-cost", "0"], ["--max-tokens", "0"], ["--jobs", "-2"]]
)
def test_nonsense_numbers_are_usage_errors(flag: list[str], notes: Path, tmp_path: Path) -> None:
    proc = cli("scan", str(notes), "-o", str(tmp_path / "x.md"), *flag)
    assert proc.returncode == 2
    assert flag[0] in proc.stderr and "stages:" not in proc.stderr


def test_unreachable_provider_exits_2_and_names_each_error_once(
    notes: Path, tmp_path: Path
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_tuning(notes, timeout=1, max_retries=0, concurrency=1)
    md = tmp_path / "tm.md"
    proc = cli(
        "scan", str(notes), "--provider", "openai-compatible", "--model", "m",
        "--base-url", f"http://127.0.0.1:{port}/v1", "-o", str(md), "--no-baseline",
        env={"THREATMODEL_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert md.exists()  # the facts-and-rules report is still written
    lines = proc.stderr.splitlines()
    chunk_lines = [ln for ln in lines if "cannot connect" in ln]
    name = re.compile(r"routes in \S+|database#\d+|cross-component")
    chunks = [m.group(0) for ln in chunk_lines if (m := name.search(ln))]
    assert chunks and len(chunks) == len(set(chunks)), proc.stderr
    assert sum("LLM pass failed:" in ln for ln in lines) == 1, proc.stderr
    assert lines[-1].startswith("error: the LLM provider openai-compatible could not analyse")


# ------------------------------------------------------------------ verify


def test_verify_of_a_list_of_numbers_is_an_input_error(notes: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]")
    proc = cli("verify", str(bad), "--repo", str(notes))
    assert proc.returncode == 2
    assert "entry 1 is a number (1)" in proc.stderr and "suppressed" not in proc.stderr


def test_verify_report_is_not_a_threat_model_and_its_anchors_link(
    notes: Path, tmp_path: Path
) -> None:
    def result(rule: str, uri: str, line: int) -> dict[str, object]:
        region = {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}
        where = [{"physicalLocation": region}]
        return {"ruleId": rule, "message": {"text": rule}, "locations": where}

    results = [result("python.hardcoded", "config.py", 9), result("python.sql", "app.py", 60)]
    sarif = tmp_path / "semgrep.sarif"
    run = {"tool": {"driver": {"name": "semgrep"}}, "results": results}
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    out = tmp_path / "verdicts.md"
    proc = cli("verify", str(sarif), "--repo", str(notes), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("# Verified findings: leaky-notes")
    assert "Threat model" not in text.splitlines()[0]
    assert "LLM pass was skipped" not in text
    ids = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#([^)]+)\)", text)) - {"suppressed-claims", "methodology"}
    assert links and links <= ids
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", a) for a in ids), ids


# ------------------------------------------------------------------ help and version


def test_version_and_help_read_right() -> None:
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"threatmodel {__version__}"
    runner = CliRunner()
    for command in ["scan", "baseline", "verify", "diff", "ask", "schema"]:
        result = runner.invoke(build_app([command]), [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output, command  # flags take no value
        if command == "scan":  # the default of --out is stated (wrapped text joined up)
            assert "default: THREAT_MODEL.md" in " ".join(re.sub("[│]", " ", result.output).split())


def test_diff_format_sarif_points_to_the_sarif_flag(notes: Path) -> None:
    proc = cli("diff", "--base", "HEAD", str(notes), "--format", "sarif")
    assert proc.returncode == 2
    assert "--sarif FILE" in proc.stderr


# ------------------------------------------------------------------ diff: escalated findings


def test_removing_a_guard_escalates_the_injection_behind_it(notes: Path, tmp_path: Path) -> None:
    """The SQL injection in GET /api/search was there before, behind @login_required; the
    change removes the guard, so it is reported as new (escalated) and trips --fail-on."""
    git(notes, "init", "-q", "-b", "main")
    base = commit_all(notes, "leaky-notes")
    app = notes / "app.py"
    guarded = '@api.get("/search")\n@login_required\n'
    assert guarded in app.read_text()
    app.write_text(app.read_text().replace(guarded, '@api.get("/search")\n'))
    commit_all(notes, "search without login")

    sarif = tmp_path / "new.sarif"
    proc = cli("diff", "--base", base, str(notes), "--fail-on", "high", "--sarif", str(sarif))
    assert proc.returncode == 1, proc.stderr
    comment = proc.stdout
    new_part = comment.split("#### New findings", 1)[1].split("<details>", 1)[0]
    assert "GET /api/search runs SQL query built from input" in new_part
    assert (
        "**Escalated**" in new_part
        and "GET /api/search is now public (was authenticated)" in new_part
    )
    before = comment.split("Findings already there before", 1)[1]
    assert "GET /api/search runs SQL" not in before
    assert "1 new finding (1 high, 1 of them escalated)" in comment.splitlines()[0]
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert len(results) == 1

    data = json.loads(cli("diff", "--base", base, str(notes), "-f", "json", "-q").stdout)
    (esc,) = data["escalated"]
    assert esc["base_severity"] == "high" and "now public" in esc["reason"]
    assert esc["fingerprint"] in {f["fingerprint"] for f in data["new_findings"]}


def test_a_baseline_acceptance_does_not_cover_the_escalated_finding(
    notes: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    _report(notes, report)
    out = notes / ".threatmodel" / "baseline.json"
    assert cli("baseline", str(report), "-j", "behind login", "-o", str(out)).returncode == 0
    git(notes, "init", "-q", "-b", "main")
    base = commit_all(notes, "leaky-notes, every finding accepted")
    app = notes / "app.py"
    app.write_text(
        app.read_text().replace('@api.get("/search")\n@login_required\n', '@api.get("/search")\n')
    )
    commit_all(notes, "search without login")
    proc = cli("diff", "--base", base, str(notes), "--fail-on", "high", "-f", "json", "-q")
    assert proc.returncode == 1, proc.stderr
    (escalated,) = json.loads(proc.stdout)["new_findings"]
    assert escalated["accepted"] is False and "GET /api/search" in escalated["title"]


def test_an_unchanged_finding_on_an_unchanged_route_is_not_escalated(notes: Path) -> None:
    git(notes, "init", "-q", "-b", "main")
    base = commit_all(notes, "leaky-notes")
    (notes / "README.md").write_text((notes / "README.md").read_text() + "\nmore words\n")
    (notes / "app.py").write_text("# a comment\n" + (notes / "app.py").read_text())
    commit_all(notes, "lines move")
    data = json.loads(cli("diff", "--base", base, str(notes), "-f", "json", "-q").stdout)
    assert data["escalated"] == [] and data["new_findings"] == []


def test_every_route_of_a_shared_handler_reaches_its_sink() -> None:
    def route(method: str, path: str, status: AuthStatus) -> Route:
        return Route(
            id=f"{method} {path}",
            method=method,
            path=path,
            framework="flask",
            handler="app.search",
            location=Location(path="app.py", line=10),
            auth=RouteAuth(status=status),
        )

    at = Location(path="app.py", line=14)
    facts = Facts(
        routes=[
            route("GET", "/search", AuthStatus.AUTHENTICATED),
            route("POST", "/search", AuthStatus.PUBLIC),
        ],
        sinks=[
            Sink(kind="sql", call="db.execute", dynamic=True, location=at, handler="app.search")
        ],
    )
    finding = Finding(
        title="sqli",
        severity=Severity.HIGH,
        source="rule",
        claims=[Claim(kind="sql_injection", location=at)],
    )
    assert {r.id for r in routes_reaching(finding, facts)} == {"GET /search", "POST /search"}
