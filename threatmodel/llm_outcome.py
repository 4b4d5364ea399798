"""What the LLM pass returns (``analyze.run_llm_pass``), in a module of its own.

A scan without a provider never runs the pass, so it never imports it: ``analyze`` brings
in the prompt templates (jinja2), the answer schema and the chunk builder, 0.06-0.09 s of a
warm scan's start-up that such a scan would spend for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.config import Settings
from threatmodel.models import Finding, LlmRun


@dataclass
class AnalyzeOutcome:
    findings: list[Finding] = field(default_factory=list)
    run: LlmRun = field(default_factory=lambda: LlmRun(status="skipped"))
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0  # answers served from the cache (no call made)
    chunks: int = 0
    cached_input_tokens: int = 0  # prompt tokens the provider read from its prompt cache
    cached_cost_usd: float = 0.0
    fixed_tokens_per_call: int = 0  # system prompt, schema and prompt template of a call


def skipped(settings: Settings) -> AnalyzeOutcome:
    """The pass when no provider is configured: nothing asked, the reason recorded."""
    return AnalyzeOutcome(run=LlmRun(status="skipped", message=settings.skip_reason))
