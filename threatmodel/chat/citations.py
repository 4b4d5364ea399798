"""Check the ``path:line`` citations in an LLM answer the way a finding's evidence is checked.

Each citation becomes an Evidence and goes through ``verify.evidence.check_evidence``: the
path must resolve inside the repository (through RepoReader, so a hostile path is refused
before anything is opened), the line must exist, and when the model quoted code right after
the citation (``app.py:52 `db().execute(...)```) the quote must really be there. A citation
that fails is kept and marked with the reason (``mark``), never silently shown as if true.
Paragraphs that make a claim without any citation are counted too.

The citation pattern runs over the model's prose, not over code.
"""

from __future__ import annotations

import re

from threatmodel.chat.types import Citation
from threatmodel.code.reader import RepoReader
from threatmodel.models import Evidence
from threatmodel.verify.evidence import check_evidence

CITATION = re.compile(
    r"(?<![\w/.@-])"
    # a path: a file name with an extension, or any path with a folder (etc/passwd)
    r"((?:[\w@.+-]+/)*[\w@+-][\w@.+-]*\.[A-Za-z0-9]{1,10}|(?:[\w@.+-]+/)+[\w@+-][\w@.+-]*)"
    r":(\d{1,7})(?:\s*[-\u2013]\s*(\d{1,7}))?"  # :line or :start-end
    r"(?:[ \t]*[:(]?[ \t]+`([^`\n]{3,200})`)?"  # an optional `quote` right after
)
MAX_CITATIONS = 60  # a runaway answer is not checked citation by citation forever


def find_citations(text: str) -> list[re.Match[str]]:
    return list(CITATION.finditer(text))[:MAX_CITATIONS]


def check_citations(text: str, reader: RepoReader) -> list[Citation]:
    """Every distinct citation in ``text``, checked, in order of first appearance."""
    out: dict[tuple[str, int, int | None, str], Citation] = {}
    for m in find_citations(text):
        path, start = m.group(1), int(m.group(2))
        end = int(m.group(3)) if m.group(3) else None
        quote = m.group(4) or ""
        key = (path, start, end, quote)
        if key in out:
            continue
        out[key] = check_one(path, start, end, quote, reader)
    return list(out.values())


def check_one(path: str, start: int, end: int | None, quote: str, reader: RepoReader) -> Citation:
    if start < 1:
        return Citation(path, max(start, 1), "failed", end, "line numbers start at 1")
    stop = end if end and end >= start else start
    if stop - start > 200:
        return Citation(path, start, "failed", end, "cites more than 200 lines")
    evidence = Evidence(path=path, start_line=start, end_line=stop, snippet=quote)
    result = check_evidence([evidence], reader)
    if not result.ok:
        reason = result.reason.removeprefix("evidence path refused: ")
        return Citation(path, start, "failed", end, reason)
    checked = result.evidence[0]
    note = "; ".join(result.notes)
    if checked.start_line != start:  # the quote is nearby, not on the cited line
        return Citation(path, start, "failed", end, f"quoted text is at line {checked.start_line}")
    return Citation(path, start, "ok", end, note)


def mark(text: str, citations: list[Citation]) -> str:
    """``text`` with each failed citation followed by ``[unverified: reason]``."""
    failed = {(c.path, c.line): c for c in citations if c.status == "failed"}
    if not failed:
        return text

    def sub(m: re.Match[str]) -> str:
        c = failed.get((m.group(1), int(m.group(2))))
        return f"{m.group(0)} [unverified: {c.reason}]" if c else m.group(0)

    return CITATION.sub(sub, text, count=MAX_CITATIONS)


def uncited_paragraphs(text: str) -> int:
    """Lines that state something (a sentence or more) without a citation; code is skipped.

    Models write one paragraph or list item per line, so a line is the unit of a claim.
    """
    count, in_code = 0, False
    for line in text.splitlines():
        body = line.strip()
        if body.startswith("```"):
            in_code = not in_code
            continue
        if in_code or len(body) < 60 or body.endswith(":"):  # code, a heading or a lead-in
            continue
        if not CITATION.search(body):
            count += 1
    return count
