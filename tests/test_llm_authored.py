"""Full scans of examples/leaky-notes replaying AUTHORED answers through each provider.

``cassettes/test_llm_authored/authored-*.yaml`` hold what a capable model would answer,
written by hand (scripts/author_cassettes.py; each file says so in its header) and sent
through the real SDKs so the request bodies are the real prompts. They are not recordings
of any hosted model. Two answers are right (the share route has no auth; the search query is
injectable) and one is a plausible mistake (the admin route *is* guarded) that the
verifiers must refute. Also here: budgets through the CLI, and the cassette hygiene checks
(no planted secret value, no auth header, in any cassette of the project).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import CASSETTES
from llm_cassettes import LLM_MATCH_ON
from test_summarize import PLANTED_VALUES, STRIPE_EXAMPLE

from threatmodel.cli import main
from threatmodel.config import ProviderConfig, Settings
from threatmodel.models import Report, Verdict
from threatmodel.scan import ScanOptions, run_scan

TINY_SECRET = "sk_live_51TinyPlantedZ9xW8vU7tS6rQ5pO4nM3lK2jI1hG0f"
SHARE_ROUTE = ("POST", "/api/notes/{note_id}/share")
ADMIN_ROUTE = ("DELETE", "/admin/users/{user_id}")


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, object]) -> dict[str, object]:
    return {**vcr_config, "match_on": LLM_MATCH_ON}


def scan(repo: Path, config: ProviderConfig, cache: Path) -> Report:
    settings = Settings(provider=config, cache_dir=cache)
    return run_scan(repo, settings, ScanOptions(use_cache=False, jobs=1))


def llm_route_findings(report: Report, route: tuple[str, str], verdict: Verdict) -> list[str]:
    pool = report.findings if verdict != Verdict.REFUTED else report.suppressed
    return [
        f.title
        for f in pool
        if f.source == "llm"
        and f.verdict == verdict
        and any(c.route and (c.route.method, c.route.path) == route for c in f.claims)
    ]


def llm_kind_findings(report: Report, kind: str, verdict: Verdict) -> list[str]:
    return [
        f.title
        for f in report.findings + report.suppressed
        if f.source == "llm" and f.verdict == verdict and any(c.kind == kind for c in f.claims)
    ]


def check_authored_scan(report: Report, provider: str) -> None:
    assert report.llm.provider == provider
    assert report.llm.status == "ran" and report.llm.failed_chunks == []
    # routes, then application setup, database, configuration (.env.example) and the
    # overview in the room the routes leave: one request
    assert report.stats.llm_calls == 1 and report.stats.input_tokens > 0
    assert report.stats.fixed_tokens_per_call > 0
    # the right answers survive verification ...
    assert llm_route_findings(report, SHARE_ROUTE, Verdict.CONFIRMED)
    # (the model's SQL injection finding has the rule's fingerprint: one finding, rule wins)
    sql = [f for f in report.findings if any(c.kind == "sql_injection" for c in f.claims)]
    assert any(f.verdict == Verdict.CONFIRMED and f.evidence[0].start_line == 60 for f in sql)
    assert llm_kind_findings(report, "rls_disabled", Verdict.CONFIRMED)
    # ... and the mistake is suppressed with the verifier's reason
    refuted = [
        f
        for f in report.suppressed
        if f.source == "llm"
        and any(c.route and (c.route.method, c.route.path) == ADMIN_ROUTE for c in f.claims)
    ]
    assert refuted and all(f.reason for f in refuted)
    assert not llm_route_findings(report, ADMIN_ROUTE, Verdict.CONFIRMED)


@pytest.mark.vcr
@pytest.mark.default_cassette("authored-openai.yaml")
def test_openai_scan_with_authored_answers(example_repo: Path, tmp_path: Path) -> None:
    config = ProviderConfig("openai", "gpt-4o-mini", None, "test-key", max_retries=0)
    check_authored_scan(scan(example_repo, config, tmp_path), "openai")


@pytest.mark.vcr
@pytest.mark.default_cassette("authored-anthropic.yaml")
def test_anthropic_scan_with_authored_answers(example_repo: Path, tmp_path: Path) -> None:
    config = ProviderConfig("anthropic", "claude-haiku-4-5", None, "test-key", max_retries=0)
    check_authored_scan(scan(example_repo, config, tmp_path), "anthropic")


@pytest.mark.vcr
@pytest.mark.default_cassette("authored-openai-compatible.yaml")
def test_openai_compatible_scan_with_authored_answers(example_repo: Path, tmp_path: Path) -> None:
    base = "http://127.0.0.1:18099/v1"
    config = ProviderConfig("openai-compatible", "local-model", base, "not-needed", max_retries=0)
    report = scan(example_repo, config, tmp_path)
    check_authored_scan(report, "openai-compatible")
    assert report.stats.cost_usd == 0.0  # a local server is free
    again = scan(example_repo, config, tmp_path)  # same cache folder
    assert again.stats.llm_calls == 0
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in report.findings]


@pytest.mark.vcr
@pytest.mark.default_cassette("authored-openai.yaml")
def test_cli_budget_stops_with_the_partial_report_written(
    example_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    # the example is one request of ~4.4k input tokens: a budget below it stops the pass
    # before it (test_analyze.py keeps an answered chunk's findings under a budget)
    out = tmp_path / "report.json"
    args = ["scan", str(example_repo), "--provider", "openai", "--max-tokens", "3000"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--format", "json", "-o", str(out)])
    assert exit_.value.code in (0, None)
    report = json.loads(out.read_text())
    assert report["llm"]["status"] == "partial" and report["llm"]["budget_reached"] is True
    assert "--max-tokens 3000" in report["llm"]["message"]
    assert "partial results kept" in report["llm"]["message"]
    assert report["stats"]["llm_calls"] == 0
    assert report["stats"]["input_tokens"] + report["stats"]["output_tokens"] <= 3000
    assert {f["source"] for f in report["findings"]} == {"rule"}  # the rules' findings kept
    assert len(report["llm"]["failed_chunks"]) == 1  # the one request, not sent
    assert "stopped at the budget" in capsys.readouterr().err


def test_authored_cassettes_say_so() -> None:
    authored = sorted((CASSETTES / "test_llm_authored").glob("authored-*.yaml"))
    assert len(authored) == 3
    for path in authored:
        assert path.read_text().startswith("# AUTHORED fixture, not a recording")


def test_no_cassette_carries_a_secret_or_an_auth_header() -> None:
    cassettes = sorted(CASSETTES.rglob("*.yaml"))  # every module's, recorded or authored
    assert len(cassettes) >= 3
    for path in cassettes:
        text = path.read_text()
        for value in (STRIPE_EXAMPLE, TINY_SECRET, *PLANTED_VALUES):
            assert value not in text, f"{path.name} carries a planted secret value"
        for interaction in yaml.safe_load(text)["interactions"]:
            headers = {h.lower() for h in interaction["request"]["headers"]}
            assert not headers & {"authorization", "x-api-key", "api-key", "cookie"}, path.name
