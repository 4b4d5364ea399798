"""`threatmodel verify FINDINGS --repo PATH`: check findings from any source against the code.

FINDINGS is this tool's JSON report (an object with ``findings``), a bare JSON array of
findings, or a SARIF 2.1.0 log from another tool. The repository's facts are collected
first (cached like ``scan``), then every finding goes through the same evidence check and
claim verifiers as a scan. Each finding keeps its ``id`` and lands in ``findings``
(confirmed / unverifiable) or ``suppressed`` (refuted, with the reason). The verdicts are
printed to stderr; the report (md, json or sarif) goes to ``--out`` or stdout.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from threatmodel import __version__
from threatmodel.cli import _options as opt
from threatmodel.cli._console import RichProgress, check_output, err, write_output
from threatmodel.cli._health import ci_mode, report_health
from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import resolve_root
from threatmodel.config import resolve_settings
from threatmodel.errors import UsageError
from threatmodel.models import (
    Facts,
    FileStats,
    Finding,
    LlmRun,
    RepoInfo,
    Report,
    StageHealth,
    Stats,
    Verdict,
    VerifierStats,
)
from threatmodel.render import FORMATS, render
from threatmodel.scan import ScanOptions, collect_repo_facts, git_commit, sort_findings
from threatmodel.verify import VerifyContext, verify_findings
from threatmodel.verify.inputs import Loaded, load_findings

NO_LLM = "threatmodel verify runs no LLM: every verdict comes from the code and its facts."


def verify(
    findings: Annotated[Path, typer.Argument(help="Findings: JSON report, JSON array or SARIF.")],
    repo: Annotated[Path, typer.Option("--repo", help="Repository the findings are about.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or sarif.")] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: stdout).")
    ] = None,
    cache_dir: opt.CacheDir = None,
    no_cache: opt.NoCache = False,
    quiet: opt.Quiet = False,
    ci: opt.Ci = False,
) -> None:
    """Verify findings from any tool against the repository's code."""
    started = time.monotonic()
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    check_output(out)
    try:
        text = findings.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read findings file {findings}: {exc}") from None
    root = resolve_root(repo)
    settings = resolve_settings(root, cache_dir=cache_dir)
    progress = RichProgress(quiet=quiet)
    collected = collect_repo_facts(root, settings, ScanOptions(use_cache=not no_cache), progress)
    source, loaded = load_findings(text, root, collected.facts)
    report = verify_loaded(loaded, collected.facts, root, collected.stages)
    files = FileStats(
        scanned=len(collected.walked.files),
        skipped=len(collected.walked.skipped),
        not_parsed=collected.collected.not_parsed,
    )
    report = report.model_copy(
        update={
            "stats": report.stats.model_copy(update={"duration_s": _since(started), "files": files})
        }
    )
    write_output(render(report, fmt, kind="verify"), out)
    if not quiet:
        for f in [*report.findings, *report.suppressed]:
            why = f": {f.reason}" if f.reason else ""
            err.print(f"{f.id} {f.verdict.value}{why}", markup=False)
        s = report.stats.verifier
        err.print(
            f"{s.checked} findings from {source} input: {s.confirmed} confirmed, "
            f"{s.unverifiable} need review, {s.refuted} refuted",
            markup=False,
        )
    report_health(report.stages, quiet, ci_mode(ci))


def verify_loaded(
    loaded: list[Loaded], facts: Facts, root: Path, stages: list[StageHealth]
) -> Report:
    """Verify loaded findings and build the report (facts as collected from ``root``)."""
    pre_refuted = [
        item.finding.model_copy(update={"verdict": Verdict.REFUTED, "reason": item.refute})
        for item in loaded
        if item.refute
    ]
    todo = [item for item in loaded if not item.refute]
    outcome = verify_findings(
        [item.finding for item in todo], VerifyContext(facts=facts, reader=RepoReader(root))
    )
    unknown = {item.finding.id: item.unknown_kinds for item in todo if item.unknown_kinds}
    kept = [_unknown_kinds(f, unknown.get(f.id, [])) for f in outcome.kept]
    everything = [*kept, *outcome.suppressed, *pre_refuted]
    counts = {v: sum(1 for f in everything if f.verdict is v) for v in Verdict}
    return Report(
        tool={"name": "threatmodel", "version": __version__},
        repo=RepoInfo(root=str(root), commit=git_commit(root)),
        facts=facts,
        findings=sort_findings(kept),
        suppressed=sort_findings([*outcome.suppressed, *pre_refuted]),
        stats=Stats(
            verifier=VerifierStats(
                checked=len(everything),
                confirmed=counts[Verdict.CONFIRMED],
                refuted=counts[Verdict.REFUTED],
                unverifiable=counts[Verdict.UNVERIFIABLE],
            )
        ),
        llm=LlmRun(status="skipped", message=NO_LLM),
        stages=[*stages, outcome.health],
        warnings=[f"stage {s.stage} failed: {s.message}" for s in stages if not s.ok],
    )


def _unknown_kinds(f: Finding, kinds: list[str]) -> Finding:
    """A finding with claims of kinds nobody can check is at best unverifiable."""
    if not kinds:
        return f
    reason = f"no verifier for claim kind {', '.join(sorted(set(kinds)))}"
    if f.verdict is Verdict.CONFIRMED or not f.claims:
        return f.model_copy(update={"verdict": Verdict.UNVERIFIABLE, "reason": reason})
    return f


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def register(app: typer.Typer) -> None:
    app.command()(verify)
