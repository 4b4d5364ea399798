"""The LLM pass of `threatmodel diff`: only the changed components, fewer tokens, verified.

The provider is an in-memory test double (no network, no model): it records every prompt it
is sent, answers with a scripted LlmAnswer, and reports as input tokens the tiktoken count of
what it was sent, so the token comparison measures the prompts themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from diff_support import History, scripted_history

from threatmodel.analyze import run_llm_pass
from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings, resolve_settings
from threatmodel.delta import DiffReport
from threatmodel.diff import DiffOptions, run_diff
from threatmodel.llm.interface import Message, Provider, StructuredResponse, TextStream, Usage
from threatmodel.progress import NullProgress
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.summarize import count_tokens

# A claim the verifiers must refute: GET /api/notes is guarded by login_required.
REFUTABLE = {
    "findings": [
        {
            "title": "Notes list readable without login",
            "severity": "high",
            "stride": ["information_disclosure"],
            "cwe": ["CWE-306"],
            "claims": [
                {
                    "kind": "route_unauthenticated",
                    "route": {"method": "GET", "path": "/api/notes"},
                    "table": None,
                    "location": None,
                    "name": None,
                }
            ],
            "evidence": [
                {"path": "app.py", "start_line": 41, "end_line": 42, "snippet": "def list_notes():"}
            ],
            "attack": "Fetch /api/notes without a session.",
            "mitigation": "Add login_required.",
        }
    ]
}


class ScriptedProvider(Provider):
    name = "openai-compatible"
    supports_json_schema = True

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("scripted-test-double", context_tokens=32_000)
        self.answer = answer
        self.prompts: list[str] = []

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        prompt = system + "\n" + "\n".join(m.content for m in messages)
        self.prompts.append(prompt)
        usage = Usage(input_tokens=count_tokens(prompt), output_tokens=50)
        return StructuredResponse(self.answer, "{}", "stop", usage)

    def stream_text(
        self, system: str, messages: Sequence[Message], max_output_tokens: int | None = None
    ) -> TextStream:
        raise AssertionError("diff never streams")

    @property
    def input_tokens(self) -> int:
        return sum(count_tokens(p) for p in self.prompts)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return scripted_history(tmp_path_factory.mktemp("hist") / "leaky-notes")


def settings_in(cache: Path):  # type: ignore[no-untyped-def]
    def settings_for(base_tree: Path) -> Settings:
        return resolve_settings(base_tree, provider="none", cache_dir=cache, env={})

    return settings_for


def diff(h: History, base: str, head: str, tmp: Path, provider: Provider) -> DiffReport:
    options = DiffOptions(base=base, head=head, scan=ScanOptions(jobs=1))
    return run_diff(h.repo, options, settings_in(tmp / "cache"), provider=provider)


def test_css_only_change_makes_no_llm_call(history: History, tmp_path: Path) -> None:
    provider = ScriptedProvider({"findings": []})
    report = diff(history, history.c2, history.c3, tmp_path, provider)
    assert provider.prompts == []
    assert report.llm.status == "skipped" and "not needed" in report.llm.message
    assert report.stats.input_tokens == 0


def test_policy_change_sends_only_the_changed_table(history: History, tmp_path: Path) -> None:
    provider = ScriptedProvider({"findings": []})
    report = diff(history, history.c1, history.c2, tmp_path, provider)
    assert report.llm.status == "ran"
    sent = "\n".join(provider.prompts)
    assert "payments" in sent
    # The app.py component (handler bodies) was not sent, only its one-line cross summary.
    assert "LIKE '%{q}%'" not in sent and "DELETE FROM notes" not in sent
    assert report.llm_focus == [
        "file supabase/migrations/0003_share_payments.sql",
        "table payments",
    ]
    assert report.stats.input_tokens == provider.input_tokens > 0


def test_llm_claims_on_the_change_are_verified(history: History, tmp_path: Path) -> None:
    provider = ScriptedProvider(REFUTABLE)
    report = diff(history, history.c0, history.c1, tmp_path, provider)
    assert "purge_notes" in "\n".join(provider.prompts)  # the new handler was shown
    assert [f.title for f in report.suppressed] == ["Notes list readable without login"]
    assert all(f.source == "rule" for f in report.new_findings)


def test_small_change_costs_a_fraction_of_a_full_scan(history: History, tmp_path: Path) -> None:
    small = ScriptedProvider({"findings": []})
    diff(history, history.c1, history.c2, tmp_path, small)
    full = ScriptedProvider({"findings": []})
    settings = settings_in(tmp_path / "cache")(history.repo)
    scan = run_scan(history.repo, settings, ScanOptions(jobs=1))
    run_llm_pass(scan.facts, RepoReader(history.repo), settings, NullProgress(), provider=full)
    # Even on this tiny app: no more calls (a full scan of it is one routes request, its
    # setup filling the room, and the overview), and a fraction of the tokens (the fixed
    # system prompt of each call is most of what remains).
    assert len(small.prompts) <= len(full.prompts)
    assert 0 < small.input_tokens < full.input_tokens * 0.75
