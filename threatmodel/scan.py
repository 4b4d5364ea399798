"""The scan pipeline: walk, collect, rules, LLM pass, verify; returns a Report.

This is the one place the layers are composed; ``cli`` calls it and renders the result.
Stage health is recorded for every stage so a stage that could not run is visible in the
report and fails the run in CI mode instead of silently thinning the results.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from threatmodel import __version__
from threatmodel.analyze import run_llm_pass
from threatmodel.baseline import resolve_and_apply
from threatmodel.collect import CollectResult, collect_facts
from threatmodel.collect.cache import FactCache
from threatmodel.collect.reader import RepoReader
from threatmodel.collect.scope import ScopeConfig
from threatmodel.collect.walk import DEFAULT_MAX_FILE_BYTES, NOT_UTF8_NAME, WalkResult, walk
from threatmodel.config import Settings, repo_table
from threatmodel.models import Facts, FileStats, Finding, RepoInfo, Report, StageHealth, Stats
from threatmodel.progress import NullProgress, Progress
from threatmodel.rules import RuleContext
from threatmodel.rules.interface import run_rules_checked
from threatmodel.verify import VerifyContext, verify_findings
from threatmodel.verify._rank import fix_first_key


@dataclass(frozen=True)
class ScanOptions:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    jobs: int | None = None
    use_cache: bool = True
    baseline: Path | None = None  # None: the repository's .threatmodel/baseline.json
    use_baseline: bool = True


def git_commit(root: Path) -> str | None:
    """HEAD's commit id, or None outside a git checkout (no GitPython import on the hot path)."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def assign_ids(findings: list[Finding]) -> list[Finding]:
    """Stable ids from fingerprints for findings that came without one."""
    return [f if f.id else f.model_copy(update={"id": f"TM-{f.fingerprint[:8]}"}) for f in findings]


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per fingerprint; a rule's finding wins over an LLM duplicate."""
    best: dict[str, Finding] = {}
    for f in findings:
        cur = best.get(f.fingerprint)
        if cur is None or (cur.source != "rule" and f.source == "rule"):
            best[f.fingerprint] = f
    return list(best.values())


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Fix-first order (verify/_rank.py): severity, reachability, confidence; never by title."""
    return sorted(findings, key=fix_first_key)


@dataclass
class CollectedRepo:
    """The facts of a repository and the health of the stages that produced them."""

    facts: Facts
    walked: WalkResult
    collected: CollectResult
    stages: list[StageHealth]


def collect_repo_facts(
    root: Path,
    settings: Settings,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
) -> CollectedRepo:
    """Walk and collect: the facts every later stage (rules, verify, ``threatmodel verify``) uses.

    A collector whose link phase crashed turns the collect stage red: its facts are missing,
    and verifiers would otherwise refute true claims for want of them.
    """
    options = options or ScanOptions()
    progress = progress or NullProgress()
    progress.start("walk")
    walked = walk(root, options.max_file_bytes)
    progress.finish()
    cache = FactCache(settings.cache_dir) if options.use_cache else None
    try:
        collected = collect_facts(
            root, walked.files, cache=cache, jobs=options.jobs, progress=progress
        )
    finally:
        if cache is not None:
            cache.close()
    broken = [n for n in collected.not_parsed if n.startswith("(collector ")]
    stages = [
        StageHealth(stage="walk", ok=True, checked=len(walked.files)),
        StageHealth(
            stage="collect",
            ok=not broken,
            checked=collected.files_parsed,
            message="; ".join(broken) or f"{len(collected.not_parsed)} files not parsed",
        ),
    ]
    return CollectedRepo(collected.facts, walked, collected, stages)


def run_scan(
    root: Path,
    settings: Settings,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    on_collected: Callable[[CollectedRepo], None] | None = None,
) -> Report:
    """Scan ``root``; ``on_collected`` sees the walked and collected repository (its digests)."""
    options = options or ScanOptions()
    progress = progress or NullProgress()
    started = time.monotonic()
    stages: list[StageHealth] = []

    repo = collect_repo_facts(root, settings, options, progress)
    if on_collected is not None:
        on_collected(repo)
    walked, collected, facts = repo.walked, repo.collected, repo.facts
    stages.extend(repo.stages)

    reader = RepoReader(root)
    rule_findings, rule_errors = run_rules_checked(facts, RuleContext(root=root, reader=reader))
    stages.append(
        StageHealth(
            stage="rules",
            ok=not rule_errors,
            checked=len(rule_findings),
            message="; ".join(rule_errors),
        )
    )

    llm = run_llm_pass(facts, reader, settings, progress)
    stages.append(
        StageHealth(
            stage="llm",
            # "failed": not one chunk analysed, the stage could not run (CI mode fails it).
            # "partial" (some chunks failed, or the user's budget was reached) is reported
            # loudly and fails the run only with --strict.
            ok=llm.run.status != "failed",
            partial=llm.run.status == "partial",
            checked=len(llm.findings),
            message=llm.run.message,
        )
    )

    progress.start("verify", len(rule_findings) + len(llm.findings))
    candidates = assign_ids(dedupe(rule_findings + llm.findings))
    scope = ScopeConfig.from_table(repo_table(root))
    outcome = verify_findings(candidates, VerifyContext(facts=facts, reader=reader, scope=scope))
    progress.finish()
    stages.append(outcome.health)

    warnings = []
    if collected.not_parsed:
        shown = ", ".join(collected.not_parsed[:3])
        more = f" (+{len(collected.not_parsed) - 3} more)" if len(collected.not_parsed) > 3 else ""
        warnings.append(f"{len(collected.not_parsed)} files not parsed: {shown}{more}")
    # Not analysed and not nameable in the report's paths: say so, or it is a place to hide.
    odd = [s.rsplit(": ", 1)[0] for s in walked.skipped if s.endswith(f": {NOT_UTF8_NAME}")]
    if odd:
        more = f" (+{len(odd) - 3} more)" if len(odd) > 3 else ""
        warnings.append(
            f"{len(odd)} files not analysed, their names are not valid UTF-8: "
            f"{', '.join(odd[:3])}{more}"
        )
    warnings += collected.warnings
    warnings += [f"stage {s.stage} failed: {s.message}" for s in stages if not s.ok]
    # Name every chunk the LLM pass could not analyse, so a partial report says what it lacks.
    warnings += [f"LLM chunk not analysed: {c}" for c in llm.run.failed_chunks]

    report = Report(
        tool={"name": "threatmodel", "version": __version__},
        repo=RepoInfo(root=str(root), commit=git_commit(root)),
        facts=facts,
        findings=sort_findings(outcome.kept),
        suppressed=sort_findings(outcome.suppressed),
        stats=Stats(
            llm_calls=llm.llm_calls,
            input_tokens=llm.input_tokens,
            output_tokens=llm.output_tokens,
            cost_usd=round(llm.cost_usd, 6),
            duration_s=round(time.monotonic() - started, 3),
            verifier=outcome.stats,
            files=FileStats(
                scanned=len(walked.files),
                skipped=len(walked.skipped),
                not_parsed=collected.not_parsed,
            ),
        ),
        llm=llm.run,
        stages=stages,
        warnings=warnings,
    )
    # Accepted findings (baseline.py) stay in the report, marked, so they remain visible.
    return resolve_and_apply(report, reader, options.baseline, options.use_baseline)
