"""Run every collector over the walked files: parallel per-file extraction, cached, then link.

Extraction is the expensive part (parsing), so it fans out over worker processes when the
repository is large enough to pay for them, and each file's extracts are cached by content
hash (see cache.py): an unchanged file is never parsed twice. A file that fails to parse,
or makes a collector raise, is counted in ``not_parsed``; it never stops the scan.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatmodel import __version__
from threatmodel.collect.cache import FactCache
from threatmodel.collect.interface import Collector, FactsBuilder, LinkContext, all_collectors
from threatmodel.collect.source import SourceFile, detect_language
from threatmodel.models import Facts
from threatmodel.progress import NullProgress, Progress

PARALLEL_THRESHOLD = 300  # below this many files a process pool costs more than it saves
BATCH = 64


@dataclass
class CollectResult:
    facts: Facts
    not_parsed: list[str] = field(default_factory=list)  # "path: reason"
    files_parsed: int = 0
    cache_hits: int = 0
    warnings: list[str] = field(default_factory=list)  # collectors' notes for the report


@dataclass
class _FileResult:
    path: str
    digest: str
    extracts: dict[str, Any]
    errors: list[str]
    cached: bool


def signature(collectors: list[Collector]) -> str:
    """Cache namespace: tool version, collector ids and versions, and the collect package's code.

    Hashing the code means a changed collector never serves stale extracts, even when
    someone forgets to bump its ``version``.
    """
    h = hashlib.sha256(
        (__version__ + "|" + ",".join(f"{c.id}:{c.version}" for c in collectors)).encode()
    )
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def collect_facts(
    root: Path,
    files: list[str],
    cache: FactCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> CollectResult:
    progress = progress or NullProgress()
    collectors = all_collectors()
    sig = signature(collectors)
    jobs = jobs or min(os.cpu_count() or 1, 4)
    progress.start("collect", len(files))
    per_collector: dict[str, dict[str, Any]] = {c.id: {} for c in collectors}
    result = CollectResult(facts=Facts())
    fresh: list[_FileResult] = []
    for fr in _extract_all(root, files, collectors, sig, cache, jobs):
        progress.advance()
        if fr.cached:
            result.cache_hits += 1
        elif fr.digest:
            fresh.append(fr)
        result.files_parsed += 1
        result.not_parsed.extend(f"{fr.path}: {e}" for e in fr.errors)
        for cid, data in fr.extracts.items():
            if data is not None:
                per_collector[cid][fr.path] = data
    if cache is not None and fresh:
        cache.put_many(
            sig, [(f.digest, {"extracts": f.extracts, "errors": f.errors}) for f in fresh]
        )
    progress.finish()

    builder = FactsBuilder()
    ctx = LinkContext(root=root, files=tuple(files))
    for c in collectors:
        try:
            c.link(per_collector[c.id], builder, ctx)
        except Exception as exc:  # a broken collector must not sink the scan, nor hide
            result.not_parsed.append(
                f"(collector {c.id}): link failed: {type(exc).__name__}: {exc}"
            )
    result.facts = builder.build()
    result.warnings = list(dict.fromkeys(builder.warnings))  # de-duplicated, in order
    result.not_parsed.sort()
    return result


def _extract_all(
    root: Path,
    files: list[str],
    collectors: list[Collector],
    sig: str,
    cache: FactCache | None,
    jobs: int,
) -> Iterator[_FileResult]:
    cached = cache.get_many(sig) if cache is not None else {}
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for path in files:
            yield _extract_one(root, path, collectors, cached)
        return
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(str(root), cached)
    ) as pool:
        for batch_result in pool.map(_worker_batch, batches):
            yield from batch_result


_worker_state: dict[str, Any] = {}


def _init_worker(root: str, cached: dict[str, Any]) -> None:
    _worker_state["root"] = Path(root)
    _worker_state["collectors"] = all_collectors()
    _worker_state["cached"] = cached


def _worker_batch(paths: Iterable[str]) -> list[_FileResult]:
    root, collectors, cached = (
        _worker_state["root"],
        _worker_state["collectors"],
        _worker_state["cached"],
    )
    return [_extract_one(root, p, collectors, cached) for p in paths]


def _extract_one(
    root: Path, path: str, collectors: list[Collector], cached: dict[str, Any]
) -> _FileResult:
    language = detect_language(path)
    interested = [c for c in collectors if c.wants(path, language)]
    if not interested:
        return _FileResult(path, "", {}, [], cached=False)
    try:
        data = (root / path).read_bytes()
    except OSError as exc:
        return _FileResult(path, "", {}, [f"unreadable: {exc.strerror or exc}"], cached=False)
    # The path is part of the key: extracts may depend on where a file lives (Next.js routes).
    digest = hashlib.sha256(path.encode() + b"\0" + data).hexdigest()
    hit = cached.get(digest)
    if hit is not None:
        return _FileResult(path, digest, hit["extracts"], hit["errors"], cached=True)
    src = SourceFile.from_bytes(path, data)
    extracts: dict[str, Any] = {}
    for c in interested:
        try:
            extracts[c.id] = c.extract(src)
        except RecursionError:
            src.parse_errors.append(f"{c.id}: nested too deeply to analyse")
        except Exception as exc:  # one collector's bug must not lose the other facts
            src.parse_errors.append(f"{c.id} failed: {type(exc).__name__}")
    return _FileResult(path, digest, extracts, sorted(set(src.parse_errors)), cached=False)
