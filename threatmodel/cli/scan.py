"""`threatmodel scan PATH`: write THREAT_MODEL.md (or JSON / SARIF) for a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from threatmodel import tally
from threatmodel.baseline import load_baseline
from threatmodel.cli import _options as opt
from threatmodel.cli._console import (
    RichProgress,
    check_output,
    err,
    parse_severity,
    write_output,
)
from threatmodel.cli._health import ci_mode, finish_run, print_outcome
from threatmodel.cli._options import settings_from_options
from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import resolve_root
from threatmodel.collect.proof import ProveOptions
from threatmodel.config import Settings
from threatmodel.errors import ConfigError, UsageError
from threatmodel.render import FORMATS, render
from threatmodel.render.formats import link_base_for
from threatmodel.render.stable import display_name, root_label, stable_report
from threatmodel.report_cache import scan_and_store
from threatmodel.scan import ScanOptions, collect_repo_facts

DEFAULT_OUT = {"md": "THREAT_MODEL.md", "json": "threatmodel.json", "sarif": "threatmodel.sarif"}


def scan(
    path: Annotated[Path, typer.Argument(help="Repository to scan.")] = Path("."),
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file, '-' for stdout (default: THREAT_MODEL.md, threatmodel.json or "
            "threatmodel.sarif in the current folder, by --format).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or sarif.")] = "md",
    provider: opt.Provider = None,
    model: opt.Model = None,
    base_url: opt.BaseUrl = None,
    max_cost: opt.MaxCost = None,
    max_tokens: opt.MaxTokens = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 on a confirmed, not accepted finding at or above this severity: "
            "critical, high, medium, low or info."
        ),
    ] = None,
    template: Annotated[
        Path | None, typer.Option(help="Jinja2 template for the Markdown report.")
    ] = None,
    cache_dir: opt.CacheDir = None,
    no_cache: opt.NoCache = False,
    no_prove: Annotated[
        bool,
        typer.Option(
            "--no-prove",
            help="Do not prove RLS on a real PostgreSQL (the static reading of migrations only).",
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Prove on your own local PostgreSQL (a Unix socket or loopback URL) instead of "
            "the embedded one; scratch databases are created in it and dropped.",
        ),
    ] = None,
    allow_remote_db: Annotated[
        bool,
        typer.Option(help="Let --database-url name a host that is not this machine."),
    ] = False,
    jobs: opt.Jobs = None,
    quiet: opt.Quiet = False,
    ci: opt.Ci = False,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Accepted findings (default: .threatmodel/baseline.json in the repo)."),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Ignore every baseline; report all findings.")
    ] = False,
    timings: Annotated[
        bool, typer.Option("--timings", help="Record stats.duration_s (output then varies).")
    ] = False,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan",
            help="Make no LLM call: print the requests the LLM pass would send (titles, "
            "tokens) and their estimated cost for the configured model and alternatives. "
            "With --format json, write the requests exactly as they would be sent.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 when the LLM pass or another stage did not complete (failed chunks, "
            "budget reached); the partial report is written first. CI mode (--ci, CI=true) "
            "fails only on a stage that could not run at all.",
        ),
    ] = False,
) -> None:
    """Scan a repository and write its threat model (THREAT_MODEL.md by default)."""
    threshold = parse_severity(fail_on)
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    target = out if out is not None else Path(DEFAULT_OUT[fmt])
    check_output(target)  # a bad --out fails now, not after the scan
    if template is not None and not template.is_file():
        raise UsageError(f"--template {template}: no such file.")
    root = resolve_root(path)
    settings = settings_from_options(
        root,
        provider,
        model,
        base_url,
        cache_dir,
        max_cost=max_cost,
        max_tokens=max_tokens,
        need_key=not plan,
    )
    if plan:
        _plan(root, settings, fmt, out, jobs, not no_cache, quiet)
        return
    if baseline is not None and not no_baseline:
        load_baseline(baseline)  # fail on a bad file before the scan, not after it
    progress = RichProgress(quiet=quiet)
    # scan_and_store also keeps the Report for `threatmodel ask` (skipped with --no-cache).
    report = scan_and_store(
        root,
        settings,
        ScanOptions(
            jobs=jobs,
            use_cache=not no_cache,
            baseline=baseline,
            use_baseline=not no_baseline,
            prove=ProveOptions(
                enabled=not no_prove, database_url=database_url, allow_remote=allow_remote_db
            ),
        ),
        progress,
    )
    # Byte-identical reports: root as given, no duration unless --timings (render/stable.py);
    # Markdown links relative to the folder the report is written to.
    report = stable_report(report, root_label(path), timings)
    text = render(
        report,
        fmt,
        template=template,
        link_base=link_base_for(root, target),
        name=display_name(root),
    )
    write_output(text, target)
    if not quiet:
        print_outcome(report)
        if str(target) != "-":
            err.print(f"wrote {target}", markup=False)
    finish_run(report, ci_mode(ci) or strict, quiet, strict)
    if tally.fails(report.findings, threshold):
        raise typer.Exit(1)


def _plan(
    root: Path,
    settings: Settings,
    fmt: str,
    out: Path | None,
    jobs: int | None,
    use_cache: bool,
    quiet: bool,
) -> None:
    """`scan --plan`: collect, build the requests, print or write them; no LLM call."""
    if fmt not in ("md", "json"):
        raise ConfigError("--plan writes text (the default) or --format json.")
    progress = RichProgress(quiet=quiet)
    repo = collect_repo_facts(root, settings, ScanOptions(jobs=jobs, use_cache=use_cache), progress)
    from threatmodel.plan import plan_llm_pass, plan_text  # the LLM pass's code: only here

    planned = plan_llm_pass(
        repo.facts, RepoReader(root, files=repo.walked.files), settings, repo.walked.files
    )
    write_output(planned.to_json() if fmt == "json" else plan_text(planned), out or Path("-"))
    if not quiet and out is not None and str(out) != "-":
        err.print(f"wrote {out}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(scan)
