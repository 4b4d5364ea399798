"""Stage health on the terminal, and CI mode: a stage that could not run fails the run.

Every pipeline stage records what it checked (``Report.stages``). This prints them in one
line, prints a loud line per failed stage (even with ``--quiet``: it is an error, not
progress), and in CI mode (``--ci``, or the ``CI`` / ``THREATMODEL_CI`` environment
variable set to a true value, as CI services do) turns a failed stage into exit code 2.
A silently skipped verifier is the worst failure this tool can have.
"""

from __future__ import annotations

import os

from threatmodel.cli._console import err, summary_line
from threatmodel.errors import ProviderError, StageFailed
from threatmodel.models import LlmRun, Report, StageHealth

TRUE = frozenset({"1", "true", "yes", "on"})


def ci_mode(flag: bool) -> bool:
    if flag:
        return True
    return any(os.environ.get(v, "").strip().lower() in TRUE for v in ("CI", "THREATMODEL_CI"))


def stage_line(stages: list[StageHealth]) -> str:
    parts = []
    for s in stages:
        state = "FAILED" if not s.ok else "PARTIAL" if s.partial else "ok"
        if s.stage == "llm" and s.ok and s.checked == 0 and "skipped" in s.message.lower():
            state = "skipped"
        parts.append(f"{s.stage} {s.checked} {state}")
    return "stages: " + ", ".join(parts)


def report_health(stages: list[StageHealth], quiet: bool, ci: bool) -> None:
    """Print stage health; raise StageFailed in CI mode when a stage could not run."""
    failed = [s for s in stages if not s.ok]
    if not quiet:
        err.print(stage_line(stages), markup=False)
    for s in failed:
        err.print(f"STAGE FAILED: {s.stage}: {s.message or 'could not run'}", markup=False)
    for s in stages:
        if s.ok and s.partial:
            err.print(f"STAGE PARTIAL: {s.stage}: {s.message}", markup=False)
    if failed and ci:
        names = ", ".join(s.stage for s in failed)
        raise StageFailed(f"stage(s) {names} could not run completely; failing because of CI mode")


def print_outcome(report: Report) -> None:
    """The run's result on stderr, each thing once: the STAGE lines say what failed."""
    if report.llm.status == "skipped":
        err.print(report.llm.message, markup=False)
    echoed = {f"stage {s.stage} failed: {s.message}" for s in report.stages if not s.ok}
    for w in report.warnings:
        if w not in echoed:
            err.print(f"warning: {w}", markup=False)
    err.print(summary_line(report), markup=False)


def check_provider(llm: LlmRun) -> None:
    """ProviderError when the LLM pass could not analyse a single chunk (README: exit 2)."""
    if llm.status == "failed":
        raise ProviderError(
            f"the LLM provider {llm.provider or ''} could not analyse anything, so the "
            "output holds facts and rules only; check --base-url, --model and the API key, "
            "or pass --provider none."
        )


def finish_run(report: Report, ci: bool, quiet: bool, strict: bool = False) -> None:
    """Stage health, then the exit code the README's table gives (the report is written).

    An LLM pass that could not analyse a single chunk (server unreachable, key rejected,
    model unknown) is a provider error, exit 2 like any other: the user asked for it and did
    not get it. A partial pass fails only with ``--strict``.
    """
    if report.llm.status == "failed":
        report_health(report.stages, quiet, ci=False)
        check_provider(report.llm)
    report_health(report.stages, quiet, ci)
    if strict and report.llm.status == "partial":
        raise StageFailed(
            f"the LLM pass did not complete ({report.llm.message}); failing because of --strict"
        )
