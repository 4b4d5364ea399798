"""The LLM pass of a diff: only the changed components and what they touch, then verified.

A small pull request should cost a small number of tokens, so the pass is restricted to the
routes, tables and files the change touched (``analyze.run_llm_pass(focus=...)`` keeps only
the summary chunks that mention them). When nothing architectural changed and no source file
was touched, the pass does not run at all. Its findings go through the same verifiers as a
full scan's, against the head commit's facts and files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from threatmodel.analyze import run_llm_pass
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import detect_language
from threatmodel.config import Settings
from threatmodel.delta import Change
from threatmodel.llm.interface import Provider
from threatmodel.models import Facts, Finding, LlmRun, Report, VerifierStats
from threatmodel.progress import Progress
from threatmodel.scan import assign_ids, dedupe, sort_findings
from threatmodel.summarize import Focus
from threatmodel.verify import VerifyContext, verify_findings


def describe_focus(focus: Focus) -> list[str]:
    """What the pass was restricted to, for the comment's "how this was checked"."""
    return sorted(
        [f"route {r}" for r in focus.routes]
        + [f"table {t}" for t in focus.tables]
        + [f"file {f}" for f in focus.files]
    )


def build_focus(changes: list[Change], touched: list[str], head: Facts) -> Focus:
    """Changed routes and tables, plus the touched files a collector reads (not CSS, not docs).

    A route whose handler file was touched is in focus even when its facts did not change:
    a new SQL string built from the request changes no route, yet is exactly what to review.
    """
    code = {p for p in touched if detect_language(p) != "other"}
    routes = {c.subject for c in changes if c.area == "route" and c.action != "removed"}
    routes |= {r.id for r in head.routes if r.location.path in code}
    tables = {
        c.subject.split(": ", 1)[0]
        for c in changes
        if c.area in ("table", "policy") and c.action != "removed"
    }
    files = code | {c.location.path for c in changes if c.location is not None and c.at == "head"}
    return Focus(frozenset(routes), frozenset(tables), frozenset(files))


@dataclass
class FocusedOutcome:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    run: LlmRun = field(default_factory=lambda: LlmRun(status="skipped"))
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    verifier: VerifierStats = field(default_factory=VerifierStats)
    warnings: list[str] = field(default_factory=list)


def run_focused_llm(
    head: Report,
    head_dir: Path,
    settings: Settings,
    focus: Focus,
    progress: Progress,
    provider: Provider | None = None,
) -> FocusedOutcome:
    """``provider`` overrides the one built from ``settings`` (tests, embedding)."""
    if provider is not None:
        name, model = provider.name, provider.model
    elif settings.provider is not None:
        name, model = settings.provider.name, settings.provider.model
    else:
        return FocusedOutcome(run=LlmRun(status="skipped", message=settings.skip_reason))
    if focus.empty():
        return FocusedOutcome(
            run=LlmRun(
                status="skipped",
                provider=name,
                model=model,
                message="LLM pass not needed: no component the threat model covers changed.",
            )
        )
    reader = RepoReader(head_dir)
    # Setup, output and configuration chunks look only at the files the change touched.
    llm = run_llm_pass(
        head.facts,
        reader,
        settings,
        progress,
        focus=focus,
        provider=provider,
        files=sorted(focus.files),
    )
    candidates = assign_ids(dedupe(llm.findings))
    outcome = verify_findings(candidates, VerifyContext(facts=head.facts, reader=reader))
    warnings = [] if outcome.health.ok else [f"stage verify failed: {outcome.health.message}"]
    return FocusedOutcome(
        kept=sort_findings(outcome.kept),
        suppressed=sort_findings(outcome.suppressed),
        run=llm.run,
        llm_calls=llm.llm_calls,
        input_tokens=llm.input_tokens,
        output_tokens=llm.output_tokens,
        cost_usd=llm.cost_usd,
        verifier=outcome.stats,
        warnings=warnings,
    )
