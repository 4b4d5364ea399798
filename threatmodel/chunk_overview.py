"""The cross-component overview: one line per fact, for threats that span components.

Routes a component request already holds are grouped by declaring file and auth, one short
entry each (their code and handler line are in that request); a route left out of the
component requests keeps its line with its handler's code (its whole summary). The global
middleware and settings are left to the setup request when it holds them. Cut to the
budget from the end, saying so (and in ``left_out``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from threatmodel.chunk_builder import ChunkBuilder, count_tokens
from threatmodel.chunk_pack import Focus
from threatmodel.models import Secret
from threatmodel.summary_text import global_text
from threatmodel.words import plural


def secret_lines(secrets: Iterable[Secret]) -> list[str]:
    """One line per hardcoded secret value: its name, kind and every place it is written
    (``a.py:3, 9; b.py:4``). Not its fingerprint, which the model cannot use: the places of
    one value share a line (a key pasted in three files is one line), which says what the
    fingerprint said. The value itself is never known here (the system prompt says so)."""
    places: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(dict)
    for s in sorted(secrets, key=lambda s: (s.location.path, s.location.line)):
        at = places[(s.name, s.kind, s.fingerprint)]
        at.setdefault(s.location.path, []).append(str(s.location.line))
    out = []
    for (name, kind, _fp), at in places.items():
        said = name if kind == name else f"{name} ({kind})"
        where = "; ".join(f"{path}:{', '.join(lines)}" for path, lines in at.items())
        again = " (the same value)" if sum(map(len, at.values())) > 1 else ""
        out.append(f"hardcoded secret {said}{again} at {where}")
    return out


def cross_text(
    b: ChunkBuilder,
    focus: Focus | None,
    budget: int,
    held: set[str],
    setup_sent: bool,
    left_out: list[str] | None = None,
) -> str:
    """One line per fact; routes a component request holds (``held``) grouped by file and
    auth, one short entry each (their code and handler line are in that request); the
    global middleware and settings only when no setup request holds them (``setup_sent``)."""
    facts = b.facts
    lines: list[str] = []
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in sorted(facts.routes, key=lambda r: (r.path, r.method)):
        mark = "* " if focus is not None and r.id in focus.routes else ""
        auth = r.auth.status.value + (f" via {r.auth.mechanism}" if r.auth.mechanism else "")
        if r.id in held and not mark and not r.registered_again:
            grouped[(r.location.path, auth)].append(f"{r.id} :{r.location.line}")
            continue
        # The handler's line of code, so a finding can cite it (analyze_cross.j2 says so);
        # for a route left out of the component chunks this line is its whole summary.
        lines.append(f"{mark}route {r.id}: auth {auth}; handler {b.at(r.location)}")
        lines += [f"  {r.id} registered again at {b.at(loc)}" for loc in r.registered_again]
    lines += [
        f"routes declared in {path} with auth {auth} (shown in a component request): "
        + ", ".join(ids)
        for (path, auth), ids in sorted(grouped.items())
    ]
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
    lines += secret_lines(facts.secrets)
    glob = "" if setup_sent else global_text(facts)
    text = "\n".join(lines + ([glob] if glob else []))
    total = len(lines)
    while count_tokens(text) > budget and lines:
        lines = lines[: len(lines) * 3 // 4]  # keep the head, say how much was left out
        text = "\n".join([*lines, f"... (overview cut to fit: {len(lines)} lines kept)"])
    if len(lines) < total and left_out is not None:
        left_out.append(
            f"{total - len(lines)} of the overview's {total} lines (routes, tables, env vars, "
            "secrets): more than one request holds"
        )
    return text
