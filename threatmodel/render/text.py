"""Markdown-safe text: table cells, free text, code fences and links to repository lines.

Everything a report quotes comes from the scanned repository or from an LLM that read it, so
it is untrusted: it may carry raw HTML, a link or image to a stranger's site, a fake heading
that forges a section of the report, or a code fence that swallows the rest of the document.
These helpers keep such text inert while leaving ordinary prose and `code` readable.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import quote

# Markdown that opens a block at the start of a line (headings, fences, tables, setext
# underlines, rules): escaped there so untrusted text cannot forge a section of the report.
# Lists stay: numbered attacker steps should render as a list.
_LINE_START = re.compile(
    r"^([ \t]*)(#|```|~~~|\||=+[ \t]*$|-{2,}[ \t]*$|\*{3,}[ \t]*$)", re.MULTILINE
)
_BACKTICK_RUN = re.compile(r"`+")

LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "jsx",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".sql": "sql",
    ".json": "json",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".toml": "toml",
    ".html": "html",
    ".env": "dotenv",
    ".sh": "shell",
    ".rb": "ruby",
    ".go": "go",
    ".java": "java",
    ".php": "php",
}


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and markup escaped."""
    text = " ".join(str(value).split())
    return _escape_inline(text).replace("|", "\\|")


def md_code_cell(value: object) -> str:
    """A table cell holding code (a route path, a policy expression) as an inline code span."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return code_span(text)


def code_span(text: str) -> str:
    """An inline code span that survives backticks inside ``text``."""
    longest = max((len(m) for m in _BACKTICK_RUN.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_text(value: object) -> str:
    """Free prose (an attack story, a mitigation, a reason) with structure and links disarmed.

    Inline code and emphasis stay; HTML, links, images and block openers are escaped, and a
    line that would open a code fence is escaped so the rest of the report stays intact.
    """
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _escape_inline(text)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)


def _escape_inline(text: str) -> str:
    # Square brackets make links and images; angle brackets make HTML and autolinks.
    return (
        text.replace("\\", "\\\\")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("[", "\\[")
        .replace("]", "\\]")
    )


def fence(snippet: str, path: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in the snippet."""
    longest = max((len(m) for m in _BACKTICK_RUN.findall(snippet)), default=0)
    ticks = "`" * max(3, longest + 1)
    lang = LANGUAGES.get(posixpath.splitext(path)[1].lower(), "")
    if posixpath.basename(path).startswith(".env"):
        lang = "dotenv"
    body = snippet.replace("\r\n", "\n").rstrip("\n")
    return f"{ticks}{lang}\n{body}\n{ticks}"


def line_anchor(start: int, end: int | None = None) -> str:
    """GitHub's line anchor: ``#L5`` or ``#L5-L9``."""
    if end is None or end <= start:
        return f"#L{start}"
    return f"#L{start}-L{end}"


def repo_link(base: str, path: str, start: int, end: int | None = None) -> str:
    """A Markdown link to ``path`` lines, relative to where the report is written.

    ``base`` is the repository root as seen from the report's folder ("" when the report is
    written at the root). Path characters are percent-encoded so a file name with spaces,
    parentheses or brackets cannot break or redirect the link.
    """
    target = posixpath.join(base, path) if base else path
    anchor = line_anchor(start, end)
    label = f"{path}{anchor}".replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    label = label.replace("`", "'").replace("<", "&lt;")
    # A file name may hold a line break: shown raw it would end the link text and let the
    # rest of the name open a heading or break a table row.
    label = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in label)
    return f"[{label}]({quote(target, safe='/._-~')}{anchor})"


def heading_anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


_SLUG_SAFE = re.compile(r"[a-z0-9][a-z0-9_-]*")


def finding_anchor(finding_id: str) -> str:
    """The HTML id (and ``#fragment``) of a finding: slug-safe, distinct for distinct ids.

    Ids come from other tools too (``python.hardcoded#0.2``); a ``#`` or ``.`` in a fragment
    breaks the link. A slug-safe id is kept (lower case, as ``tm-1a2b3c4d``); any other gets
    its characters folded to dashes plus a short hash of the original, so two ids that fold
    alike still get different anchors.
    """
    low = finding_id.lower()
    if _SLUG_SAFE.fullmatch(low):
        return low
    slug = re.sub(r"[^a-z0-9_-]+", "-", low).strip("-")[:60] or "finding"
    return f"{slug}-{hashlib.sha256(finding_id.encode()).hexdigest()[:6]}"
