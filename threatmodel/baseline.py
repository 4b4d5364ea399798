"""Baseline: findings a team has accepted, by fingerprint, with a justification and an expiry.

``.threatmodel/baseline.json`` in the scanned repository (or ``--baseline PATH``)::

    {"version": 1,
     "accepted": [{"fingerprint": "9a9a3e9c486c89f5", "justification": "public by design",
                   "expires": "2026-06-30", "id": "TM-9a9a3e9c", "title": "..."}]}

A finding whose fingerprint is listed is reported as accepted (``accepted: true``, the
justification in ``acceptance``): shown in its own section, a SARIF suppression, and it
does not fail ``--fail-on``. An entry past its ``expires`` date no longer applies: the
finding comes back as new, with a note saying the acceptance expired. Entries that match
no finding are named in a warning so a baseline does not silently rot.

Fingerprints ignore line numbers; a finding whose quote holds a secret is matched by the
fingerprint of its masked form too, since that is the one the JSON and SARIF reports show.

The repository's own file is repository content: in a pull request from a stranger it could
accept the stranger's own finding. Accepted findings therefore stay visible in every report,
and CI that scans untrusted changes should pass ``--baseline`` from the base branch (or
``--no-baseline``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.errors import InputFormatError
from threatmodel.models import Finding, Report
from threatmodel.redact import Redactor

BASELINE_PATH = ".threatmodel/baseline.json"


class BaselineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str = Field(min_length=8)
    justification: str = Field(min_length=1)
    expires: date | None = None
    id: str | None = None  # informational: the finding's id when it was accepted
    title: str | None = None  # informational


class Baseline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    accepted: list[BaselineEntry] = Field(default_factory=list)

    def to_json(self) -> str:
        entries = sorted(self.accepted, key=lambda e: e.fingerprint)
        doc = self.model_copy(update={"accepted": entries}).model_dump(mode="json")
        return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse_baseline(text: str, where: str) -> Baseline:
    try:
        return Baseline.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputFormatError(
            f"{where}: not a threatmodel baseline ({loc}: {first['msg']}); see "
            "`threatmodel baseline --help` for the format."
        ) from None


def load_baseline(path: Path) -> Baseline:
    """A baseline file the user named on the command line."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputFormatError(f"--baseline {path}: {exc.strerror or exc}.") from None
    return parse_baseline(text, str(path))


def load_repo_baseline(reader: RepoReader) -> Baseline | None:
    """The repository's ``.threatmodel/baseline.json`` (read safely), or None when absent."""
    try:
        reader.check(BASELINE_PATH)
        lines = reader.lines(BASELINE_PATH)
    except PathRefused:
        return None
    return parse_baseline("\n".join(lines), BASELINE_PATH)


def fingerprints(finding: Finding, redactor: Redactor) -> set[str]:
    return {finding.fingerprint, redactor.finding(finding).fingerprint}


def apply_baseline(report: Report, baseline: Baseline, today: date | None = None) -> Report:
    """The report with baselined findings marked accepted, and warnings about the baseline."""
    today = today or date.today()
    entries = {e.fingerprint: e for e in baseline.accepted}
    redactor = Redactor(report)
    used: set[str] = set()
    out: list[Finding] = []
    for f in report.findings:
        hits = [entries[fp] for fp in sorted(fingerprints(f, redactor)) if fp in entries]
        match = hits[0] if hits else None
        if match is None:
            out.append(f)
            continue
        used.add(match.fingerprint)
        if match.expires is not None and match.expires < today:
            note = f"baseline acceptance expired on {match.expires}: {match.justification}"
            out.append(f.model_copy(update={"accepted": False, "notes": sorted([*f.notes, note])}))
            continue
        text = match.justification + (f" (until {match.expires})" if match.expires else "")
        out.append(f.model_copy(update={"accepted": True, "acceptance": text}))
    warnings = list(report.warnings)
    expired = sorted(
        e.fingerprint
        for e in baseline.accepted
        if e.fingerprint in used and e.expires is not None and e.expires < today
    )
    if expired:
        warnings.append(f"{len(expired)} baseline acceptances expired: {', '.join(expired)}")
    stale = sorted(set(entries) - used)
    if stale:
        warnings.append(
            f"{len(stale)} baseline entries match no current finding (fixed or changed): "
            + ", ".join(stale)
        )
    return report.model_copy(update={"findings": out, "warnings": warnings})


