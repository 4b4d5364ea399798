"""Run one collector's extract and link over a fixture folder, as the pipeline would."""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.collector import Collector, FactsBuilder, LinkContext
from threatmodel.code.source import SourceFile
from threatmodel.models import Facts


def collect(collector: Collector, root: Path) -> tuple[Facts, list[str]]:
    extracts, errors = {}, []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        src = SourceFile.from_bytes(rel, path.read_bytes())
        if not collector.wants(rel, src.language):
            continue
        data = collector.extract(src)
        errors += [f"{rel}: {e}" for e in src.parse_errors]
        if data is not None:
            extracts[rel] = data
    out = FactsBuilder()
    collector.link(extracts, out, LinkContext(root, ()))
    return out.build(), errors
