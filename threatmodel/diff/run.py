"""Run ``threatmodel diff``: facts at two commits, their delta, and the findings it brings.

Both commits are written to a temporary folder (the working tree is never touched; hard
links where it is safe, see gitrefs.link_tree) and scanned with the ordinary pipeline, facts
and rules only. Both scans share one fact cache
(keyed by path and content hash), so the head scan re-parses only the files the change
touched. The LLM pass, when a provider is configured, then runs once, on the head commit,
restricted to the changed components and what they touch, and its findings are verified
like any other. Findings are new, resolved or unchanged by fingerprint; an unchanged one
whose reach or severity grew is escalated and counted with the new ones.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from threatmodel.config import Settings
from threatmodel.delta import DiffReport, RefInfo, classify_findings, compute_delta, escalations
from threatmodel.diff import focus as focus_mod
from threatmodel.diff.gitrefs import (
    GitRepo,
    changed_files,
    export_tree,
    link_tree,
    open_repo,
    remote_slug,
    resolve_ref,
)
from threatmodel.llm.interface import Provider
from threatmodel.models import Finding, Stats
from threatmodel.progress import NullProgress, Progress
from threatmodel.redact import Redactor
from threatmodel.scan import ScanOptions, run_scan, sort_findings


@dataclass(frozen=True)
class DiffOptions:
    base: str
    head: str = "HEAD"
    repo_slug: str | None = None  # OWNER/NAME for links; None: from the origin remote
    server_url: str = "https://github.com"
    scan: ScanOptions = dataclasses.field(default_factory=ScanOptions)


# The settings are resolved against the *base* commit's files: a pull request must not be
# able to point the LLM pass (and the API key sent with it) at a server of its choosing by
# editing [tool.threatmodel] in its own pyproject.toml.
SettingsFor = Callable[[Path], Settings]


def run_diff(
    path: Path,
    options: DiffOptions,
    settings_for: SettingsFor,
    progress: Progress | None = None,
    provider: Provider | None = None,
) -> DiffReport:
    """``provider`` overrides the LLM provider built from the settings (tests, embedding)."""
    progress = progress or NullProgress()
    started = time.monotonic()
    gr = open_repo(path)
    base_sha = resolve_ref(gr, options.base)
    head_sha = resolve_ref(gr, options.head)
    touched = changed_files(gr, base_sha, head_sha)

    # Inside .git when it is writable: hard links need the working tree's file system.
    scratch = gr.repo.git_dir if os.access(gr.repo.git_dir, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="threatmodel-diff-", dir=scratch) as tmp:
        head_dir = link_tree(gr, head_sha, Path(tmp) / "head") or export_tree(
            gr, head_sha, Path(tmp) / "head"
        )
        base_dir = link_tree(gr, base_sha, Path(tmp) / "base", head_dir, touched) or export_tree(
            gr, base_sha, Path(tmp) / "base"
        )
        settings = settings_for(base_dir)
        rules_only = dataclasses.replace(settings, provider=None)
        progress.note(f"scanning base {options.base} ({base_sha[:12]})")
        base = run_scan(base_dir, rules_only, options.scan, progress)
        progress.note(f"scanning head {options.head} ({head_sha[:12]})")
        head = run_scan(head_dir, rules_only, options.scan, progress)
        changes = compute_delta(base.facts, head.facts)
        focus = focus_mod.build_focus(changes, touched, head.facts)
        llm = focus_mod.run_focused_llm(head, head_dir, settings, focus, progress, provider)

    # Evidence quotes the lines it cites, and a secret's line holds its value: mask it now,
    # so neither the comment nor the JSON of a diff can carry it.
    red_base, red_head = Redactor(base), Redactor(head)
    head_findings = [red_head.finding(f) for f in _merge(head.findings, llm.kept)]
    base_findings = [red_base.finding(f) for f in base.findings]
    new, resolved, unchanged = classify_findings(base_findings, head_findings)
    # Already there, but worse now: reported with the new findings (delta/escalation.py).
    worse = escalations(base_findings, unchanged, base.facts, head.facts)
    if worse:
        grown = {e.fingerprint for e in worse}
        new = sort_findings([*new, *(_unaccept(f) for f in unchanged if f.fingerprint in grown)])
        unchanged = [f for f in unchanged if f.fingerprint not in grown]
    warnings = sorted({*base.warnings, *head.warnings, *llm.warnings})
    return DiffReport(
        base=RefInfo(ref=options.base, commit=base_sha),
        head=RefInfo(ref=options.head, commit=head_sha),
        repo=options.repo_slug or remote_slug(gr),
        server_url=options.server_url.rstrip("/"),
        path_prefix=gr.prefix,
        changes=changes,
        changed_files=touched,
        new_findings=new,
        escalated=worse,
        resolved_findings=resolved,
        unchanged_findings=unchanged,
        suppressed=[red_head.finding(f) for f in llm.suppressed],
        llm=llm.run,
        llm_focus=focus_mod.describe_focus(focus),
        stats=Stats(
            llm_calls=llm.llm_calls,
            input_tokens=llm.input_tokens,
            output_tokens=llm.output_tokens,
            cost_usd=round(llm.cost_usd, 6),
            duration_s=round(time.monotonic() - started, 3),
            verifier=llm.verifier,
            files=head.stats.files,
        ),
        warnings=warnings,
    )


def _unaccept(f: Finding) -> Finding:
    """An escalated finding is a risk nobody accepted yet: a baseline entry made for it as it
    was on the base (behind a guard, less severe) does not cover it now."""
    if not f.accepted:
        return f
    note = f"baseline acceptance set aside, the change made it worse: {f.acceptance or ''}"
    return f.model_copy(
        update={"accepted": False, "acceptance": None, "notes": sorted([*f.notes, note])}
    )


def _merge(rule_findings: list[Finding], llm_findings: list[Finding]) -> list[Finding]:
    """Head findings: the rules' plus the verified LLM ones; a rule wins a shared fingerprint."""
    seen = {f.fingerprint for f in rule_findings}
    return rule_findings + [f for f in llm_findings if f.fingerprint not in seen]


__all__ = ["DiffOptions", "GitRepo", "SettingsFor", "run_diff"]
