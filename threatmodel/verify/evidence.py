"""The evidence check every finding passes first, whatever its claims.

Each cited path must resolve inside the repository (refuted without being read otherwise),
the lines must exist, and the quoted snippet must really be there, whitespace-insensitive.
When the quote sits a few lines away from where the finding said, the location is
corrected and the correction noted (``moved`` maps the old start to the new one, so the
claims citing the old line follow). An elided quote ("a ... b") matches when its parts
appear in order. An empty snippet is filled from the file. Claim locations are checked the
same way: inside the repository, and a line the file has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import detect_language, is_line_comment
from threatmodel.models import Claim, Evidence, normalize_snippet
from threatmodel.redact import cap_snippet

NEARBY_LINES = 15  # how far a quote may drift from its cited line and still count


@dataclass
class EvidenceResult:
    ok: bool
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    moved: dict[tuple[str, int], int] = field(default_factory=dict)  # (path, old) -> new line


def check_evidence(items: list[Evidence], reader: RepoReader) -> EvidenceResult:
    checked: list[Evidence] = []
    notes: list[str] = []
    moved: dict[tuple[str, int], int] = {}
    for ev in items:
        try:
            lines = reader.lines(ev.path)
        except PathRefused as exc:
            return EvidenceResult(False, reason=f"evidence path refused: {exc}")
        if ev.start_line > len(lines):
            return EvidenceResult(
                False,
                reason=f"{ev.path} has {len(lines)} lines; evidence cites line {ev.start_line}",
            )
        end = min(max(ev.end_line, ev.start_line), len(lines))
        quote = normalize_snippet(ev.snippet)
        if not quote:
            snippet = cap_snippet("\n".join(lines[ev.start_line - 1 : end]))
            checked.append(ev.model_copy(update={"end_line": end, "snippet": snippet}))
            continue
        span = end - ev.start_line + 1
        found = _find(lines, quote, ev.start_line, span, detect_language(ev.path))
        if found is None:
            return EvidenceResult(
                False,
                reason=f"quoted text not found in {ev.path} near line {ev.start_line}",
            )
        start, stop = found
        if start != ev.start_line:
            notes.append(f"evidence in {ev.path} moved from line {ev.start_line} to {start}")
            moved[(ev.path, ev.start_line)] = start
        checked.append(
            Evidence(
                path=ev.path,
                start_line=start,
                end_line=stop,
                snippet=cap_snippet("\n".join(lines[start - 1 : stop]), _focus(ev.snippet)),
            )
        )
    return EvidenceResult(True, evidence=checked, notes=notes, moved=moved)


def _focus(quote: str) -> str:
    """A piece of the cited quote as written, to keep a cut snippet's window on it."""
    first = quote.split("\n", 1)[0]
    for mark in ELLIPSES:
        first = first.split(mark, 1)[0]
    return first.strip()[:80]


def check_claim_locations(claims: list[Claim], reader: RepoReader) -> str | None:
    """Why a claim's own location is impossible (refused path, line past the end), or None."""
    for claim in claims:
        loc = claim.location
        if loc is None:
            continue
        try:
            lines = reader.lines(loc.path)
        except PathRefused as exc:
            return f"claim location refused: {exc}"
        if loc.line > len(lines):
            return f"{loc.path} has {len(lines)} lines; the claim cites line {loc.line}"
    return None


def _find(
    lines: list[str], quote: str, line: int, span: int, language: str
) -> tuple[int, int] | None:
    """First window (start, end) at or near ``line`` whose normalised text contains ``quote``,
    with or without its comment-only lines (an excerpt leaves them out, so a quote copied
    from one runs over them)."""
    quote_lines = max(1, quote.count("\n") + 1, span)
    order = [line] + [line + d * s for d in range(1, NEARBY_LINES + 1) for s in (-1, 1)]
    for start in order:
        if start < 1 or start > len(lines):
            continue
        for width in range(1, quote_lines + 3):
            stop = min(len(lines), start + width - 1)
            shown = lines[start - 1 : stop]
            bare = [t for t in shown if not is_line_comment(t, language)]
            windows = {normalize_snippet(" ".join(shown)), normalize_snippet(" ".join(bare))}
            if any(_contains(window, quote) for window in windows):
                return _tighten(lines, quote, start, stop, language)
            if stop == len(lines):
                break
    return None


def _tighten(lines: list[str], quote: str, start: int, stop: int, language: str) -> tuple[int, int]:
    """Drop leading lines the quote does not need (windows grow downward from ``start``)."""
    while start < stop and _contains(
        normalize_snippet(
            " ".join(t for t in lines[start:stop] if not is_line_comment(t, language))
        ),
        quote,
    ):
        start += 1
    return start, stop


ELLIPSES = ("...", "\u2026")


def _contains(window: str, quote: str) -> bool:
    """``quote`` is in ``window``; an elided quote's parts must appear in order."""
    if quote in window:
        return True
    parts = [quote]
    for mark in ELLIPSES:
        parts = [p for part in parts for p in part.split(mark)]
    parts = [p.strip() for p in parts if p.strip()]
    if parts == [quote] or sum(len(p) for p in parts) < 12:
        return False  # a quote that is mostly "..." proves nothing
    pos = 0
    for part in parts:
        found = window.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True
