"""JS/TS dataflow recall on documented vulnerabilities (issue 16).

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python benchmarks/jsflows.py PATH [PATH ...]

Each PATH is a checkout named ``OWNER+NAME`` (the apps' code is never committed here). For
each it collects the facts (every collector, no LLM) and keeps the JS/TS flows rule TM120
reports: request input reaching a sink unbroken. Labelled injection lines come from
``jsflows_manifest.json`` (hand-labelled, with the commit read) and, for an app whose entry
lists ``markers``, from its ``vuln-code-snippet vuln-line NAME`` comments whose challenge's
category (``data/static/challenges.yml``) is one of those listed. A label is found when a
reported flow's sink is within 3 lines of it, or when the flow names that very line as one
of its steps (a weak allow-list check the flow passes, and the allow-list data it reads:
``dataflow/jsweak.py``); both counts are printed. A missed label that an unbroken flow of a
stored (database) value reaches is named, not counted: such a value is a source of its own
kind, not request input. A reported flow near no label is unlabelled.
An app without an entry (a well-built control) lists every reported flow, to be read.
Prints one block per app and the totals.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import DEFAULT_MAX_FILE_BYTES, walk
from threatmodel.collect import collect_facts
from threatmodel.collect.scope import Classifier
from threatmodel.models import Flow
from threatmodel.rules.flow_finding import proves

MANIFEST = Path(__file__).resolve().parent / "jsflows_manifest.json"
NEAR = 3
JS = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")
MARKER = re.compile(r"vuln-code-snippet vuln-line\s+(.*)$")


def marker_labels(root: Path, categories: list[str]) -> list[dict[str, str]]:
    challenges = yaml.safe_load((root / "data/static/challenges.yml").read_text())
    wanted = {c["key"]: c["category"] for c in challenges if c["category"] in categories}
    out = []
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in listed:
        if not rel.endswith(JS) or "codefixes" in rel or rel.startswith("test"):
            continue
        for n, text in enumerate((root / rel).read_text(errors="replace").splitlines(), 1):
            m = MARKER.search(text)
            if m is None:
                continue
            names = [x for x in m.group(1).split() if x in wanted]
            if names:
                out.append({"where": f"{rel}:{n}", "what": f"marker: {' '.join(names)}"})
    return out


def reported(root: Path) -> tuple[list[Flow], list[Flow], int, float]:
    """The JS flows TM120 reports in production code, the unbroken flows of a stored
    (database) value (facts, not request-input findings), how many more TM120 reports
    outside production (tests, examples: ``collect.scope``, as the report classes
    findings), and the time taken."""
    start = time.monotonic()
    walked = walk(root, DEFAULT_MAX_FILE_BYTES)
    facts = collect_facts(root, walked.files, cache=None, jobs=1).facts
    scope = Classifier(RepoReader(root))
    flows = [f for f in facts.flows if f.sink_location.path.endswith(JS) and proves(f)]
    kept = [
        f for f in flows if scope.at(f.sink_location.path, f.sink_location.line) == "production"
    ]
    stored = [
        f
        for f in facts.flows
        if f.source_kind == "database" and f.broken_by is None and f.sink_location.path.endswith(JS)
    ]
    return kept, stored, len(flows) - len(kept), time.monotonic() - start


def score(root: Path, entry: dict[str, Any] | None) -> tuple[int, int, int]:
    flows, stored, outside, took = reported(root)
    print(
        f"## {root.name} ({len(flows)} reported JS flows in production, {outside} outside, "
        f"collect {took:.1f} s)"
    )
    if entry is None:
        for f in flows:
            print(f"  flow {f.claim} {f.sink_location.path}:{f.sink_location.line} <- {f.source}")
        return 0, 0, len(flows)
    labels = list(entry.get("labels", []))
    if entry.get("markers"):
        labels = marker_labels(root, entry["markers"]) + labels
    found = by_sink = by_stored = 0
    near_any: set[int] = set()
    for lab in labels:
        path, _, line = lab["where"].rpartition(":")
        hits = [
            i
            for i, f in enumerate(flows)
            if f.sink_location.path == path and abs(f.sink_location.line - int(line)) <= NEAR
        ]
        stepped = [
            i
            for i, f in enumerate(flows)
            if any(s.path == path and s.line == int(line) for s in f.steps[:-1])
        ]
        near_any.update(hits)
        by_sink += bool(hits)
        found += bool(hits or stepped)
        how = "found" if hits else "found (step)" if stepped else "MISSED"
        if not (hits or stepped) and any(
            f.sink_location.path == path and abs(f.sink_location.line - int(line)) <= NEAR
            for f in stored
        ):
            by_stored += 1
            how = "MISSED (a stored-value flow reaches it)"
        print(f"  {how} {lab['where']}  {lab['what']}")
    extra = [f for i, f in enumerate(flows) if i not in near_any]
    for f in extra:
        print(f"  unlabelled {f.claim} {f.sink_location.path}:{f.sink_location.line} <- {f.source}")
    print(
        f"  labelled {len(labels)}, found {found} ({by_sink} by sink), "
        f"missed but reached by a stored-value flow {by_stored}, unlabelled flows {len(extra)}"
    )
    return len(labels), found, len(extra)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    manifest = json.loads(MANIFEST.read_text())
    totals = [0, 0, 0]
    for arg in argv:
        root = Path(arg).resolve()
        got = score(root, manifest.get(root.name))
        totals = [a + b for a, b in zip(totals, got, strict=True)]
    labelled, found, extra = totals
    recall = found / labelled if labelled else 0.0
    print(f"\nTOTAL labelled {labelled}, found {found} ({recall:.0%}), unlabelled flows {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
