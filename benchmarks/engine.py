"""The Python dataflow engine's own cost on a checkout, phase by phase, in CPU seconds.

python benchmarks/engine.py PATH [--out FLOWS.json] [--half 1|2]

Reads every ``.py`` file git lists under PATH (``--half`` keeps the first or second half of
them, sorted, to check that the cost grows linearly), parses each once (the floor), runs
the engine on the files its gate admits, passes the extracts through JSON as the collect
cache does, and links them into flows. Prints one Markdown row per phase (CPU seconds of
this process, ``time.process_time``) and the extract size; ``--out`` writes the flows,
sorted, for ``flowdiff.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from threatmodel import dataflow  # noqa: E402
from threatmodel.code.source import SourceFile  # noqa: E402
from threatmodel.collect.flows_python import GATE  # noqa: E402


def _files(root: Path, half: int) -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "*.py"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return halve(sorted(p for p in listed if p), half)


def halve(files: list[str], half: int) -> list[str]:
    """The first (1) or second (2) half of ``files``, or all of them (0): a cost that grows
    linearly is the same per file on either half and on the whole."""
    mid = len(files) // 2
    return files if not half else files[:mid] if half == 1 else files[mid:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--half", type=int, choices=(0, 1, 2), default=0)
    args = parser.parse_args()
    files = _files(args.root, args.half)
    cpu = {"parse (floor)": 0.0, "gate": 0.0, "extract": 0.0, "json": 0.0, "link": 0.0}
    texts: dict[str, str] = {}
    admitted = 0
    for path in files:
        try:
            data = (args.root / path).read_bytes()
        except OSError:
            continue
        src = SourceFile.from_bytes(path, data)
        t0 = time.process_time()
        tree = src.python_ast
        t1 = time.process_time()
        ok = tree is not None and GATE.search(src.text) is not None
        t2 = time.process_time()
        cpu["parse (floor)"] += t1 - t0
        cpu["gate"] += t2 - t1
        if not ok:
            continue
        admitted += 1
        got = dataflow.extract(src)
        t3 = time.process_time()
        texts[path] = json.dumps(got, separators=(",", ":"))
        t4 = time.process_time()
        cpu["extract"] += t3 - t2
        cpu["json"] += t4 - t3
    t0 = time.process_time()
    decoded = {p: json.loads(t) for p, t in texts.items()}
    t1 = time.process_time()
    found = dataflow.flows({p: d for p, d in decoded.items() if d is not None})
    t2 = time.process_time()
    cpu["json"] += t1 - t0
    cpu["link"] += t2 - t1
    size = sum(len(t) for t in texts.values())
    floor = cpu["parse (floor)"] or 1.0
    print(
        f"{args.root.name}: {len(files)} .py files, {admitted} through the gate, "
        f"extracts {size / 1e6:.2f} MB of JSON, {len(found)} flows"
    )
    print("| phase | cpu s | x parse |\n|---|---|---|")
    for name, secs in cpu.items():
        print(f"| {name} | {secs:.2f} | {secs / floor:.2f} |")
    engine = cpu["extract"] + cpu["json"] + cpu["link"]
    print(f"| engine total | {engine:.2f} | {engine / floor:.2f} |")
    if args.out:
        rows = sorted(json.dumps(f.model_dump(mode="json"), sort_keys=True) for f in found)
        args.out.write_text("[\n" + ",\n".join(rows) + "\n]\n")


if __name__ == "__main__":
    main()
