"""The cross-component overview: one line per fact, for threats that span components.

Routes are grouped by declaring file and auth, one entry each: a route a component request
already holds by its id and line (its code and handler line are in that request); a route
left out of the component requests with its declaration's code (its whole summary). The global
middleware and settings are left to the setup request when it holds them.

Cut to the budget saying so (and in ``left_out``), the least cross-component lines first:
the lines of routes no request holds (a quiet page: no dangerous call, flow, table or write
method), then the grouped routes, and only then tables, buckets, env vars and secrets, which
are what the overview's question is about. (Cut from the end of one list, a large app's
quiet routes, sorted first, had left no room for any of its tables or env vars.) Lines
marked as changed under review are kept.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace

from threatmodel.chunk_builder import ChunkBuilder, count_tokens
from threatmodel.chunk_pack import TAIL_SLACK, Chunk, Focus
from threatmodel.models import Secret
from threatmodel.summary_text import global_text
from threatmodel.words import plural

# Heads the overview where it ends a component request's data (analyze_chunk.j2 asks its
# question).
OVERVIEW_HEAD = "overview of the whole application:"


def join_overview(
    chunks: list[Chunk],
    overview: Chunk,
    budget: int,
    inner: Callable[[Chunk], str] | None = None,
) -> list[Chunk]:
    """The overview as the end of one request's data when both fit one budget, else as a
    request of its own: the last request, or failing that the one with the most room (a
    last request filled by the setup sections, an earlier one a component ended early).
    ``inner``: the overview as the end of a given request (without what that request says
    already: ``cross_text(ends=...)``), when it differs.

    A request of its own pays the fixed prompt (~2k tokens) again for a few hundred tokens
    of overview: on a small app (one component request) the pass is then two requests
    where one holds everything; its question is asked in that one request instead."""
    if not chunks:
        return [overview]
    roomiest = min(range(len(chunks)), key=lambda i: (chunks[i].tokens, -i))
    for i in dict.fromkeys([len(chunks) - 1, roomiest]):
        host = chunks[i]
        tail = overview.data if inner is None else inner(host) or "(every fact is said above)"
        data = f"{host.data}\n\n{OVERVIEW_HEAD}\n{tail}"
        tokens = count_tokens(data)
        # The slack the packer gives a request's tail (``TAIL_SLACK``): a few hundred
        # tokens of overview cost less in a request than the fixed prompt of their own.
        if tokens <= budget + budget // TAIL_SLACK:
            # ``routes`` and ``tables`` stay the ones whose code the request holds (``ask``
            # ranks chunks by them); the overview names every other by a line
            joined = replace(host, data=data, tokens=tokens, overview=True)
            return [*chunks[:i], joined, *chunks[i + 1 :]]
    return [*chunks, overview]


def secret_lines(secrets: Iterable[Secret]) -> list[str]:
    """One line per hardcoded secret value: its name, kind and every place it is written
    (``a.py:3, 9; b.py:4``). Not its fingerprint, which the model cannot use: the places of
    one value share a line (a key pasted in three files is one line), which says what the
    fingerprint said. Values of one name and kind written once each in one file share a
    line too (``password (2 values) at views.py:831, 833``: ten test passwords are one
    line, not ten). The value itself is never known here (the system prompt says so)."""
    places: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(dict)
    for s in sorted(secrets, key=lambda s: (s.location.path, s.location.line)):
        at = places[(s.name, s.kind, s.fingerprint)]
        at.setdefault(s.location.path, []).append(str(s.location.line))
    # each value written once, by name, kind and file: its line
    single: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for (name, kind, _fp), at in places.items():
        if sum(map(len, at.values())) == 1:
            ((path, lines),) = at.items()
            single[(name, kind, path)] += lines
    out = []
    for (name, kind, _fp), at in places.items():
        said = name if kind == name else f"{name} ({kind})"
        if sum(map(len, at.values())) > 1:
            where = "; ".join(f"{path}:{', '.join(lines)}" for path, lines in at.items())
            out.append(f"hardcoded secret {said} (the same value) at {where}")
            continue
        ((path, (line,)),) = at.items()
        lines = single[(name, kind, path)]
        if lines[0] == line:  # said once, at the first of the file's values
            each = f" ({len(lines)} values)" if len(lines) > 1 else ""
            out.append(f"hardcoded secret {said}{each} at {path}:{', '.join(lines)}")
    return out


def cross_text(
    b: ChunkBuilder,
    focus: Focus | None,
    budget: int,
    held: set[str],
    setup_sent: bool,
    left_out: list[str] | None = None,
    ends: Chunk | None = None,
) -> str:
    """One line per fact; routes a component request holds (``held``) grouped by file and
    auth, one short entry each (their code and handler line are in that request); the
    global middleware and settings only when no setup request holds them (``setup_sent``).

    ``ends``: the request this overview would end (``join_overview``). What it says already
    is not said again: its routes (each with its auth and code), its tables (with their
    row-level security), the env vars its configuration section names. A route registered
    twice at one line (one blueprint mounted by two entry points: ids ``GET /a`` and
    ``GET /a #2``) is one entry: the second says nothing the first does not."""
    facts = b.facts
    here = set(ends.routes) if ends is not None else set()
    said = ends.data if ends is not None else ""
    entries: set[tuple[str, str, str]] = set()  # (file, auth, entry) already listed
    # routes no request holds, each with its declaration's line, as ``entry\0file\0auth``
    # (two files may hold the same entry: a module copied into two folders)
    quiet: list[str] = []
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in sorted(facts.routes, key=lambda r: (r.path, r.method)):
        mark = "* " if focus is not None and r.id in focus.routes else ""
        auth = r.auth.status.value + (f" via {r.auth.mechanism}" if r.auth.mechanism else "")
        if r.id in held and not mark and not r.registered_again:
            short = f"{r.method} {r.path} :{r.location.line}"
            if r.id not in here and (r.location.path, auth, short) not in entries:
                entries.add((r.location.path, auth, short))
                grouped[(r.location.path, auth)].append(short)
            continue
        # The declaration's line of code, so a finding can cite it (analyze_cross.j2 says
        # so); for a route left out of the component chunks this line is its whole summary.
        # Grouped by file and auth like the held routes: the path and the auth are said once.
        line = b.at(r.location).removeprefix(r.location.path)
        head = f"{mark or '  '}{r.method} {r.path} {line}"
        if not r.registered_again and (r.location.path, auth, head) in entries:
            continue
        entries.add((r.location.path, auth, head))
        entry = [head if not r.registered_again else f"{mark or '  '}{r.id} {line}"]
        entry += [f"    {r.id} registered again at {b.at(loc)}" for loc in r.registered_again]
        quiet.append("\0".join(["\n".join(entry), r.location.path, auth]))
    held_lines = [
        f"routes declared in {path} with auth {auth} (shown in a component request): "
        + ", ".join(ids)
        for (path, auth), ids in sorted(grouped.items())
    ]
    fact_lines: list[str] = []
    for t in sorted(facts.tables, key=lambda t: t.name):
        mark = "* " if focus is not None and t.name in focus.tables else ""
        if not mark and ends is not None and t.name in ends.tables:
            continue
        rls = {True: "on", False: "OFF", None: "n/a"}[t.rls_enabled]
        open_ = sorted(p.name for p in t.policies if p.permissive)
        fact_lines.append(
            f"{mark}table {t.name}: rls {rls}, {plural(len(t.policies), 'policy')}"
            + (f", permissive: {', '.join(open_)}" if open_ else "")
            + f"; defined at {b.at(t.location)}"
        )
    fact_lines += [
        f"bucket {k.name}: public={k.public} at {b.at(k.location)}"
        for k in sorted(facts.buckets, key=lambda k: k.name)
    ]
    fact_lines += [
        f"env var {e.name}"
        + (" (exposed to the browser)" if e.client_exposed else "")
        + (f" read at {b.at(e.locations[0], code=False)}" if e.locations else "")
        for e in sorted(facts.env_vars, key=lambda e: e.name)
        if not re.search(rf"^env var {re.escape(e.name)}(?:[ ;]|$)", said, re.M)
    ]
    fact_lines += secret_lines(facts.secrets)
    glob = "" if setup_sent else global_text(facts)
    parts = [quiet, held_lines, fact_lines]  # cut in this order (see the module docstring)
    total = sum(map(len, parts))

    def text_of(cut: int) -> str:
        tail = [f"... (overview cut to fit: {cut} lines left out)"] if cut else []
        lines = [*_quiet_groups(quiet), *held_lines, *fact_lines, *tail]
        return "\n".join(lines + ([glob] if glob else []))

    text = text_of(0)
    for part in parts:
        changed = [x for x in part if x.startswith("* ")]
        while count_tokens(text) > budget and len(part) > len(changed):
            rest = [x for x in part if not x.startswith("* ")]
            part[:] = changed + rest[: len(rest) * 3 // 4]  # keep the head of each list
            text = text_of(total - sum(map(len, parts)))
    kept = sum(map(len, parts))
    if kept < total and left_out is not None:
        left_out.append(
            f"{total - kept} of the overview's {total} lines (routes no request holds first, "
            "then routes grouped by file, then tables, env vars, secrets): more than one "
            "request holds"
        )
    return text


def _quiet_groups(entries: list[str]) -> list[str]:
    """The routes no request holds under one line per declaring file and auth."""
    by: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in entries:
        text, path, auth = e.split("\0")
        by[(path, auth)].append(text)
    out: list[str] = []
    for (path, auth), group in sorted(by.items()):
        out.append(f"routes declared in {path} with auth {auth} (their declaration lines):")
        out += group
    return out
