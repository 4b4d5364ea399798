"""Input tokens a scan's LLM pass would send for a repository, against its source's tokens.

The real pass runs (``analyze.run_llm_pass``: summarizer, chunk budget, prompt templates,
system prompt per request) with a provider that answers every request with an empty,
valid list of findings and calls no model: it counts what each request carries, the system
prompt, the messages and the JSON schema (structured-output APIs bill the schema as input
too), with tiktoken's ``cl100k_base`` (``summarize.count_tokens``). The context window is
gpt-4o-mini's 128k, which gives the summarizer's largest chunks.

"code tok" counts the repository's code as the walker gives it to the collectors (Python,
JavaScript / TypeScript, SQL); "all tok" counts every walked text file (templates, JSON,
Markdown, lockfiles...). The ratio is sent / code tokens, the stricter of the two.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from threatmodel.analyze import run_llm_pass
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.config import Settings
from threatmodel.llm.interface import (
    Message,
    Provider,
    StructuredResponse,
    TextStream,
    Usage,
)
from threatmodel.llm.schema import schema_text
from threatmodel.progress import NullProgress
from threatmodel.scan import ScanOptions, collect_repo_facts
from threatmodel.summarize import count_tokens

CONTEXT_TOKENS = 128_000  # gpt-4o-mini
CODE_LANGUAGES = JS_LANGUAGES | {"python", "sql"}


class CountingProvider(Provider):
    """Answers "no findings" to every request and counts the input tokens it was sent."""

    name = "openai"
    supports_json_schema = True

    def __init__(self) -> None:
        super().__init__("gpt-4o-mini", CONTEXT_TOKENS)
        self.requests = 0
        self.sent = 0

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        tokens = count_tokens(system) + count_tokens(schema_text(schema))
        tokens += sum(count_tokens(m.content) for m in messages)
        self.requests += 1
        self.sent += tokens
        return StructuredResponse(
            data={"findings": []},
            text='{"findings":[]}',
            finish_reason="stop",
            usage=Usage(input_tokens=tokens, output_tokens=5),
        )

    def stream_text(
        self, system: str, messages: Sequence[Message], max_output_tokens: int | None = None
    ) -> TextStream:
        raise NotImplementedError("the scan's LLM pass only makes structured calls")


def token_row(root: Path) -> dict[str, object]:
    """One table row for the repository at ``root``."""
    with tempfile.TemporaryDirectory(prefix="tm-tokens-") as cache:
        settings = Settings(provider=None, cache_dir=Path(cache))
        repo = collect_repo_facts(root, settings, ScanOptions(use_cache=False))
        provider = CountingProvider()
        outcome = run_llm_pass(
            repo.facts, RepoReader(root), settings, NullProgress(), provider=provider
        )
    if outcome.llm_calls != provider.requests:
        raise RuntimeError(f"{root}: {outcome.run.message}")
    code = every = 0
    for rel in repo.walked.files:
        try:
            text = (root / rel).read_text("utf-8", "replace")
        except OSError:
            continue
        tokens = count_tokens(text)
        every += tokens
        if detect_language(rel) in CODE_LANGUAGES:
            code += tokens
    return {
        "app": root.name,
        "files": len(repo.walked.files),
        "routes": len(repo.facts.routes),
        "code tok": code,
        "all tok": every,
        "requests": provider.requests,
        "sent tok": provider.sent,
        "sent / code": provider.sent / code if code else 0.0,
    }


def token_rows(roots: list[Path]) -> list[dict[str, object]]:
    """Rows ordered by code size, so "falling with size" reads top to bottom."""
    rows = [token_row(r) for r in roots]
    return sorted(rows, key=lambda r: (int(str(r["code tok"])), str(r["app"])))
