"""Snapshots of the three formats on examples/leaky-notes, and byte-identical re-runs.

The collectors and rules change what the example yields; when a change is intended,
regenerate and review the diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_render_snapshots.py
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"
EXAMPLE = "examples/leaky-notes"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def scan(*args: str) -> str:
    # Run from the project root with a relative path, as a user would: the report records
    # the root as given ("examples/leaky-notes"), and stdout means links from the repo root.
    proc = subprocess.run(
        [sys.executable, "-m", "threatmodel", "scan", EXAMPLE, "--out", "-", "-q", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("fmt", ["md", "json", "sarif"])
def test_snapshot(fmt: str) -> None:
    text = scan("--format", fmt)
    path = SNAPSHOTS / f"leaky-notes.{fmt}"
    if UPDATE or not path.exists():
        if not UPDATE and os.environ.get("CI"):
            pytest.fail(f"{path} is missing; create it with UPDATE_SNAPSHOTS=1")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"{path.name} (snapshot)",
                    f"{path.name} (now)",
                )
            )[:80]
        )
        pytest.fail(
            f"{fmt} output of `threatmodel scan {EXAMPLE}` differs from {path}.\n"
            "If the change is intended (a collector, rule or renderer changed), regenerate "
            "and review:\n  UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest "
            f"tests/test_render_snapshots.py\n\n{diff}",
            pytrace=False,
        )


def test_reruns_are_byte_identical_and_timings_are_opt_in() -> None:
    first = scan("--format", "json", "--no-cache")
    assert scan("--format", "json") == first  # cached parse, same bytes
    report = json.loads(first)
    assert report["repo"]["root"] == EXAMPLE
    assert report["stats"]["duration_s"] == 0.0
    timed = json.loads(scan("--format", "json", "--timings"))
    assert timed["stats"]["duration_s"] > 0
