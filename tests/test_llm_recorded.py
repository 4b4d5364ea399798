"""The LLM pass against a real model, replayed from cassettes recorded on loopback.

The cassettes in ``cassettes/test_llm_recorded/`` were recorded from llama.cpp's
``llama-server`` serving SmolLM2-135M-Instruct (both its OpenAI ``/v1/chat/completions``
and its Anthropic ``/v1/messages`` endpoints) by ``scripts/record-cassettes.sh``. The model
is tiny: it answers in the schema (the server enforces it) but hallucinates files, lines
and titles, runs out of output tokens, and ignores a forced tool. That is the point: the
pass must survive all of it, the verifiers must refute the hallucinations, and nothing it
invents may be reported as confirmed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llm_cassettes import LLM_MATCH_ON

from threatmodel.config import ProviderConfig, Settings
from threatmodel.models import Report, Verdict
from threatmodel.scan import ScanOptions, run_scan

LOCAL = "http://127.0.0.1:8088"
MODEL = "SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, object]) -> dict[str, object]:
    # Replay only, unless scripts/record-cassettes.sh re-records on purpose.
    return {
        **vcr_config,
        "match_on": LLM_MATCH_ON,
        "record_mode": os.environ.get("THREATMODEL_RECORD", "none"),
    }


def local_settings(provider: str, cache_dir: Path, **budget: float | int | None) -> Settings:
    config = ProviderConfig(
        name=provider,
        model=MODEL,
        base_url=f"{LOCAL}/v1" if provider == "openai-compatible" else LOCAL,
        api_key="not-needed",
        timeout_s=900,  # a 135M model on two shared cores is slow; replay is instant
        max_retries=0,
        concurrency=2,
        context_tokens=8192,
        max_output_tokens=400,
    )
    return Settings(
        provider=config,
        cache_dir=cache_dir,
        max_tokens=budget.get("max_tokens"),  # type: ignore[arg-type]
        max_cost_usd=budget.get("max_cost"),  # type: ignore[arg-type]
    )


def scan(repo: Path, settings: Settings) -> Report:
    return run_scan(repo, settings, ScanOptions(use_cache=False, jobs=1))


@pytest.mark.vcr
@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_scan_with_recorded_local_model(provider: str, example_repo: Path, tmp_path: Path) -> None:
    settings = local_settings(provider, tmp_path / "cache")
    report = scan(example_repo, settings)

    assert report.llm.provider == provider
    assert report.stats.llm_calls >= 3  # one per chunk at least, re-asks on top
    assert report.stats.input_tokens > 0
    assert report.llm.status in ("ran", "partial", "failed")
    # Every chunk either gave schema-valid findings or is named with the reason it failed.
    for failed in report.llm.failed_chunks:
        assert ": " in failed and failed.split(": ", 1)[1]
    if report.llm.status != "ran":
        assert report.llm.failed_chunks
    # What the tiny model invented never reaches the report as confirmed without a check:
    llm = [f for f in report.findings + report.suppressed if f.source == "llm"]
    for f in llm:
        assert f.verdict in (Verdict.CONFIRMED, Verdict.REFUTED, Verdict.UNVERIFIABLE)
        if f.verdict == Verdict.REFUTED:
            assert f.reason
    # The deterministic findings are all still there, whatever the model said.
    assert any(f.source == "rule" for f in report.findings)

    # A re-run of the unchanged repository is served from the answer cache: no call at all.
    again = scan(example_repo, settings)
    assert again.stats.llm_calls == 0
    assert again.stats.input_tokens == 0
    assert "answers from cache" in again.llm.message
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in report.findings]
    assert again.llm.failed_chunks == report.llm.failed_chunks
