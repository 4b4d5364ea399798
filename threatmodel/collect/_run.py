"""Run every collector over the walked files: parallel per-file extraction, cached, then link.

Extraction is the expensive part (parsing), so it fans out over worker processes when the
repository is large enough to pay for them, and each file's extracts are cached by content
hash (see cache.py): an unchanged file is never parsed twice. A file that fails to parse,
or makes a collector raise, is counted in ``not_parsed``; it never stops the scan.

It streams: workers read their own files and query the cache themselves, send back each
file's extracts as JSON text, and new cache entries are written as they arrive, so only the
extracts (which linking needs) are held, never file contents nor the whole cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatmodel import __version__
from threatmodel.collect.cache import CacheReader, FactCache
from threatmodel.collect.interface import Collector, FactsBuilder, LinkContext, all_collectors
from threatmodel.collect.source import SourceFile, detect_language
from threatmodel.models import Facts
from threatmodel.progress import NullProgress, Progress

PARALLEL_THRESHOLD = 300  # below this many files a process pool costs more than it saves
BATCH = 64  # files per task: enough to amortise the round trip and the cache query
PUT_EVERY = 2000  # new cache entries written per transaction


@dataclass
class CollectResult:
    facts: Facts
    not_parsed: list[str] = field(default_factory=list)  # "path: reason"
    files_parsed: int = 0
    cache_hits: int = 0
    warnings: list[str] = field(default_factory=list)  # collectors' notes for the report
    # path -> sha256(path NUL content) of every file a collector read: the report cache keys
    # the repository's state on them instead of reading and hashing every file again.
    digests: dict[str, str] = field(default_factory=dict)


@dataclass
class _FileResult:
    path: str
    digest: str  # "" when no collector wants the file or it could not be read (never cached)
    # The file's errors and extracts as _payload() frames them (cached as is); None: skip
    payload: str | None
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
    # Each collector's extracts stay JSON text until its link runs: decoded, the extracts of
    # 50k files take several times the memory (issue 11).
    per_collector: dict[str, dict[str, str]] = {c.id: {} for c in collectors}
    result = CollectResult(facts=Facts())
    fresh: list[tuple[str, str]] = []
    for fr in _extract_all(root, files, collectors, sig, cache, jobs):
        progress.advance()
        result.files_parsed += 1
        if fr.digest:
            result.digests[fr.path] = fr.digest
        if fr.payload is None:
            continue
        if fr.cached:
            result.cache_hits += 1
        elif fr.digest:
            fresh.append((fr.digest, fr.payload))
            if cache is not None and len(fresh) >= PUT_EVERY:
                cache.put_many(sig, fresh)  # written as they come: memory stays flat
                fresh = []
        # Extracts always pass through JSON, cached or not, so a cold and a warm scan link
        # exactly the same data.
        errors, extracts = _unframe(fr.payload)
        result.not_parsed.extend(f"{fr.path}: {e}" for e in errors)
        for cid, data in extracts:
            if data != "null" and cid in per_collector:
                per_collector[cid][fr.path] = data
    if cache is not None and fresh:
        cache.put_many(sig, fresh)
    progress.finish()

    builder = FactsBuilder()
    ctx = LinkContext(root=root, files=tuple(files))
    for c in collectors:
        texts = per_collector.pop(c.id)
        try:
            c.link({path: json.loads(text) for path, text in texts.items()}, builder, ctx)
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
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        lookup = cache.lookup if cache is not None else None
        for batch in batches:
            yield from _extract_batch(root, batch, collectors, sig, lookup)
        return
    # Workers get the root and the cache's path, never file contents nor cache entries: each
    # reads its own files and looks their digests up itself (fork keeps the imports).
    with ProcessPoolExecutor(
        max_workers=jobs,
        initializer=_init_worker,
        initargs=(str(root), str(cache.path) if cache is not None else "", sig),
    ) as pool:
        for batch_result in pool.map(_worker_batch, batches):
            yield from batch_result


_worker_state: dict[str, Any] = {}


def _init_worker(root: str, cache_path: str, sig: str) -> None:
    _worker_state["root"] = Path(root)
    _worker_state["collectors"] = all_collectors()
    _worker_state["sig"] = sig
    _worker_state["reader"] = CacheReader(Path(cache_path)) if cache_path else None


def _worker_batch(paths: list[str]) -> list[_FileResult]:
    reader: CacheReader | None = _worker_state["reader"]
    return _extract_batch(
        _worker_state["root"],
        paths,
        _worker_state["collectors"],
        _worker_state["sig"],
        reader.lookup if reader is not None else None,
    )


def _extract_batch(
    root: Path,
    paths: list[str],
    collectors: list[Collector],
    sig: str,
    lookup: Callable[[str, list[str]], dict[str, str]] | None,
) -> list[_FileResult]:
    """Read a batch of files, look their digests up in one query, extract the misses."""
    out: list[_FileResult] = []
    todo: list[tuple[int, list[Collector], bytes]] = []
    for path in paths:
        language = detect_language(path)
        interested = [c for c in collectors if c.wants(path, language)]
        if not interested:
            out.append(_FileResult(path, "", None, cached=False))
            continue
        try:
            data = (root / path).read_bytes()
        except OSError as exc:
            error = f"unreadable: {exc.strerror or exc}"
            out.append(_FileResult(path, "", _payload({}, [error]), cached=False))
            continue
        # The path is part of the key: extracts may depend on where a file lives (Next.js).
        digest = hashlib.sha256(path.encode() + b"\0" + data).hexdigest()
        out.append(_FileResult(path, digest, None, cached=False))
        todo.append((len(out) - 1, interested, data))
    hits = lookup(sig, [out[i].digest for i, _, _ in todo]) if lookup and todo else {}
    for i, interested, data in todo:
        fr = out[i]
        hit = hits.get(fr.digest)
        if hit is not None:
            fr.payload, fr.cached = hit, True
        else:
            fr.payload = _extract_one(fr.path, data, interested)
    return out


def _extract_one(path: str, data: bytes, interested: list[Collector]) -> str:
    src = SourceFile.from_bytes(path, data)
    extracts: dict[str, Any] = {}
    for c in interested:
        if not c.admits(src.text):
            continue  # cannot find anything here; SourceFile parses lazily, maybe never
        try:
            extracts[c.id] = c.extract(src)
        except RecursionError:
            src.parse_errors.append(f"{c.id}: nested too deeply to analyse")
        except Exception as exc:  # one collector's bug must not lose the other facts
            src.parse_errors.append(f"{c.id} failed: {type(exc).__name__}")
    return _payload(extracts, sorted(set(src.parse_errors)))


def _payload(extracts: dict[str, Any], errors: list[str]) -> str:
    """One line of JSON errors, then a ``collector id TAB JSON`` line per collector.

    Compact JSON never holds a raw newline, so the frames split on newlines; the main
    process slices each collector's JSON text out without decoding it (a JSON document of
    JSON strings would be decoded twice, escapes and all: a third of a warm scan's collect).
    """
    lines = []
    for cid, data in extracts.items():
        try:
            lines.append(f"{cid}\t{json.dumps(data, separators=(',', ':'))}")
        except (TypeError, ValueError):  # a collector returned something JSON cannot hold
            errors = sorted({*errors, f"{cid} failed: extracts not JSON"})
    return "\n".join([json.dumps(errors, separators=(",", ":")), *lines])


def _unframe(payload: str) -> tuple[list[str], list[tuple[str, str]]]:
    """_payload()'s errors and (collector id, JSON text) pairs."""
    first, *lines = payload.split("\n")
    errors: list[str] = [] if first == "[]" else json.loads(first)
    return errors, [(cid, text) for cid, _, text in (line.partition("\t") for line in lines)]
