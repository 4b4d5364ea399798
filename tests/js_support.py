"""Run chosen collectors over a fixture folder the way the pipeline does (extract, then link)."""

from __future__ import annotations

import json
from pathlib import Path

from threatmodel.code.collector import Collector, FactsBuilder, LinkContext
from threatmodel.code.source import SourceFile, detect_language
from threatmodel.code.walk import walk
from threatmodel.models import Facts, Route


def collect(root: Path, *collectors: Collector) -> Facts:
    files = walk(root).files
    extracts: dict[str, dict[str, object]] = {c.id: {} for c in collectors}
    for rel in files:
        language = detect_language(rel)
        wanting = [c for c in collectors if c.wants(rel, language)]
        if not wanting:
            continue
        src = SourceFile.from_bytes(rel, (root / rel).read_bytes())
        for c in wanting:
            data = c.extract(src)
            if data is not None:
                # Extracts cross process boundaries and the cache as JSON: prove they can.
                extracts[c.id][rel] = json.loads(json.dumps(data))
    out = FactsBuilder()
    for c in collectors:
        c.link(extracts[c.id], out, LinkContext(root=root, files=tuple(files)))
    return out.build()


def by_route(facts: Facts) -> dict[tuple[str, str], Route]:
    return {(r.method, r.path): r for r in facts.routes}
