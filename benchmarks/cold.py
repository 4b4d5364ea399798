"""No input makes a scan slow: mealie's cold scan against saleor's, in one run (issue 21).

python benchmarks/cold.py MEALIE SALEOR [--jobs N]

MEALIE and SALEOR are checkouts (not committed) of the commits pinned below. mealie has
548 .py files next to HTML and JSON fixtures whose single lines are 100 to 480 KB; saleor
has 4,338 .py files of ordinary code. A scan that is linear in its input scans mealie no
slower than saleor. Each cold scan (empty cache, ``--provider none``, JSON out) is timed
and its report read back: no evidence snippet may be over ``SNIPPET_LIMIT`` characters.
Prints a Markdown table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.measure import measure, table  # noqa: E402
from benchmarks.run import scan_cmd  # noqa: E402
from threatmodel.redact import SNIPPET_LIMIT  # noqa: E402

# The upstream commits measured (see benchmarks/README.md for the numbers).
PINNED = {
    "mealie": "b5643a9399465d8b4ea339e7a6639df2d697741b",  # mealie-recipes/mealie v2.0.0-21
    "saleor": "723cd4eba87dfc72822ade45dc08a3caa548428d",  # saleor/saleor
}


def _snippets(report: dict[str, object]) -> list[int]:
    """Lengths of every evidence snippet in a JSON report."""
    out: list[int] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("snippet"), str) and "start_line" in node:
                out.append(len(node["snippet"]))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(report)
    return out


def _files(root: Path) -> tuple[int, int]:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=False
    ).stdout.split("\n")
    listed = [p for p in listed if p]
    return len(listed), sum(p.endswith(".py") for p in listed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mealie", type=Path)
    parser.add_argument("saleor", type=Path)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    missed: list[str] = []
    wall: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in (("mealie", args.mealie), ("saleor", args.saleor)):
            cache, out = Path(tmp) / f"cache-{name}", Path(tmp) / f"{name}.json"
            shutil.rmtree(cache, ignore_errors=True)
            jobs = ["--jobs", str(args.jobs)] if args.jobs else []
            cmd = scan_cmd(root, "--cache-dir", str(cache), *jobs, out=str(out))
            m = measure(f"{name} (cold)", cmd)
            report = json.loads(out.read_text())
            sizes = _snippets(report)
            files, py = _files(root)
            wall[name] = m.wall_s
            rows.append(
                {
                    "scan": m.label,
                    "files": files,
                    ".py": py,
                    "wall s": m.wall_s,
                    "cpu s": m.cpu_s,
                    "peak MiB": m.peak_mib,
                    "not parsed": len(report["stats"]["files"]["not_parsed"]),
                    "snippets": len(sizes),
                    "longest snippet": max(sizes, default=0),
                }
            )
            if max(sizes, default=0) > SNIPPET_LIMIT:
                missed.append(f"{name}: a snippet of {max(sizes)} characters")
    print(table(rows))
    print(f"\nmealie / saleor wall: {wall['mealie'] / wall['saleor']:.2f} (target <= 1.00)")
    if wall["mealie"] > wall["saleor"]:
        missed.append("mealie's cold scan is slower than saleor's")
    print(f"pinned: {PINNED}")
    if missed:
        print("MISSED: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
