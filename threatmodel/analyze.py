"""The LLM pass: summaries in, candidate findings out (verified later, never trusted).

``run_llm_pass`` turns the facts into token-budgeted chunks (summarize.py), asks the
configured provider for findings in the structured Finding shape, and returns them with
token and cost accounting. With no provider it returns at once, saying how to enable it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.collect.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.models import Facts, Finding, LlmRun
from threatmodel.progress import Progress


@dataclass
class AnalyzeOutcome:
    findings: list[Finding] = field(default_factory=list)
    run: LlmRun = field(default_factory=lambda: LlmRun(status="skipped"))
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def run_llm_pass(
    facts: Facts, reader: RepoReader, settings: Settings, progress: Progress
) -> AnalyzeOutcome:
    if settings.provider is None:
        return AnalyzeOutcome(run=LlmRun(status="skipped", message=settings.skip_reason))
    raise NotImplementedError("the LLM pass lands with issue 6")
