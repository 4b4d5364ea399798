"""Do collector gates change any fact on real code, and what do they save?

For each tree: collect its facts in one process without cache, once with every collector's
gate and once with all gates removed, and compare the facts (and the collectors' warnings
and non-syntax errors). Prints a row per tree: files walked, whether the facts are equal,
collect CPU seconds both ways, and the collectors whose facts differ when they do.

    python benchmarks/gates.py PATH [PATH ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.measure import table  # noqa: E402
from threatmodel.code.walk import walk  # noqa: E402
from threatmodel.collect import collect_facts  # noqa: E402
from threatmodel.collect.registry import all_collectors  # noqa: E402


def _collect(root: Path, files: list[str]) -> tuple[dict[str, Any], list[str], float]:
    start = time.process_time()
    result = collect_facts(root, files, cache=None, jobs=1)
    cpu = time.process_time() - start
    notes = [n for n in result.not_parsed if "syntax" not in n] + result.warnings
    return result.facts.model_dump(mode="json"), notes, cpu


def compare(root: Path) -> dict[str, object]:
    files = walk(root).files
    collect_facts(root, files[:200], cache=None, jobs=1)  # warm up: imports, grammars
    gated, gated_notes, gated_cpu = _collect(root, files)
    saved = {type(c): c.gate for c in all_collectors()}
    for cls in saved:
        cls.gate = None
    try:
        ungated, ungated_notes, ungated_cpu = _collect(root, files)
    finally:
        for cls, gate in saved.items():
            cls.gate = gate
    differ = sorted(k for k in gated if gated[k] != ungated[k])
    if gated_notes != ungated_notes:
        differ.append("warnings/errors")
    return {
        "tree": root.name,
        "files": len(files),
        "facts equal": "yes" if not differ else "NO",
        "differ in": ", ".join(differ) or "-",
        "collect cpu s, gated": gated_cpu,
        "ungated": ungated_cpu,
        "gated / ungated": gated_cpu / ungated_cpu if ungated_cpu else 0.0,
    }


def main(paths: list[str]) -> int:
    rows = [compare(Path(p).resolve()) for p in paths]
    print(table(rows))
    return 0 if all(r["facts equal"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
