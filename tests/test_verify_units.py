"""Unit behaviour of the verify layer: evidence checks, stage health, SARIF input, rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from threatmodel.cli._health import report_health
from threatmodel.code.reader import RepoReader
from threatmodel.errors import InputFormatError, StageFailed
from threatmodel.models import (
    AuthStatus,
    Claim,
    Evidence,
    Facts,
    Finding,
    Location,
    Route,
    RouteAuth,
    Severity,
    StageHealth,
    Verdict,
)
from threatmodel.rules.interface import RuleContext
from threatmodel.rules.unauthenticated_write import UnauthenticatedWriteRoute, is_auth_endpoint
from threatmodel.verify import VerifyContext, verify_findings
from threatmodel.verify import _run as run_module
from threatmodel.verify.evidence import check_evidence
from threatmodel.verify.inputs import guess_kind, load_findings

CODE = "\n".join(f"line_{i} = {i}" for i in range(1, 41)) + "\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "mod.py").write_text(CODE)
    (tmp_path / "outside.txt").write_text("secret outside\n")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    return root


def ev(path: str, line: int, snippet: str) -> Evidence:
    return Evidence(path=path, start_line=line, end_line=line, snippet=snippet)


def test_symlink_out_of_the_repository_is_refused_without_reading(repo: Path) -> None:
    result = check_evidence([ev("link.txt", 1, "secret outside")], RepoReader(repo))
    assert not result.ok and "symlink" in result.reason


def test_quote_a_few_lines_off_is_moved_and_noted(repo: Path) -> None:
    result = check_evidence([ev("mod.py", 10, "line_14 = 14")], RepoReader(repo))
    assert result.ok
    assert result.evidence[0].start_line == 14
    assert result.notes == ["evidence in mod.py moved from line 10 to 14"]


def test_quote_far_away_or_invented_is_refuted(repo: Path) -> None:
    far = check_evidence([ev("mod.py", 1, "line_39 = 39")], RepoReader(repo))
    made_up = check_evidence([ev("mod.py", 5, "os.system(cmd)")], RepoReader(repo))
    assert not far.ok and not made_up.ok
    assert made_up.reason == "quoted text not found in mod.py near line 5"


def test_elided_quote_matches_its_parts_in_order(repo: Path) -> None:
    ok = check_evidence([ev("mod.py", 3, "line_3 = 3 ... line_4 = 4")], RepoReader(repo))
    wrong_order = check_evidence([ev("mod.py", 3, "line_4 = 4 ... line_3 = 3")], RepoReader(repo))
    assert ok.ok and not wrong_order.ok


def test_a_quote_copied_over_a_left_out_comment_line_matches(tmp_path: Path) -> None:
    # An excerpt leaves comment-only lines out: the model's quote runs over them.
    (tmp_path / "v.py").write_text("def v(q):\n    # look it up\n    return find(q)\n")
    quote = "def v(q):\n    return find(q)"
    ok = check_evidence([ev("v.py", 1, quote)], RepoReader(tmp_path))
    assert ok.ok and (ok.evidence[0].start_line, ok.evidence[0].end_line) == (1, 3)
    # code is not skipped: a quote leaving out a line of code is still not in the file
    (tmp_path / "w.py").write_text("def v(q):\n    q = q.strip()\n    return find(q)\n")
    assert not check_evidence([ev("w.py", 1, quote)], RepoReader(tmp_path)).ok


def test_claim_location_past_the_end_refutes_the_finding(repo: Path) -> None:
    finding = Finding(
        id="X1",
        title="debug",
        severity=Severity.LOW,
        source="llm",
        claims=[Claim(kind="debug_enabled", location=Location(path="mod.py", line=99))],
    )
    out = verify_findings([finding], VerifyContext(facts=Facts(), reader=RepoReader(repo)))
    assert out.suppressed[0].reason == "mod.py has 40 lines; the claim cites line 99"


def test_missing_verifier_makes_the_stage_unhealthy(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_module, "all_verifiers", lambda: {})
    finding = Finding(
        id="X2", title="t", severity=Severity.LOW, source="llm", claims=[Claim(kind="xss")]
    )
    out = run_module.verify_findings([finding], VerifyContext(Facts(), RepoReader(repo)))
    assert not out.health.ok and "xss" in out.health.message
    assert out.kept[0].verdict is Verdict.UNVERIFIABLE


def test_crashing_verifier_is_loud_not_silent(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Boom:
        def verify(self, *args: object) -> None:
            raise RuntimeError("bug")

    monkeypatch.setattr(run_module, "all_verifiers", lambda: {"xss": Boom()})
    finding = Finding(
        id="X3", title="t", severity=Severity.LOW, source="llm", claims=[Claim(kind="xss")]
    )
    out = run_module.verify_findings([finding], VerifyContext(Facts(), RepoReader(repo)))
    assert not out.health.ok and "RuntimeError" in out.health.message
    assert out.kept[0].reason == "verifier crashed: RuntimeError"


def test_ci_mode_fails_on_a_stage_that_could_not_run() -> None:
    stages = [StageHealth(stage="verify", ok=False, checked=3, message="verifier crashed")]
    report_health(stages, quiet=True, ci=False)  # outside CI: printed, not fatal
    with pytest.raises(StageFailed):
        report_health(stages, quiet=True, ci=True)
    report_health([StageHealth(stage="verify", ok=True)], quiet=True, ci=True)


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        ("/login", True),
        ("/api/v1/auth/token", True),
        ("/users/register", True),
        ("/password/reset", True),
        ("/api/forgot-password", True),
        ("/api/notes/{id}/share", False),
        ("/tokenize/{id}", False),
        ("/admin/users", False),
        ("/auth/magic-sign-in/", True),  # a sign-in step among other words
        ("/api/email_login", True),
        ("/api/session-notes", False),  # "session" among other words names data
        ("/api/token-transfers", False),
        # a tRPC procedure's dotted, camelCase path
        ("/api/trpc/auth.passkey.createSigninOptions", True),
        ("/api/trpc/post.create", False),
        ("/api/trpc/wallet.tokenTransfers", False),
    ],
)
def test_auth_endpoints_are_public_by_design(path: str, auth: bool) -> None:
    assert is_auth_endpoint(path) is auth


def test_tm101_reports_share_but_not_login(repo: Path) -> None:
    def route(method: str, path: str) -> Route:
        return Route(
            id=f"{method} {path}",
            method=method,
            path=path,
            framework="flask",
            handler="mod.h",
            location=Location(path="mod.py", line=1),
            auth=RouteAuth(status=AuthStatus.PUBLIC),
        )

    facts = Facts(routes=[route("POST", "/login"), route("POST", "/notes/{id}/share")])
    found = UnauthenticatedWriteRoute().check(facts, RuleContext(repo, RepoReader(repo)))
    assert [f.title for f in found] == [
        "POST /notes/{id}/share changes data without authentication"
    ]


SARIF = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "other",
                    "rules": [
                        {"id": "py/sql-injection", "properties": {"tags": ["external/cwe/cwe-089"]}}
                    ],
                }
            },
            "results": [
                {
                    "ruleId": "py/sql-injection",
                    "ruleIndex": 0,
                    "guid": "g-1",
                    "level": "error",
                    "message": {"text": "Query built from user input"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "mod.py"},
                                "region": {"startLine": 7, "snippet": {"text": "line_7 = 7"}},
                            }
                        }
                    ],
                },
                {
                    "ruleId": "B105",
                    "message": {"text": "Possible hardcoded password"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "file:///etc/passwd"},
                                "region": {"startLine": 1},
                            }
                        }
                    ],
                },
                {"ruleId": "style/long-line", "message": {"text": "Line too long"}},
            ],
        }
    ],
}


def test_sarif_results_become_findings_with_guessed_kinds(repo: Path) -> None:
    fmt, loaded = load_findings(json.dumps(SARIF), repo, Facts())
    assert fmt == "sarif"
    first, second, third = (item.finding for item in loaded)
    assert first.id == "g-1" and first.severity is Severity.HIGH and first.cwe == ["CWE-89"]
    assert first.claims[0].kind == "sql_injection"
    assert first.claims[0].location == Location(path="mod.py", line=7)
    assert second.id == "B105#0.1" and second.claims[0].kind == "hardcoded_secret"
    assert second.evidence[0].path == "/etc/passwd"  # left absolute: RepoReader refuses it
    assert third.claims == [] and third.evidence == []
    out = verify_findings([i.finding for i in loaded], VerifyContext(Facts(), RepoReader(repo)))
    verdicts = {f.id: f.verdict for f in out.kept + out.suppressed}
    assert verdicts["g-1"] is Verdict.REFUTED  # line 7 holds no SQL call
    assert verdicts["B105#0.1"] is Verdict.REFUTED  # absolute path
    assert verdicts["style/long-line#0.2"] is Verdict.UNVERIFIABLE


def test_guess_kind_uses_cwe_then_words() -> None:
    assert guess_kind("x", [], ["CWE-918"], "") == "ssrf"
    assert guess_kind("javascript.express.open-redirect", [], [], "") == "open_redirect"
    assert guess_kind("B602", [], [], "") == "command_injection"
    assert guess_kind("unused-import", ["maintainability"], [], "Unused import") is None


def test_own_json_is_loaded_leniently(repo: Path) -> None:
    doc = [
        {
            "id": "a",
            "title": "ok",
            "severity": "HIGH",
            "claims": [{"kind": "xss"}],
            "fingerprint": "x",
        },
        {"id": "b", "title": "bad line", "evidence": [{"path": "mod.py", "start_line": 0}]},
        {"title": "no id", "claims": [{"kind": "timing_attack"}]},
    ]
    _, loaded = load_findings(json.dumps(doc), repo, Facts())
    assert [i.finding.id for i in loaded] == ["a", "b", "F3"]
    assert loaded[0].finding.severity is Severity.HIGH and loaded[0].refute is None
    assert loaded[1].refute and "evidence 1 is malformed" in loaded[1].refute
    assert loaded[2].unknown_kinds == ["timing_attack"]


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ([1, 2, 3], "entry 1 is a number (1); entry 2 is a number (2); entry 3 is a number (3)"),
        ([{"title": "ok"}, "text"], 'entry 2 is a string ("text")'),
        ({"findings": [{"foo": 1}]}, "entry 1 is an object without title, claims or evidence"),
        ([None], "entry 1 is null"),
    ],
)
def test_entries_that_are_not_findings_refuse_the_file(repo: Path, doc: Any, named: str) -> None:
    """Issue 21: `[1,2,3]` was reported as "3 claims suppressed"; it holds no finding at all."""
    with pytest.raises(InputFormatError) as err:
        load_findings(json.dumps(doc), repo, Facts())
    assert named in str(err.value)


def test_unreadable_findings_file_is_a_typed_error(repo: Path) -> None:
    with pytest.raises(InputFormatError):
        load_findings("{not json", repo, Facts())
    with pytest.raises(InputFormatError):
        load_findings('{"something": 1}', repo, Facts())
