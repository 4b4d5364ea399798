"""Byte-identical output: the two report fields that vary between identical scans.

The same repository and the same LLM answers must give the same bytes, so reports carry no
timestamps. Two contract fields would still differ between runs, and are pinned here before
rendering (the fields stay, with documented values):

- ``repo.root``: the scan resolves the repository to an absolute path, which differs between
  machines and checkouts. Reports record the path as it was given on the command line
  (``.`` when scanning the current folder, ``examples/leaky-notes``, or an absolute path if
  one was typed), POSIX style.
- ``stats.duration_s`` and ``proof.duration_s``: wall-clock time differs on every run. They
  are ``0.0`` unless the scan ran with ``--timings``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from threatmodel.models import Report


def root_label(given: str | os.PathLike[str]) -> str:
    """The repository path as the user gave it, normalised and POSIX ("." for the cwd)."""
    text = os.path.normpath(os.fspath(given))
    return PurePath(text).as_posix() if text else "."


def stable_report(report: Report, root: str, timings: bool = False) -> Report:
    repo = report.repo.model_copy(update={"root": root})
    stats = report.stats if timings else report.stats.model_copy(update={"duration_s": 0.0})
    proof = report.proof
    if proof is not None and not timings:
        proof = proof.model_copy(update={"duration_s": 0.0})
    return report.model_copy(update={"repo": repo, "stats": stats, "proof": proof})


def display_name(resolved_root: Path) -> str:
    return resolved_root.name or "repository"
