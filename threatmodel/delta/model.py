"""The data of ``threatmodel diff``: an architectural change and the diff report around it.

Pure data importing only ``models``, so it sits in the models layer: ``diff`` computes a
DiffReport and ``render`` prints it without either importing the other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from threatmodel.models import Finding, Frozen, LlmRun, Location, Severity, Stats

Area = Literal[
    "route",
    "middleware",
    "table",
    "policy",
    "bucket",
    "env_var",
    "secret",
    "dependency",
    "setting",
    "sink",
    "db_function",
]
AREA_ORDER: tuple[str, ...] = Area.__args__  # type: ignore[attr-defined]


class Change(Frozen):
    """One architectural change between base and head."""

    area: Area
    action: Literal["added", "removed", "changed"]
    subject: str  # what changed, e.g. "GET /admin/export" or "public.notes: notes are readable"
    detail: str  # how, e.g. "authenticated → public: guard login_required removed"
    risk: bool  # widens the attack surface or weakens a control
    location: Location | None = None
    at: Literal["base", "head"] = "head"  # which commit `location` refers to (base if removed)


class Escalation(Frozen):
    """A finding already on the base that the change made worse (delta/escalation.py)."""

    fingerprint: str
    id: str
    base_severity: Severity  # its severity on the base (the finding shows the head's)
    reason: str  # e.g. "GET /api/search is now public (was authenticated)"


class RefInfo(Frozen):
    ref: str  # as the user named it
    commit: str  # full SHA


class DiffReport(Frozen):
    """What ``threatmodel diff`` found: the delta, the findings it brings, and how it ran."""

    base: RefInfo
    head: RefInfo
    repo: str | None = None  # OWNER/NAME on GitHub, for evidence links; None: relative links
    server_url: str = "https://github.com"
    path_prefix: str = ""  # the scanned folder inside the git repository ("" or "sub/dir/")
    changes: list[Change] = Field(default_factory=list)
    changed_files: list[str] = Field(default_factory=list)
    # The findings the change brings: new ones, and escalated ones (already on the base but
    # reachable by more people or more severe now, see ``escalated``). --fail-on and --sarif
    # count all of them.
    new_findings: list[Finding] = Field(default_factory=list)
    escalated: list[Escalation] = Field(default_factory=list)
    resolved_findings: list[Finding] = Field(default_factory=list)
    unchanged_findings: list[Finding] = Field(default_factory=list)
    suppressed: list[Finding] = Field(default_factory=list)  # refuted LLM claims about the change
    llm: LlmRun = Field(default_factory=lambda: LlmRun(status="skipped"))
    llm_focus: list[str] = Field(default_factory=list)  # what the LLM pass was restricted to
    stats: Stats = Field(default_factory=Stats)
    warnings: list[str] = Field(default_factory=list)

    @property
    def architecture_changed(self) -> bool:
        """False when nothing a threat model cares about changed (styling, docs, tests...)."""
        return bool(self.changes or self.new_findings or self.resolved_findings)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"
