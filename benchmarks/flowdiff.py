"""Diff the dataflow flows of two runs: what changed, field by field.

python benchmarks/flowdiff.py A.json B.json

A and B are JSON reports (``scan --format json``: ``facts.flows`` is read) or the flow
lists ``engine.py --out`` writes. Flows are matched on every field but ``steps`` (the
path a value took: where two paths meet one is kept, see ``dataflow.values``); prints the
flows only in A, only in B, and how many matched flows show another path. Exits 1 when a
flow is only in one of them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def _flows(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    return list(data["facts"]["flows"] if isinstance(data, dict) else data)


def _key(flow: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in flow.items() if k != "steps"}, sort_keys=True)


def main(a: Path, b: Path) -> int:
    fa, fb = _flows(a), _flows(b)
    ca, cb = Counter(map(_key, fa)), Counter(map(_key, fb))
    only_a, only_b = ca - cb, cb - ca
    steps_a = {_key(f): f["steps"] for f in fa}
    other_path = sum(1 for f in fb if _key(f) in steps_a and steps_a[_key(f)] != f["steps"])
    print(
        f"flows: {len(fa)} in A, {len(fb)} in B; only in A {sum(only_a.values())}, "
        f"only in B {sum(only_b.values())}; same flow, another path: {other_path}"
    )
    for name, rows in (("A", only_a), ("B", only_b)):
        for row in sorted(rows.elements())[:20]:
            print(f"only in {name}: {row}")
    return 1 if only_a or only_b else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
