"""Run chosen collectors over a fixture folder the way the pipeline does (extract, then link)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from threatmodel.code.collector import Collector, FactsBuilder, LinkContext
from threatmodel.code.source import SourceFile, detect_language
from threatmodel.code.walk import walk
from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.models import Facts, Flow, Route


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


def js_flows(files: dict[str, str]) -> list[Flow]:
    """The flows the JS/TS engine reports for in-memory files (dedented), extract then link
    as the ``flows_js`` collector does in the pipeline (extracts through JSON, as cached)."""
    collector = JsFlowsCollector()
    extracts: dict[str, object] = {}
    for path, text in files.items():
        data = collector.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if data is not None:
            extracts[path] = json.loads(json.dumps(data))
    out = FactsBuilder()
    collector.link(extracts, out, LinkContext(root=Path("."), files=tuple(files)))
    return list(out.flows)
