"""Linking the extracts: each collector into a builder of its own, merged in collector order.

collect/_run.py links the collectors that read no test code as soon as the production code is
extracted (while the workers still read the test code), the rest at the end; a builder per
collector, merged in collector order (``FactsBuilder.merge``), gives the facts one builder
linked in that order would. ``gc_paused`` is the garbage-collector pause of both phases.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager

from threatmodel.code.collector import Collector, FactsBuilder, LinkContext
from threatmodel.models import Route


def link_each(
    collectors: list[Collector],
    per_collector: dict[str, dict[str, str]],
    files: list[str],
    ctx: LinkContext,
    parts: dict[str, FactsBuilder],
    failures: list[str],
    linked_routes: list[Route],
) -> None:
    """Link each of ``collectors`` (its extracts: JSON text per path, taken out of
    ``per_collector``) into a builder of its own in ``parts``; a failed link is noted in
    ``failures``.

    A link may read the routes linked before it (graphql_js finds the endpoint Express
    mounted): each builder starts with ``linked_routes``, the routes of every link so far,
    and keeps only those its link appended. Routes come only from collectors that read no
    test code, so each of them sees the routes of the collectors linked before it
    (``code.collector.link_order``: id order, a collector after those it links after).
    """
    for c in collectors:
        texts = per_collector.pop(c.id)
        parts[c.id] = part = FactsBuilder(routes=list(linked_routes))
        try:
            # In ``files`` order, whichever order the workers finished in.
            with gc_paused():  # decoded JSON holds no cycles
                decoded = {path: json.loads(texts[path]) for path in files if path in texts}
                # Frozen until every link is done, so the first collection after the pause
                # does not walk every decoded object (0.1-0.2 s each for saleor's biggest).
                gc.freeze()
            c.link(decoded, part, ctx)
        except Exception as exc:  # a broken collector must not sink the scan, nor hide
            failures.append(f"(collector {c.id}): link failed: {type(exc).__name__}: {exc}")
        part.routes = part.routes[len(linked_routes) :]  # a link appends; it never edits
        linked_routes.extend(part.routes)


def production_first(
    files: list[str], readers: dict[str, list[Collector]], tests: frozenset[str]
) -> tuple[list[str], set[str]]:
    """``files`` with the production code first (a file some collector that reads no test
    code wants), and the set of those files. They are also the costly ones (parsed), so the
    light files left for the end keep both workers busy to the last batch."""
    first = {
        path
        for path in files
        if path not in tests and any(not c.reads_test_code for c in readers[path])
    }
    return [p for p in files if p in first] + [p for p in files if p not in first], first


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while one file is parsed and read, or while the
    extracts of one collector are decoded from JSON.

    A parse tree and decoded JSON have no reference cycles (a tree dies by reference counting
    when its file is done), yet while they were alive every few hundred allocations made the
    collector traverse them again (young, then middle, then old generation): 2.9 CPU s of
    saleor's 42 s collect, and part of why our parse cost 1.2-1.6x ``ast.parse`` alone.
    Paused for one file only, whatever cycles the collectors make are freed by the next
    collection after it, so memory stays bounded by one file's work.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
