"""The last scan's Report, kept in the cache folder and reused while the repository is unchanged.

``threatmodel ask`` answers from a Report; scanning again for every session would make the
session slow to open on a large repository. So ``scan`` stores the Report it produced beside
the fact cache, keyed by a digest of the repository's state: the tool version plus the path
and content digest of every file the walker would give the collectors. Any edit, added or
removed file (committed or not) changes the key, and ``ask`` then scans again.

The Report is stored with its evidence snippets masked (``redact.redact_report``, as for every
report format): a finding about a hardcoded key quotes the key's line, and the cache must not
keep the value.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from threatmodel import __version__
from threatmodel.code.walk import DEFAULT_MAX_FILE_BYTES, walk
from threatmodel.config import Settings
from threatmodel.models import SCHEMA_VERSION, Report
from threatmodel.progress import NullProgress, Progress
from threatmodel.redact import redact_report
from threatmodel.scan import CollectedRepo, ScanOptions, run_scan

CACHE_FILE = "report.json"


def repo_state(root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """A digest that changes whenever a file the scan would read changes, appears or goes."""
    return state_of(root, walk(root, max_file_bytes).files, {})


def state_of(root: Path, files: list[str], digests: Mapping[str, str]) -> str:
    """``repo_state`` over walked ``files``, reusing the digests collect already computed.

    Each file counts as sha256(path NUL content), the fact cache's key (collect/_run.py), so
    a scan's own digests give the same state as reading the files again; a file no collector
    read (none wanted it, or it was unreadable then) is read here.
    """
    digest = hashlib.sha256(f"{__version__}\0{SCHEMA_VERSION}\0".encode())
    for rel in files:
        name = rel.encode("utf-8", "surrogateescape")
        digest.update(name + b"\0")
        known = digests.get(rel)
        if known is None:
            try:
                known = hashlib.sha256(name + b"\0" + (root / rel).read_bytes()).hexdigest()
            except OSError:
                digest.update(b"unreadable")
                continue
        digest.update(bytes.fromhex(known))
    return digest.hexdigest()


def load_report(cache_dir: Path, state: str) -> Report | None:
    """The cached Report for this repository state, or None (absent, stale or unreadable)."""
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("state") != state:
        return None
    try:
        return Report.model_validate(data.get("report"))
    except ValidationError:
        return None  # written by an older, incompatible version: scan again


def save_report(cache_dir: Path, state: str, report: Report) -> None:
    """Store the Report atomically; a cache that cannot be written is skipped, not fatal."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{CACHE_FILE}.{os.getpid()}.tmp"
        # Evidence quotes the lines that hold hardcoded secrets: mask them, as every report
        # format does, so the cache never holds a secret value.
        # pydantic's own serializer: a fifth of json.dumps(model_dump()) on a large report.
        payload = (
            f'{{"state":{json.dumps(state)},"report":{redact_report(report).model_dump_json()}}}'
        )
        tmp.write_text(payload, encoding="utf-8")
        os.replace(tmp, cache_dir / CACHE_FILE)
    except OSError:
        pass


def scan_and_store(
    root: Path,
    settings: Settings,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Run a scan and remember its Report for ``ask`` (unless caching is turned off)."""
    options = options or ScanOptions()
    states: list[str] = []

    def keep_state(repo: CollectedRepo) -> None:
        # Keyed on what collect read, not on a second read of every file (a tenth of a cold
        # scan's reading on a large repository).
        states.append(state_of(root, repo.walked.files, repo.collected.digests))

    report = run_scan(root, settings, options, progress, keep_state if options.use_cache else None)
    if options.use_cache and states:
        save_report(settings.cache_dir, states[0], report)
    return report


def cached_or_scan(
    root: Path,
    settings: Settings,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    reuse: bool = True,
) -> tuple[Report, bool]:
    """The cached Report when the repository is unchanged, else a fresh scan; (report, reused).

    ``reuse=False`` scans even when a cached Report matches (``ask --rescan``).
    """
    options = options or ScanOptions()
    progress = progress or NullProgress()
    state = repo_state(root, options.max_file_bytes)
    if options.use_cache and reuse:
        cached = load_report(settings.cache_dir, state)
        if cached is not None:
            return cached, True
    # Masked like the stored copy, so a fresh and a reused Report are the same Report.
    report = redact_report(run_scan(root, settings, options, progress))
    if options.use_cache:
        save_report(settings.cache_dir, state, report)
    return report, False
