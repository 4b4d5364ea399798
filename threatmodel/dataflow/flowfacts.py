"""Flow facts from what link resolves: every sink a request (database, configuration)
value reaches, through calls, as ``models.Flow`` with its lines, its sanitizers and the
repository calls it rests on that link could not resolve (``Flow.unresolved``). A constant
sink is kept as a flow that refutes a claim there. The kinds a repository yes/no function
proves are read here (``pending``), once every summary is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from threatmodel.claims import REGISTRY
from threatmodel.dataflow.injected import dropped
from threatmodel.dataflow.link import NOTE, Linker
from threatmodel.dataflow.pending import Pending
from threatmodel.dataflow.routeparams import route_hits
from threatmodel.dataflow.values import Label, Step, path_order
from threatmodel.models import Flow, Location, Route


def _constant_reason(note: str, safe: bool) -> str:
    if safe:
        return note.removeprefix("safe: ")
    return f"constant; {note}" if note else "constant"


def _place(step: Step, path: str) -> Location:
    """A label's step as a place: its own file's line, or another file's ``(path, line)``."""
    if isinstance(step, tuple):
        return Location(path=step[0], line=step[1])
    return Location(path=path, line=step)


def _source_order(lab: Label) -> tuple[Any, ...]:
    """Request sources first, then by place, then by the path they came along (as
    ``distinct`` keeps one): a total order on what a flow shows, so which of two labels at
    one place gives the flow never depends on set order."""
    return (
        lab.kind != "request",
        lab.path,
        lab.line,
        lab.origin,
        sorted(lab.safe),
        lab.via,
        path_order(lab),
    )


def flows(
    extracts: Mapping[str, Any],
    aliases: Mapping[str, str] | None = None,
    files: Iterable[str] | None = None,
    routes: Iterable[Route] = (),
    warnings: list[str] | None = None,
) -> list[Flow]:
    """``files``: every file of the repository (extracts are only those a gate let
    through), so a module tail is unique among all of them (``pyroots``). ``routes``: the
    route facts, whose captured URL parameters are request input in their handlers
    (``routeparams``). ``warnings``: where to say that link met its bound on calls followed
    (``link.MAX_EXPANSIONS``), past which flows through calls are no proof."""
    linker = Linker(extracts, aliases, files)
    pending = Pending(linker.find)  # what the repository's yes/no functions prove
    # ``db: DbSession``: not the caller's
    injected = dropped(extracts, linker.canonical, linker.roots.candidates)
    out: dict[tuple[Any, ...], Flow] = {}
    key: tuple[Any, ...]
    for kind, line, callee, path, labels, lines in [*linker.hits(), *route_hits(linker, routes)]:
        extra = [Location(path=path, line=n) for n in lines if n != line]
        spec = REGISTRY.get(kind)
        callee, _, note = callee.partition(NOTE)
        if not labels and spec is not None and (spec.taint or note.startswith("safe: ")):
            safe = note.startswith("safe: ")
            key = (kind, path, line, "constant", safe)
            out.setdefault(
                key,
                Flow(
                    claim=kind,
                    cwe=list(spec.cwe),
                    source_kind="safe_call" if safe else "constant",
                    source=callee if safe else "constant",
                    source_location=Location(path=path, line=line),
                    sink=callee,
                    sink_location=Location(path=path, line=line),
                    steps=[*extra, Location(path=path, line=line)],
                    broken_by=_constant_reason(note, safe),
                ),
            )
            continue
        wanted = {
            "weak_random": {"random"},
            "weak_hash": {"pattern"},
            "insecure_cookie": {"pattern"},
        }
        labels = frozenset(
            x for x in labels if x.kind in wanted.get(kind, {"request", "database", "config"})
        )
        if not labels and note.startswith("safe: ") and spec is not None:
            continue
        for lab in sorted(labels, key=_source_order):
            source_path = lab.path or path
            if lab.kind == "request" and (source_path, lab.line, lab.origin) in injected:
                continue
            met = sorted(set(pending.sanitizers(lab)))
            broken = next(iter(met), "sanitizer") if kind in pending.proven(lab) else None
            key = (kind, path, line, lab.kind, source_path, lab.line, broken is None)
            if key in out:
                continue
            sink_at = Location(path=path, line=line)
            steps = [Location(path=source_path, line=lab.line)]
            steps += [x for x in (_place(s, source_path) for s in lab.steps) if x != sink_at]
            steps += [e for e in extra if e not in steps]
            steps.append(sink_at)
            out[key] = Flow(
                claim=kind,
                cwe=list(spec.cwe) if spec else [],
                source_kind=lab.kind,
                source=lab.origin,
                source_location=Location(path=source_path, line=lab.line),
                sink=callee,
                sink_location=Location(path=path, line=line),
                steps=steps,
                sanitizers=met,
                broken_by=broken,
                unresolved=list(lab.unknown),
                unread_checks=sorted(set(pending.unread(lab))),
            )
    if linker.cut_short() and warnings is not None:
        warnings.append(
            f"dataflow: stopped following calls in their callers' context after "
            f"{linker.max_expansions:,} calls; later flows through the repository's own functions "
            "pass their input on unread and are marked unresolved, not proof"
        )
    return list(out.values())
