"""The scan pipeline: walk, collect, rules, LLM pass, verify; returns a Report.

This is the one place the layers are composed; ``cli`` calls it and renders the result.
Stage health is recorded for every stage so a stage that could not run is visible in the
report and fails the run in CI mode instead of silently thinning the results.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from threatmodel import __version__
from threatmodel.baseline import resolve_and_apply
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import detect_language
from threatmodel.code.walk import (
    DEFAULT_MAX_FILE_BYTES,
    NO_REPO_COMMANDS,
    NOT_UTF8_NAME,
    WalkResult,
    walk,
)
from threatmodel.collect import CollectResult, collect_facts
from threatmodel.collect.bundles import scan_bundles
from threatmodel.collect.cache import FactCache
from threatmodel.collect.proof import ProveOptions, attach, prove, sql_projects
from threatmodel.collect.registry import all_collectors
from threatmodel.collect.scope import ScopeConfig
from threatmodel.config import Settings, repo_table
from threatmodel.llm_outcome import AnalyzeOutcome, skipped
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
    # RLS proof on a real PostgreSQL (collect/proof/)
    prove: ProveOptions = field(default_factory=ProveOptions)


def git_commit(root: Path) -> str | None:
    """HEAD's commit id, or None outside a git checkout (no GitPython import on the hot path)."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *NO_REPO_COMMANDS, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _llm_pass(
    facts: Facts, reader: RepoReader, settings: Settings, progress: Progress, files: list[str]
) -> AnalyzeOutcome:
    """The LLM pass; without a provider its modules are not even imported (see llm_outcome)."""
    if settings.provider is None:
        return skipped(settings)
    from threatmodel.analyze import run_llm_pass

    return run_llm_pass(facts, reader, settings, progress, files=files)


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
            root,
            walked.files,
            cache=cache,
            jobs=options.jobs,
            progress=progress,
            scope=ScopeConfig.from_table(repo_table(root)),  # which files are test code
        )
    finally:
        if cache is not None:
            cache.close()
    broken = [n for n in collected.not_parsed if n.startswith("(collector ")]
    nothing = nothing_to_scan(walked)
    stages = [
        StageHealth(
            stage="walk",
            # An empty folder (or one of only skipped files) is not a clean repository: the
            # stage fails, so every output says nothing was scanned and CI mode fails.
            ok=not nothing,
            checked=len(walked.files),
            message=nothing,
        ),
        StageHealth(
            stage="collect",
            ok=not broken,
            checked=collected.files_parsed,
            message="; ".join(broken) or f"{len(collected.not_parsed)} files not parsed",
        ),
    ]
    return CollectedRepo(collected.facts, walked, collected, stages)


def nothing_to_scan(walked: WalkResult) -> str:
    """Why nothing walked can be scanned, or "" when some file is code a collector reads.

    A collector that wants any file at all (the prompt-injection check reads every text file)
    does not make a folder of READMEs and images a scanned repository.
    """
    readers = [c for c in all_collectors() if not c.wants("notes.txt", "text")]
    if any(any(c.wants(f, detect_language(f)) for c in readers) for f in walked.files):
        return ""
    # No root in the text: the report holds the path as typed (render/stable.py).
    if walked.files:
        n = len(walked.files)
        shown = ", ".join(walked.files[:3]) + (" ..." if n > 3 else "")
        what = "the only file" if n == 1 else f"none of the {n} files"
        verb = "is not" if n == 1 else "is"
        return (
            f"nothing was scanned: {what} ({shown}) {verb} code, SQL or configuration "
            "threatmodel reads"
        )
    if walked.skipped:
        shown = ", ".join(walked.skipped[:3]) + (" ..." if len(walked.skipped) > 3 else "")
        return f"nothing was scanned: every file was skipped ({shown})"
    return "nothing was scanned: the folder holds no file"


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

    # Built browser bundles are skipped by the walk (generated) and usually git-ignored:
    # read from disk for keys that must never ship (collect/bundles.py).
    bundled = scan_bundles(root)
    if bundled:
        facts = facts.model_copy(update={"secrets": [*facts.secrets, *bundled]})

    proof = None
    if any(t.source == "sql" for t in facts.tables):
        progress.start("prove")
        proved = prove(root, sql_projects(root, walked.files), options.prove)
        progress.finish()
        facts, proof = attach(facts, proved)
        stages.append(
            StageHealth(
                stage="prove",
                ok=True,  # without a database the static reading stands; the warning says so
                partial=proof.status == "unavailable",
                checked=sum(1 for t in facts.tables if t.proof is not None),
                message=proof.message,
            )
        )

    reader = RepoReader(root, files=walked.files)
    rule_findings, rule_errors = run_rules_checked(facts, RuleContext(root=root, reader=reader))
    stages.append(
        StageHealth(
            stage="rules",
            ok=not rule_errors,
            checked=len(rule_findings),
            message="; ".join(rule_errors),
        )
    )

    llm = _llm_pass(facts, reader, settings, progress, walked.files)
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
    if proof is not None and proof.status == "unavailable":
        warnings.append(proof.message)
    if proof is not None and proof.skipped:
        warnings.append(
            f"proof: {len(proof.skipped)} migration statements failed on {proof.database} "
            f"and were skipped (first: {proof.skipped[0]})"
        )
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
            cached_input_tokens=llm.cached_input_tokens,
            cached_input_cost_usd=round(llm.cached_cost_usd, 6),
            fixed_tokens_per_call=llm.fixed_tokens_per_call,
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
        proof=proof,
    )
    # Accepted findings (baseline.py) stay in the report, marked, so they remain visible.
    return resolve_and_apply(report, reader, options.baseline, options.use_baseline)
