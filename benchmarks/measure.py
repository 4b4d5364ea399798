"""Run a command and measure wall time, CPU time and peak memory of its whole process tree.

Peak memory is the highest sum of resident set sizes over the process and its children
(worker processes count), sampled from /proc every 20 ms, so it is the memory the machine
really needed, not the largest single process.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    label: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    returncode: int


def _tree_rss_kib(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


def measure(
    label: str, cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> Measurement:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    # wait4 gives this child's own usage (its waited-for workers included); the
    # RUSAGE_CHILDREN totals would mix in every earlier measurement, and their ru_maxrss is
    # the largest child ever, not this one's.
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    cpu = usage.ru_utime + usage.ru_stime
    peak = max(peak, usage.ru_maxrss)  # a very short run may finish between samples
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{label}: {' '.join(cmd)} exited {proc.returncode}: {stderr[-2000:]}")
    return Measurement(label, wall, cpu, peak / 1024, proc.returncode)


def table(rows: list[dict[str, object]]) -> str:
    """A Markdown table from rows of equal keys."""
    if not rows:
        return ""
    keys = list(rows[0])
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        out.append(
            "| "
            + " | ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys)
            + " |"
        )
    return "\n".join(out)
