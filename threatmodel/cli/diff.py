"""`threatmodel diff --base REF --head REF [PATH]`: what a change does to the threat model.

Prints the pull-request comment (Markdown) or the diff as JSON; with ``--post`` it posts or
updates the one marked comment on the GitHub pull request instead. ``--fail-on`` gates on the
findings the change introduces, ``--sarif`` writes them for code scanning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from threatmodel import tally
from threatmodel.cli import _options as opt
from threatmodel.cli._console import (
    RichProgress,
    check_output,
    err,
    parse_severity,
    write_output,
)
from threatmodel.cli._health import check_provider
from threatmodel.cli._options import settings_from_options
from threatmodel.code.walk import resolve_root
from threatmodel.config import Settings, default_cache_dir
from threatmodel.delta import DiffReport
from threatmodel.diff import DiffOptions, run_diff
from threatmodel.diff.github import post_comment, resolve_target
from threatmodel.errors import UsageError
from threatmodel.models import Facts, RepoInfo, Report
from threatmodel.render.pr_comment import MARKER, render_pr_comment, verdict
from threatmodel.render.sarif import render_sarif
from threatmodel.scan import ScanOptions

FORMATS = ("md", "json")


def diff(
    base: Annotated[str, typer.Option(help="Base commit, branch or tag (the PR's target).")],
    head: Annotated[str, typer.Option(help="Head commit, branch or tag (the PR's tip).")] = "HEAD",
    path: Annotated[Path, typer.Argument(help="Repository (or a folder inside it).")] = Path("."),
    post: Annotated[
        bool, typer.Option("--post", help="Post or update the PR comment instead of printing.")
    ] = False,
    repo: Annotated[
        str | None, typer.Option(help="OWNER/NAME on GitHub (default: GITHUB_REPOSITORY).")
    ] = None,
    pr: Annotated[
        int | None,
        typer.Option(
            help="Pull request number (default: from GITHUB_EVENT_PATH).",
            callback=opt.at_least_one,
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 on a new or escalated confirmed finding at or above this severity: "
            "critical, high, medium, low or info."
        ),
    ] = None,
    sarif: Annotated[
        Path | None,
        typer.Option(help="Also write the new and escalated findings as SARIF 2.1.0 to this file."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="md (the comment) or json; SARIF: --sarif FILE.")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: stdout).")
    ] = None,
    provider: opt.Provider = None,
    model: opt.Model = None,
    base_url: opt.BaseUrl = None,
    max_cost: opt.MaxCost = None,
    max_tokens: opt.MaxTokens = None,
    cache_dir: opt.CacheDir = None,
    no_cache: opt.NoCache = False,
    jobs: opt.Jobs = None,
    quiet: opt.Quiet = False,
) -> None:
    """Describe what changed in the architecture between two commits, for a pull request."""
    threshold = parse_severity(fail_on)
    if fmt == "sarif":
        raise UsageError(
            "diff --format is md (the comment) or json; for SARIF of the new findings add "
            "--sarif FILE (e.g. --sarif threatmodel.sarif), it is written next to the comment."
        )
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose md or json (and --sarif FILE for SARIF).")
    check_output(out)
    check_output(sarif, "--sarif")
    root = resolve_root(path)
    target = resolve_target(repo, pr) if post else None  # fail before the slow part
    cache = cache_dir or default_cache_dir(root)  # one cache for both commits

    def settings_for(base_tree: Path) -> Settings:
        return settings_from_options(
            base_tree, provider, model, base_url, cache, max_cost=max_cost, max_tokens=max_tokens
        )

    options = DiffOptions(
        base=base,
        head=head,
        repo_slug=repo or os.environ.get("GITHUB_REPOSITORY") or None,
        server_url=os.environ.get("GITHUB_SERVER_URL") or "https://github.com",
        scan=ScanOptions(jobs=jobs, use_cache=not no_cache),
    )
    report = run_diff(root, options, settings_for, RichProgress(quiet=quiet))

    text = render_pr_comment(report) if fmt == "md" else report.to_json()
    if target is not None:
        body = render_pr_comment(report)
        result = post_comment(target, body, MARKER, create=report.architecture_changed)
        if not quiet:
            where = f"{target.repo}#{target.pr}"
            msg = {
                "created": f"posted a comment on {where}: {result.url or result.comment_id}",
                "updated": f"updated the comment on {where}: {result.url or result.comment_id}",
                "skipped": f"architecture unchanged: nothing posted on {where}",
            }[result.action]
            err.print(msg, markup=False)
        if out is not None:
            write_output(text, out)
    else:
        write_output(text, out)
    if sarif is not None:
        write_output(render_sarif(_new_findings_report(report, root)), sarif, "--sarif")
    if not quiet:
        if report.llm.status != "ran":
            err.print(report.llm.message, markup=False)
        for w in report.warnings:
            err.print(f"warning: {w}", markup=False)
        err.print(verdict(report).replace("**", ""), markup=False)
    check_provider(report.llm)
    if tally.fails(report.new_findings, threshold):
        raise typer.Exit(1)


def _new_findings_report(report: DiffReport, root: Path) -> Report:
    """A Report holding only the findings the change introduces (what SARIF should flag)."""
    return Report(
        repo=RepoInfo(root=str(root), commit=report.head.commit),
        facts=Facts(),
        findings=report.new_findings,
        llm=report.llm,
    )


def register(app: typer.Typer) -> None:
    app.command()(diff)
