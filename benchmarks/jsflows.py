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
``dataflow/jsweak.py``); both counts are printed. Stored values: TM120 also reports, for
review, a value read back from the database or the app's API reaching a sink its catalog row
marks ``stored`` (``rules.flow_finding.stored``). Such a flow finds a label only when the
label documents a stored attack (the payload is saved first, then run or rendered): a hand
label with ``"stored": true``, or a marker of a challenge listed in the entry's
``stored_markers`` with the documentation that says so; it is counted apart ("by stored").
At any other label it is named and not counted. A reported flow (request or stored) near no
label is unlabelled.
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

from threatmodel.code.inline import is_view
from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import DEFAULT_MAX_FILE_BYTES, walk
from threatmodel.collect import collect_facts
from threatmodel.collect.scope import Classifier
from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow
from threatmodel.rules.flow_finding import stored

MANIFEST = Path(__file__).resolve().parent / "jsflows_manifest.json"
NEAR = 3
JS = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")
MARKER = re.compile(r"vuln-code-snippet vuln-line\s+(.*)$")


def marker_labels(
    root: Path, categories: list[str], stored_markers: dict[str, str]
) -> list[dict[str, Any]]:
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
                label = {"where": f"{rel}:{n}", "what": f"marker: {' '.join(names)}"}
                if any(x in stored_markers for x in names):
                    label["stored"] = True
                out.append(label)
    return out


def reported(root: Path) -> tuple[list[Flow], list[Flow], int, float]:
    """The JS request flows TM120 reports in production code, the stored-value flows it
    reports for review there (``flow_finding.stored``), how many more TM120 reports outside
    production (tests, examples: ``collect.scope``, as the report classes findings), and
    the time taken."""
    start = time.monotonic()
    walked = walk(root, DEFAULT_MAX_FILE_BYTES)
    facts = collect_facts(root, walked.files, cache=None, jobs=1).facts
    scope = Classifier(RepoReader(root))

    # a JS flow starts in JS code (a view's inline script too: ``code/inline``); it may end
    # in a view the code renders (``jsviews``)
    def js(f: Flow) -> bool:
        return f.source_location.path.endswith(JS) or is_view(f.source_location.path)

    flows = [f for f in facts.flows if js(f) and proves(f)]
    saved = [f for f in facts.flows if js(f) and stored(f)]

    def production(f: Flow) -> bool:
        return scope.at(f.sink_location.path, f.sink_location.line) == "production"

    kept = [f for f in flows if production(f)]
    kept_saved = [f for f in saved if production(f)]
    outside = len(flows) - len(kept) + len(saved) - len(kept_saved)
    return kept, kept_saved, outside, time.monotonic() - start


def score(root: Path, entry: dict[str, Any] | None) -> tuple[int, int, int, int]:
    flows, stored, outside, took = reported(root)
    print(
        f"## {root.name} ({len(flows)} request and {len(stored)} stored-value JS flows "
        f"reported in production, {outside} outside, "
        f"collect {took:.1f} s)"
    )
    if entry is None:
        for f in flows:
            print(f"  flow {f.claim} {f.sink_location.path}:{f.sink_location.line} <- {f.source}")
        for f in stored:
            print(f"  stored {f.claim} {f.sink_location.path}:{f.sink_location.line} <- {f.source}")
        return 0, 0, len(flows) + len(stored), 0
    labels = list(entry.get("labels", []))
    if entry.get("markers"):
        labels = marker_labels(root, entry["markers"], entry.get("stored_markers", {})) + labels
    found = by_sink = by_stored = by_step = named = 0
    near_any: set[int] = set()
    near_saved: set[int] = set()

    def near(fs: list[Flow], path: str, line: int) -> list[int]:
        return [
            i
            for i, f in enumerate(fs)
            if f.sink_location.path == path and abs(f.sink_location.line - line) <= NEAR
        ]

    for lab in labels:
        path, _, where = lab["where"].rpartition(":")
        line = int(where)
        hits = near(flows, path, line)
        stepped = [
            i
            for i, f in enumerate(flows)
            if any(s.path == path and s.line == line for s in f.steps[:-1])
        ]
        saved = near(stored, path, line)
        near_any.update(hits)
        near_saved.update(saved)
        counted = bool(saved) and bool(lab.get("stored")) and not (hits or stepped)
        by_sink += bool(hits)
        by_step += bool(stepped) and not hits
        by_stored += counted
        found += bool(hits or stepped) or counted
        how = "found" if hits else "found (step)" if stepped else "MISSED"
        how = "found (stored)" if counted else how
        if saved and not (hits or stepped or counted):
            named += 1
            how = "MISSED (a stored-value flow reaches it; the label documents no stored attack)"
        print(f"  {how} {lab['where']}  {lab['what']}")
    extra = [f for i, f in enumerate(flows) if i not in near_any]
    extra += [f for i, f in enumerate(stored) if i not in near_saved]
    # one finding per claim and sink line, as TM120 reports them
    extra = list({(f.claim, f.sink_location.path, f.sink_location.line): f for f in extra}.values())
    for f in extra:
        print(
            f"  unlabelled {f.claim} {f.sink_location.path}:{f.sink_location.line} <- "
            f"{f.source_kind} {f.source}"
        )
    print(
        f"  labelled {len(labels)}, found {found} ({by_sink} by sink, {by_step} by step, "
        f"{by_stored} by stored), stored-value flows at a label documenting none {named}, "
        f"unlabelled flows {len(extra)}"
    )
    return len(labels), found, len(extra), by_sink


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    manifest = json.loads(MANIFEST.read_text())
    totals = [0, 0, 0, 0]
    for arg in argv:
        root = Path(arg).resolve()
        got = score(root, manifest.get(root.name))
        totals = [a + b for a, b in zip(totals, got, strict=True)]
    labelled, found, extra, by_sink = totals
    recall = found / labelled if labelled else 0.0
    sink_only = by_sink / labelled if labelled else 0.0
    print(
        f"\nTOTAL labelled {labelled}, found {found} ({recall:.0%}; by sink only {by_sink}, "
        f"{sink_only:.0%}), unlabelled flows {extra}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