def resolve_and_apply(
    report: Report, reader: RepoReader, path: Path | None, enabled: bool = True
) -> Report:
    """Apply ``--baseline PATH``, else the repository's own baseline, unless disabled."""
    if not enabled:
        return report
    baseline = load_baseline(path) if path is not None else load_repo_baseline(reader)
    return report if baseline is None else apply_baseline(report, baseline)


def accepted_candidates(doc: object, include_review: bool = False) -> list[BaselineEntry]:
    """(fingerprint, id, title) of the findings in a JSON report or a threatmodel SARIF log.

    Read as plain JSON (not the Report model) so a report from an older or newer version
    still works; only confirmed findings unless ``include_review``.
    """
    found: list[BaselineEntry] = []
    if not isinstance(doc, dict):
        raise InputFormatError("not a threatmodel JSON report or SARIF log (expected an object).")
    if isinstance(doc.get("findings"), list):
        for f in doc["findings"]:
            if not isinstance(f, dict) or not isinstance(f.get("fingerprint"), str):
                continue
            if f.get("verdict") != "confirmed" and not include_review:
                continue
            found.append(_entry(f["fingerprint"], f.get("id"), f.get("title")))
    elif isinstance(doc.get("runs"), list):
        for run in doc["runs"]:
            for r in run.get("results", []) if isinstance(run, dict) else []:
                fp = (r.get("partialFingerprints") or {}).get("threatmodelFingerprint/v1")
                if isinstance(fp, str):
                    props = r.get("properties") or {}
                    text = (r.get("message") or {}).get("text", "")
                    found.append(_entry(fp, props.get("id"), text.split(". ", 1)[0]))
    else:
        raise InputFormatError(
            "not a threatmodel JSON report (no `findings`) nor a SARIF log (no `runs`)."
        )
    return found


def why_none(doc: object, include_review: bool = False) -> str:
    """Why ``accepted_candidates`` found nothing in ``doc``: one clause a user can act on."""
    assert isinstance(doc, dict)  # accepted_candidates refused anything else
    if isinstance(doc.get("findings"), list):
        findings = [f for f in doc["findings"] if isinstance(f, dict)]
        if not findings:
            return "the report has no findings"
        review = sum(1 for f in findings if f.get("verdict") == "unverifiable")
        if review and not include_review:
            return (
                f"the report has no confirmed findings; {review} need review "
                "(--include-review accepts them too)"
            )
        return "its findings have no fingerprint (is it a threatmodel report?)"
    runs = [r for r in doc.get("runs") or [] if isinstance(r, dict)]
    tools = sorted(
        {str(((r.get("tool") or {}).get("driver") or {}).get("name") or "?") for r in runs}
    )
    results = sum(len(r.get("results") or []) for r in runs)
    if results == 0:
        return "the SARIF log has no results"
    return (
        f"its {results} SARIF results (from {', '.join(tools)}) carry no threatmodel "
        "fingerprint; a baseline accepts this tool's findings: run `threatmodel scan "
        "--format json` (or `threatmodel verify` on this log) and pass that report"
    )


def _entry(fp: str, fid: object, title: object) -> BaselineEntry:
    return BaselineEntry(
        fingerprint=fp,
        justification="-",
        id=fid if isinstance(fid, str) and fid else None,
        title=title if isinstance(title, str) and title else None,
    )


def extend_baseline(
    existing: Baseline | None,
    candidates: list[BaselineEntry],
    justification: str,
    expires: date | None = None,
) -> tuple[Baseline, int]:
    """``existing`` plus the candidates it lacks (justified); entries it has are kept as is."""
    kept = {e.fingerprint: e for e in (existing.accepted if existing else [])}
    added = 0
    for c in candidates:
        if c.fingerprint not in kept:
            kept[c.fingerprint] = c.model_copy(
                update={"justification": justification, "expires": expires}
            )
            added += 1
    return Baseline(accepted=sorted(kept.values(), key=lambda e: e.fingerprint)), added
