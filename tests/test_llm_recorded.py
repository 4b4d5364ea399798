"""The LLM pass against a real model, replayed from cassettes recorded on loopback.

The cassettes in ``cassettes/test_llm_recorded/`` were recorded from llama.cpp's
``llama-server`` serving SmolLM2-135M-Instruct (both its OpenAI ``/v1/chat/completions``
and its Anthropic ``/v1/messages`` endpoints) by ``scripts/record-cassettes.sh``. The model
is tiny: it answers in the schema (the server enforces it) but hallucinates files, lines
and titles, runs out of output tokens, and ignores a forced tool. That is the point: the
pass must survive all of it, the verifiers must refute the hallucinations, and nothing it
invents may be reported as confirmed.

These cassettes predate the grammar bounds (``schema.wire_schema(True)``: every string and
list bounded, so a looping model's answer ends and parses). They were not re-recorded this
round: under the helpers' load llama-server generated 0.17 tokens/s. What the bounds do to
a looping model is tested with a scripted one in test_llm_schema_bounds.py; once re-recorded
(``scripts/record-cassettes.sh`` on a quiet machine), the openai-compatible run is expected
to end with usable answers and a re-run to make 0 calls, and this test must say so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FIXTURES, git_repo_copy
from llm_cassettes import LLM_MATCH_ON

from threatmodel.config import ProviderConfig, Settings
from threatmodel.models import Report
from threatmodel.scan import ScanOptions, run_scan

LOCAL = "http://127.0.0.1:8088"
MODEL = "SmolLM2-135M-Instruct"
# Two routes, two chunks: recording on CPU runs at about one token a second under load.
TINY = FIXTURES / "llm" / "tiny"
TINY_SECRET = "sk_live_51TinyPlantedZ9xW8vU7tS6rQ5pO4nM3lK2jI1hG0f"


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, object]) -> dict[str, object]:
    # Replay only, unless scripts/record-cassettes.sh re-records on purpose.
    return {
        **vcr_config,
        "match_on": LLM_MATCH_ON,
        "allow_playback_repeats": True,  # the re-run asks the failed chunks again
        "record_mode": os.environ.get("THREATMODEL_RECORD", "none"),
    }


def local_settings(provider: str, cache_dir: Path, **budget: float | int | None) -> Settings:
    config = ProviderConfig(
        name=provider,
        model=MODEL,
        base_url=f"{LOCAL}/v1" if provider == "openai-compatible" else LOCAL,
        api_key="not-needed",
        timeout_s=2400,  # a 135M model on two shared cores is slow; replay is instant
        max_retries=0,
        concurrency=2,
        context_tokens=8192,
        # As recorded. A re-recording should give a bounded answer of a looping model room
        # (8 short findings are about 2k tokens): raise this to 2048 then.
        max_output_tokens=700,
    )
    return Settings(
        provider=config,
        cache_dir=cache_dir,
        max_tokens=budget.get("max_tokens"),  # type: ignore[arg-type]
        max_cost_usd=budget.get("max_cost"),  # type: ignore[arg-type]
    )


def scan(repo: Path, settings: Settings) -> Report:
    return run_scan(repo, settings, ScanOptions(use_cache=False, jobs=1))


# What SmolLM2-135M really does with each API (see the cassettes): under the server's JSON
# grammar it loops until the output limit; asked for a forced tool on /v1/messages it
# chats in plain text instead, until the output limit. Both end as "cut off".
RECORDED_PROBLEM = {
    "openai-compatible": "cut off at the output limit",
    "anthropic": "cut off at the output limit",
}


@pytest.mark.vcr
@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_scan_with_recorded_local_model(provider: str, tmp_path: Path) -> None:
    repo = git_repo_copy(TINY, tmp_path / "tiny")
    settings = local_settings(provider, tmp_path / "cache")
    report = scan(repo, settings)

    assert report.llm.provider == provider
    assert report.stats.input_tokens > 0
    # Every chunk was asked, re-asked twice with the problem, then recorded as failed by name:
    # no crash, and the rest of the report (facts, rules, verification) is all there.
    assert report.stats.llm_calls == 2 * 3
    assert report.llm.status == "failed"
    assert [f.split(": ", 1)[0] for f in report.llm.failed_chunks] == [
        "cross-component",
        "routes in app.py#1",
    ]
    for failed in report.llm.failed_chunks:
        assert RECORDED_PROBLEM[provider] in failed and "after 2 re-asks" in failed
    assert not [f for f in report.findings + report.suppressed if f.source == "llm"]
    assert any(r.id == "GET /notes/search" for r in report.facts.routes)
    assert any(f.source == "rule" for f in report.findings)

    # Failed answers are not cached (llm/cache.py keeps usable answers only), so a re-run
    # asks those chunks again instead of replaying the failure forever; same model, same
    # result. (A re-run where every chunk was usable makes no call: test_llm_authored.py.)
    again = scan(repo, settings)
    assert again.llm.failed_chunks == report.llm.failed_chunks
    assert again.stats.llm_calls == report.stats.llm_calls
