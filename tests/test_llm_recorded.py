"""The LLM pass against a real model, replayed from cassettes recorded on loopback.

The cassettes in ``cassettes/test_llm_recorded/`` were recorded from llama.cpp's
``llama-server`` serving SmolLM2-135M-Instruct (its OpenAI ``/v1/chat/completions`` and its
Anthropic ``/v1/messages`` endpoints) by ``scripts/record-cassettes.sh``. The model is tiny:
it answers in the schema (the server enforces it) but hallucinates files, lines and titles,
runs out of output tokens, and ignores a forced tool. That is the point: the pass must
survive all of it, the verifiers must refute the hallucinations, nothing it invents may be
reported as confirmed, and a re-run of the same model on the same inputs makes no call
(every chunk's exchange ended, answered or failed after both re-asks, and is cached whole).

``RECORDED`` says, per provider, when its cassette was recorded, with which output limit
and what the model did; the test asserts exactly that. The replay makes no request the
cassette does not hold (``allow_playback_repeats`` is off), so the second run's zero calls
are counted on the cassette too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, git_repo_copy
from llm_cassettes import LLM_MATCH_ON

from threatmodel.analyze import MAX_REASKS
from threatmodel.config import ProviderConfig, Settings
from threatmodel.models import Report, Verdict
from threatmodel.scan import ScanOptions, run_scan

LOCAL = "http://127.0.0.1:8088"
MODEL = "SmolLM2-135M-Instruct"
# Two routes, one request (the overview ends it: chunk_overview.join_overview): recording
# on CPU runs at a few tokens a second under load.
TINY = FIXTURES / "llm" / "tiny"
CHUNK = "routes in app.py#1"


@dataclass(frozen=True)
class Recorded:
    """What one cassette holds: how it was recorded and what the model did."""

    when: str
    output_limit: int
    # per chunk: None when it was answered (its findings then go to the verifiers), else the
    # problem of its last answer, after MAX_REASKS re-asks
    outcome: dict[str, str | None]
    calls: int


RECORDED = {
    # Recorded 2026-12-08 again (round 16: the configuration chunk lists dependencies, quiet
    # routes share a line) with the grammar caps (300 characters a string, 4 findings, 2 items
    # a list) and 1536 output tokens: 1 call, answered in 347 tokens: "How an attacker can
    # abuse this component", two code_injection claims whose route path, table and location
    # path are "GET" / "POST", evidence in a file "repeats_to_public", CWE "repudiation".
    # Every claim is made up and the verifiers refute it. (Round 13's prompt: 1 call, a
    # default_credentials claim; round 12's: 2 calls, the first cut off.)
    "openai-compatible": Recorded("2026-12-08", 1536, {CHUNK: None}, calls=1),
    # Recorded 2026-12-08 again (round 16): asked for a forced tool on /v1/messages, it
    # answered in plain text each time and was cut off at the 700-token limit each time
    # ("This component can be used for custom actions. You can create a new route with a
    # custom action..."), re-asked twice: never a tool call. (Round 13: plain text, its
    # last answer short enough to end.) The Anthropic schema carries no string lengths, so
    # the grammar caps do not change its request.
    "anthropic": Recorded("2026-12-08", 700, {CHUNK: "cut off at the output limit"}, calls=3),
}


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, object]) -> dict[str, object]:
    # Replay only, unless scripts/record-cassettes.sh re-records on purpose.
    return {
        **vcr_config,
        "match_on": LLM_MATCH_ON,
        "allow_playback_repeats": False,  # a request asked twice would be a second call
        "record_mode": os.environ.get("THREATMODEL_RECORD", "none"),
    }


def local_settings(provider: str, cache_dir: Path) -> Settings:
    config = ProviderConfig(
        name=provider,
        model=MODEL,
        base_url=f"{LOCAL}/v1" if provider == "openai-compatible" else LOCAL,
        api_key="not-needed",
        timeout_s=2400,  # a 135M model on two shared cores is slow; replay is instant
        max_retries=0,
        concurrency=2,
        context_tokens=8192,
        max_output_tokens=RECORDED[provider].output_limit,
    )
    return Settings(provider=config, cache_dir=cache_dir)


def scan(repo: Path, settings: Settings) -> Report:
    return run_scan(repo, settings, ScanOptions(use_cache=False, jobs=1))


def requests_seen(cassette: Any) -> int:
    """Requests that reached the cassette: replayed ones, plus new ones when recording."""
    return int(cassette.play_count) + len(cassette)


@pytest.mark.vcr
@pytest.mark.parametrize("provider", sorted(RECORDED))
def test_scan_with_recorded_local_model(provider: str, tmp_path: Path, vcr: Any) -> None:
    recorded = RECORDED[provider]
    repo = git_repo_copy(TINY, tmp_path / "tiny")
    settings = local_settings(provider, tmp_path / "cache")
    report = scan(repo, settings)

    assert report.llm.provider == provider
    assert report.stats.input_tokens > 0
    # The run completes: every chunk was answered, or asked, re-asked twice with the problem
    # and then named as failed; the rest of the report (facts, rules, verification) is there.
    failed = {f.split(": ", 1)[0]: f for f in report.llm.failed_chunks}
    for chunk, problem in recorded.outcome.items():
        if problem is None:
            assert chunk not in failed
        else:
            assert problem in failed[chunk] and f"after {MAX_REASKS} re-asks" in failed[chunk]
    assert set(failed) <= set(recorded.outcome)
    answered = [c for c, p in recorded.outcome.items() if p is None]
    assert report.llm.status == ("failed" if not answered else "partial" if failed else "ran")
    assert report.stats.llm_calls == recorded.calls
    assert recorded.calls >= len(answered) + (MAX_REASKS + 1) * len(failed)
    assert any(r.id == "GET /notes/search" for r in report.facts.routes)
    assert any(f.source == "rule" for f in report.findings)
    # Whatever the tiny model said went through the verifiers: nothing it made up is
    # reported as confirmed.
    llm = [f for f in report.findings + report.suppressed if f.source == "llm"]
    assert not [f for f in llm if f.verdict == Verdict.CONFIRMED]
    assert bool(llm) == bool(answered)
    # SmolLM2 cites files that do not exist: each of its findings is refuted, with a reason.
    assert all(f.verdict == Verdict.REFUTED and f.reason for f in llm)

    # The same model on the same inputs: every exchange replays from the answer cache, the
    # failures too, so the re-run makes no call and says the same.
    seen = requests_seen(vcr)
    again = scan(repo, settings)
    assert again.stats.llm_calls == 0
    assert requests_seen(vcr) == seen
    assert again.llm.failed_chunks == report.llm.failed_chunks
    assert sorted(f.title for f in again.findings + again.suppressed if f.source == "llm") == (
        sorted(f.title for f in llm)
    )
