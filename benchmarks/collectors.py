"""Each collector's share of a cold collect, in CPU seconds, in one process (``--jobs 1``).

python benchmarks/collectors.py PATH [--facts FACTS.json] [--half 1|2]

Walks PATH as a scan does, then runs every collector on every file it wants, with no
cache, timing (``time.process_time``) the read, the gates, the parse (``SourceFile``'s
Python and tree-sitter parse, counted once per file, not inside the collector that asked
first), each collector's ``extract`` and ``link`` and the JSON round trip. Prints a Markdown
table, largest first. ``--facts`` writes the linked facts as JSON (sorted keys), so two trees
can be compared byte for byte; ``--half`` keeps the first or second half of the walked
files (sorted) to check that the cost grows linearly; ``--slow N`` lists the N costliest
(collector, file) extracts. The time the cyclic garbage collector took, wherever it ran, is
printed below the table.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.engine import halve  # noqa: E402
from benchmarks.measure import table  # noqa: E402
from threatmodel.code import source as source_module  # noqa: E402
from threatmodel.code.collector import FactsBuilder, LinkContext  # noqa: E402
from threatmodel.code.components import app_roots, with_components  # noqa: E402
from threatmodel.code.pyast import forget_tree  # noqa: E402
from threatmodel.code.source import SourceFile  # noqa: E402
from threatmodel.code.walk import walk  # noqa: E402
from threatmodel.collect._run import gc_paused, interested  # noqa: E402
from threatmodel.collect.registry import all_collectors  # noqa: E402
from threatmodel.collect.scope import ScopeConfig, code_of_tests  # noqa: E402
from threatmodel.config import repo_table  # noqa: E402

_parse_cpu = [0.0]
_gc_cpu = [0.0, 0.0]  # [total, started at]


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_cpu[1] = time.process_time()
    else:
        _gc_cpu[0] += time.process_time() - _gc_cpu[1]


def _timed(fn):  # type: ignore[no-untyped-def]
    def run(*a, **k):  # type: ignore[no-untyped-def]
        started = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            _parse_cpu[0] += time.process_time() - started

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--facts", type=Path)
    parser.add_argument("--half", type=int, choices=(0, 1, 2), default=0)
    parser.add_argument("--slow", type=int, default=0, help="list the N slowest extracts")
    args = parser.parse_args()
    root = args.root.resolve()
    source_module.parse_python = _timed(source_module.parse_python)  # type: ignore[assignment]
    from threatmodel.code import treesitter

    treesitter.parse_js = _timed(treesitter.parse_js)  # type: ignore[assignment]
    gc.callbacks.append(_gc_timer)
    cpu: dict[str, float] = defaultdict(float)
    files_of: dict[str, int] = defaultdict(int)
    slow: list[tuple[float, str, str]] = []
    t0 = time.process_time()
    walked = walk(root).files
    files = halve(walked, args.half)
    cpu["(walk)"] = time.process_time() - t0
    t0 = time.process_time()
    tests = code_of_tests(walked, ScopeConfig.from_table(repo_table(root)))  # as the scan
    cpu["(test code)"] = time.process_time() - t0
    collectors = all_collectors()
    per: dict[str, dict[str, str]] = {c.id: {} for c in collectors}
    gc.freeze()  # as collect_facts does
    for path in files:
        t = time.process_time()
        wanted = interested(collectors, path, path in tests)  # as the pipeline
        if not wanted:
            cpu["(wants)"] += time.process_time() - t
            continue
        data = (root / path).read_bytes()
        src = SourceFile.from_bytes(path, data)
        cpu["(read+decode)"] += time.process_time() - t
        # As the pipeline: the cyclic garbage collector paused for each file.
        with gc_paused():
            for c in wanted:
                t = time.process_time()
                ok = c.admits(src.text)
                cpu["(gates)"] += time.process_time() - t
                if not ok:
                    continue
                files_of[c.id] += 1
                before = _parse_cpu[0]
                t = time.process_time()
                try:
                    out = c.extract(src)
                except Exception:  # as the pipeline: a collector's bug is not fatal
                    out = None
                spent = time.process_time() - t
                cpu[f"extract {c.id}"] += spent - (_parse_cpu[0] - before)
                slow.append((spent - (_parse_cpu[0] - before), c.id, path))
                if spent > 10:  # as it happens: a pathological file shows before the run ends
                    print(f"slow: {spent:.1f}s {c.id} {path}", file=sys.stderr, flush=True)
                t = time.process_time()
                text = json.dumps(out, separators=(",", ":"))
                if text != "null":
                    per[c.id][path] = text  # as the pipeline: kept as text until link
                cpu["(json)"] += time.process_time() - t
            forget_tree()
    cpu["(parse)"] = _parse_cpu[0]
    builder = FactsBuilder()
    ctx = LinkContext(root=root, files=tuple(files), tests=tests)
    for c in collectors:
        t = time.process_time()
        try:
            with gc_paused():  # as the pipeline
                decoded = {p: json.loads(t) for p, t in per[c.id].items()}
            c.link(decoded, builder, ctx)
        except Exception as exc:
            print(f"link {c.id} failed: {exc!r}", file=sys.stderr)
        cpu[f"link {c.id}"] += time.process_time() - t
    t = time.process_time()
    builder.routes = with_components(builder.routes, app_roots(root, files))
    facts = builder.build()
    cpu["(build)"] = time.process_time() - t
    total = sum(cpu.values())
    rows = [
        {
            "phase": k,
            "files": files_of.get(k.split(" ", 1)[-1], "") if k.startswith("extract") else "",
            "cpu s": v,
            "%": 100 * v / total,
        }
        for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])
        if v >= 0.005
    ]
    rows.append({"phase": "total", "files": len(files), "cpu s": total, "%": 100.0})
    print(table(rows))
    print(f"\nof which the cyclic garbage collector: {_gc_cpu[0]:.2f} s")
    for spent, cid, path in sorted(slow, reverse=True)[: args.slow]:
        print(f"{spent:8.3f}s {cid:20} {path}")
    if args.facts:
        args.facts.write_text(json.dumps(facts.model_dump(mode="json"), sort_keys=True, indent=1))


if __name__ == "__main__":
    main()
