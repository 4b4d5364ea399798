"""Python ``Sink`` facts (``facts.sinks``) from the engine's catalog matches.

The engine meets every call a catalog row names (``claims/<kind>/``) and records it as a
hit with the labels of its dangerous value, constant or not: that match is the one place a
Python call is decided to be a sink. A hit of a kind whose spec names a ``sink_fact`` is
listed here, once per call and fact kind, ``dynamic`` when its value is not provably
constant (it carries a label, and the engine did not find it safe as called: a dead
branch, ``yaml.load`` with a safe loader, an argument-list ``subprocess`` call).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatmodel.claims import REGISTRY
from threatmodel.models import Location, Sink


def sink_facts(extracts: Mapping[str, Any]) -> list[Sink]:
    found: dict[tuple[str, int, str], Sink] = {}
    for path, data in sorted(extracts.items()):
        for qual, summ in data["summaries"].items():
            start = summ.get("line") or None
            for row in summ.get("hits", ()):
                kind, line, callee, ids, *rest = row
                spec = REGISTRY.get(kind)
                if spec is None or not spec.sink_fact:
                    continue
                safe = bool(rest) and str(rest[0]).startswith("safe: ")
                sink = Sink(
                    kind=spec.sink_fact,
                    call=callee,
                    dynamic=bool(ids) and not safe,
                    location=Location(path=path, line=line),
                    handler=qual if start else None,
                    handler_line=start,
                )
                key = (path, line, spec.sink_fact)
                old = found.get(key)
                # one call, two rows (``subprocess.run`` by position or ``args=``): it is
                # dynamic when either reads a non-constant value
                if old is None or (sink.dynamic and not old.dynamic):
                    found[key] = sink
    return list(found.values())
