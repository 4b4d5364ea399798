"""`scan --plan` (no call, the requests as they would be sent, priced) and prompt caching
(a stable system + schema prefix; cached input tokens and their cost in ``stats``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import EXAMPLE, git_repo_copy
from test_analyze import Scripted

from threatmodel.analyze import chunk_prompt, run_llm_pass
from threatmodel.cli import main
from threatmodel.code.reader import RepoReader
from threatmodel.config import ProviderConfig, Settings
from threatmodel.llm.anthropic import AnthropicProvider, _cached_system
from threatmodel.llm.interface import StructuredResponse, Usage
from threatmodel.llm.openai import OpenAIProvider
from threatmodel.llm.pricing import cost_usd, model_info
from threatmodel.plan import plan_llm_pass
from threatmodel.progress import NullProgress
from threatmodel.scan import ScanOptions, collect_repo_facts
from threatmodel.summarize import summarize


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = git_repo_copy(EXAMPLE, tmp_path_factory.mktemp("ex") / "leaky-notes")
    return root, Settings(provider=None, cache_dir=tmp_path_factory.mktemp("c"))


def test_plan_holds_the_requests_exactly_as_sent(repo: tuple[Path, Settings]) -> None:
    root, settings = repo
    # small requests: the example fits in one, and the prefix is cached from the second call
    small = ProviderConfig("anthropic", "claude-sonnet-4-5", chunk_tokens=1000)
    settings = Settings(small, cache_dir=settings.cache_dir)
    collected = collect_repo_facts(root, settings, ScanOptions(jobs=1))
    reader = RepoReader(root)
    plan = plan_llm_pass(collected.facts, reader, settings, collected.walked.files)
    chunks = summarize(collected.facts, reader, plan.budget_tokens, files=collected.walked.files)
    assert [r.prompt for r in plan.requests] == [chunk_prompt(c, []) for c in chunks]
    assert plan.fixed_tokens_per_call > plan.prefix_tokens > 1024  # cacheable prefix
    names = {(e.provider, e.model) for e in plan.estimates}
    assert ("openai", "gpt-5-mini") in names and ("anthropic", "claude-sonnet-4") in names
    n = len(plan.requests)
    assert n >= 2
    for e in plan.estimates:
        # the prefix is read from the cache from the second call on
        assert e.calls == n and e.cached_input_tokens == plan.prefix_tokens * (n - 1)
        assert (
            0
            < e.cost_usd
            < cost_usd(model_info(e.provider, e.model), e.input_tokens, e.output_tokens)
        )


def test_cli_plan_makes_no_call_and_needs_no_key(
    repo: tuple[Path, Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    out = tmp_path / "plan.json"
    args = ["scan", str(root), "--plan", "--provider", "anthropic", "-f", "json", "-o", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--cache-dir", str(tmp_path / "c"), "-q"])
    assert exit_.value.code in (0, None)
    data = json.loads(out.read_text())
    assert data["provider"] == "anthropic" and data["estimates"][0]["configured"] is True
    assert data["requests"] and all(
        r["prompt"].startswith("Component:") or "Overview" in r["prompt"] for r in data["requests"]
    )
    assert not (root / "THREAT_MODEL.md").exists()  # a plan writes no report
    with pytest.raises(SystemExit):
        main(
            ["scan", str(root), "--plan", "--provider", "none", "--cache-dir", str(tmp_path / "c")]
        )
    text = capsys.readouterr().out
    assert "No call was made." in text and "routes in app.py" in text


def test_cached_tokens_are_priced_at_the_cache_rate() -> None:
    info = model_info("openai", "gpt-4o-mini")
    assert cost_usd(info, 2000, 0, cached_tokens=1500) == pytest.approx(
        (500 * 0.15 + 1500 * 0.075) / 1e6
    )
    sonnet = model_info("anthropic", "claude-sonnet-4")
    # a cache write costs more than input, a read much less
    assert cost_usd(sonnet, 2000, 0, cache_write_tokens=2000) > cost_usd(sonnet, 2000, 0)
    assert cost_usd(sonnet, 2000, 0, cached_tokens=2000) < cost_usd(sonnet, 2000, 0) / 5


def test_providers_read_cached_tokens() -> None:
    openai = OpenAIProvider(ProviderConfig("openai", "gpt-4o-mini", api_key="k"))
    details = SimpleNamespace(cached_tokens=1536)
    u = openai._usage(
        SimpleNamespace(prompt_tokens=2000, completion_tokens=10, prompt_tokens_details=details)
    )
    assert u.input_tokens == 2000 and u.cached_input_tokens == 1536 and u.cached_cost_usd > 0
    anthropic = AnthropicProvider(ProviderConfig("anthropic", "claude-sonnet-4-5", api_key="k"))
    raw = SimpleNamespace(
        input_tokens=300,
        output_tokens=5,
        cache_read_input_tokens=1600,
        cache_creation_input_tokens=0,
    )
    v = anthropic._usage(raw)
    assert v.input_tokens == 1900 and v.cached_input_tokens == 1600
    (block,) = _cached_system("system prompt")
    assert block["cache_control"] == {"type": "ephemeral"} and block["text"] == "system prompt"


def test_stats_carry_cached_tokens_and_fixed_overhead(
    repo: tuple[Path, Settings], tmp_path: Path
) -> None:
    root, settings = repo
    facts = collect_repo_facts(root, settings, ScanOptions(jobs=1)).facts

    def answer(system: str, messages: object) -> StructuredResponse:
        data: dict[str, list[object]] = {"findings": []}
        return StructuredResponse(
            data, json.dumps(data), "stop", Usage(2000, 20, 0.001, 1500, 0.0002)
        )

    config = ProviderConfig(
        "openai-compatible", "scripted", "http://x/v1", "k", concurrency=1, chunk_tokens=1000
    )
    out = run_llm_pass(
        facts,
        RepoReader(root),
        Settings(config, cache_dir=tmp_path),
        NullProgress(),
        provider=Scripted(answer),
    )
    assert out.llm_calls >= 2 and out.cached_input_tokens == 1500 * out.llm_calls
    assert out.cached_cost_usd == pytest.approx(0.0002 * out.llm_calls)
    assert out.fixed_tokens_per_call > 1000
