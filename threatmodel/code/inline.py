"""The JavaScript a server-rendered view runs in the browser: its inline ``<script>`` blocks.

A view (EJS, Handlebars) is HTML with template tags; its ``<script>`` elements are browser
code like any ``.js`` file (a DOM writer fed by the app's API is a stored XSS there). The
script is cut out in place: every character outside the blocks becomes a space (line breaks
kept, so lines and columns are the view's own), and each template tag inside a block becomes
``null`` padded to its length (``var admin = <%= isAdmin %>;`` stays a statement). A block
with a ``src`` or a non-JavaScript ``type`` (a JSON or template payload) is left out.
"""

from __future__ import annotations

import re

from threatmodel.code.source import SourceFile

VIEW_SUFFIXES = (".ejs", ".hbs", ".handlebars")
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
JS_TYPES = frozenset({"text/javascript", "application/javascript", "module", "text/ecmascript"})
TAG = re.compile(r"<%.*?%>|\{\{\{?.*?\}?\}\}", re.S)


def is_view(path: str) -> bool:
    return path.lower().endswith(VIEW_SUFFIXES)


def script_source(src: SourceFile) -> SourceFile | None:
    """``src``'s inline scripts as a JavaScript file of the same path and lines, or None."""
    text = src.text
    out = [c if c == "\n" else " " for c in text]
    found = False
    for m in SCRIPT.finditer(text):
        attrs = m.group(1)
        kind = TYPE.search(attrs)
        if re.search(r"\bsrc\s*=", attrs, re.I) or (kind and kind.group(1).lower() not in JS_TYPES):
            continue
        start = m.start(2)
        body = TAG.sub(_null, m.group(2))
        out[start : start + len(body)] = body
        found = found or bool(body.strip())
    return SourceFile(src.path, "".join(out), "javascript") if found else None


def _null(m: re.Match[str]) -> str:
    """A template tag as a constant of its length (its line breaks kept)."""
    tag = m.group()
    flat = re.sub(r"[^\n]", " ", tag)
    return "null" + flat[4:] if len(tag) >= 4 and "\n" not in tag[:4] else flat
