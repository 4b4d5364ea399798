"""Run every collector over the walked files: parallel per-file extraction, cached, then link.

Extraction is the expensive part (parsing), so it fans out over worker processes when the
repository is large enough to pay for them, and each file's extracts are cached by content
hash (see cache.py): an unchanged file is never extracted twice (link parses again only the
lines of the functions whose guard summaries it reads: pyweb_lazy). A file that fails to parse,
or makes a collector raise, is counted in ``not_parsed``; it never stops the scan.

Test code (``scope.code_of_tests``: by its path, or the repository's ``[tool.threatmodel.scope]``)
goes only to the collectors that read it without parsing (``reads_test_code``: token-format
secrets, prompt injection, manifests): it is read and hashed, never parsed.

It streams: the main process reads and hashes a batch of files at a time and looks them up
in the cache; workers get the paths of the misses, read and parse them, and send back each
file's extracts as text; new cache entries are written as they arrive. Only the extracts
(which linking needs) are held, never file contents nor the whole cache.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatmodel import __version__
from threatmodel.code.collector import Collector, FactsBuilder, LinkContext, link_order
from threatmodel.code.components import app_roots, with_components
from threatmodel.code.pyast import forget_tree
from threatmodel.code.source import INVALID_UTF8, SourceFile, detect_language
from threatmodel.collect._document_stores import without_document_store
from threatmodel.collect._link import gc_paused, link_each, production_first
from threatmodel.collect.cache import FactCache
from threatmodel.collect.registry import all_collectors
from threatmodel.collect.scope import ScopeConfig, code_of_tests
from threatmodel.models import Facts, Route
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


# What extract() runs: the collect package and the layers to its left (DESIGN.md "Layers").
# A change in any of them can change an extract, so all of their code is in the signature.
_EXTRACT_CODE = (
    "models.py",
    "errors.py",
    "progress.py",
    "code",
    "frameworks",
    "dataflow",
    "claims",
    "collect",
)


def signature(collectors: list[Collector]) -> str:
    """Cache namespace: tool version, collector ids and versions, and the code extracts run.

    Hashing the code means a changed collector, parser or dataflow rule never serves stale
    extracts, even when someone forgets to bump a ``version``.
    """
    h = hashlib.sha256(
        (__version__ + "|" + ",".join(f"{c.id}:{c.version}" for c in collectors)).encode()
    )
    package = Path(__file__).parent.parent
    for name in _EXTRACT_CODE:
        part = package / name
        for path in sorted(part.rglob("*.py")) if part.is_dir() else [part]:
            h.update(path.relative_to(package).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def collect_facts(
    root: Path,
    files: list[str],
    cache: FactCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    scope: ScopeConfig | None = None,
) -> CollectResult:
    """``scope``: the repository's ``[tool.threatmodel.scope]`` (default: none)."""
    progress = progress or NullProgress()
    collectors = all_collectors()
    tests = code_of_tests(files, scope)
    sig = signature(collectors)
    jobs = jobs or min(os.cpu_count() or 1, 4)
    progress.start("collect", len(files))
    # Each collector's extracts stay JSON text until its link runs: decoded, the extracts of
    # 50k files take several times the memory (issue 11).
    per_collector: dict[str, dict[str, str]] = {c.id: {} for c in collectors}
    result = CollectResult(facts=Facts())
    fresh: list[tuple[str, str]] = []
    bad_utf8: list[str] = []
    ctx = LinkContext(root=root, files=tuple(files), tests=tests)
    # Production code goes first: once it is all extracted, the collectors that read no test
    # code link (in this process) while the workers read the test code and the text files
    # the rest want. Each collector links into its own builder; they merge in collector
    # order, so the facts are those of one builder linked in that order.
    readers = {path: interested(collectors, path, path in tests) for path in files}
    order, early_files = production_first(files, readers, tests)
    # link_order: a collector links after those it names in ``link_after`` (flows_python
    # binds the URL captures of the routes pyweb linked)
    early = link_order([c for c in collectors if not c.reads_test_code])
    parts: dict[str, FactsBuilder] = {}
    routes: list[Route] = []  # every route linked so far, in link order (see link_each)
    # Every object alive now (imported code, catalogs, compiled patterns) outlives the scan:
    # frozen, the cyclic collector stops walking them again each time parsing allocates
    # (its time extracting 1,500 saleor files in one process: ~1.0 s -> 0.38 s of ~12 s).
    # Thawed after, so a long-lived caller (tests, ``ask``) still frees its own garbage.
    gc.freeze()
    try:
        if not early_files:
            link_each(early, per_collector, files, ctx, parts, result.not_parsed, routes)
        run = _extract_all(
            root, order, collectors, sig, cache, jobs, tests, len(early_files), readers
        )
        for fr in run:
            progress.advance()
            result.files_parsed += 1
            if fr.digest:
                result.digests[fr.path] = fr.digest
            if fr.payload is not None:
                if fr.cached:
                    result.cache_hits += 1
                elif fr.digest:
                    fresh.append((_key(fr.digest, fr.path in tests), fr.payload))
                    if cache is not None and len(fresh) >= PUT_EVERY:
                        cache.put_many(sig, fresh)  # written as they come: memory stays flat
                        fresh = []
                # Extracts always pass through JSON, cached or not, so a cold and a warm
                # scan link exactly the same data.
                errors, extracts = _unframe(fr.payload)
                result.not_parsed.extend(f"{fr.path}: {e}" for e in errors if not is_decode_note(e))
                bad_utf8.extend(f"{fr.path} ({e})" for e in errors if is_decode_note(e))
                for cid, data in extracts:
                    if data != "null" and cid in per_collector:
                        per_collector[cid][fr.path] = data
            if fr.path in early_files:
                early_files.discard(fr.path)
                if not early_files:
                    link_each(early, per_collector, files, ctx, parts, result.not_parsed, routes)
        if cache is not None and fresh:
            cache.put_many(sig, fresh)
    finally:
        gc.unfreeze()
    progress.finish()

    late = link_order([c for c in collectors if c.id not in parts])
    link_each(late, per_collector, files, ctx, parts, result.not_parsed, routes)
    gc.unfreeze()
    builder = FactsBuilder()
    for c in collectors:
        builder.merge(parts[c.id])
    # each app of a monorepo is its own component: routes of two apps never merge
    builder.routes = with_components(builder.routes, app_roots(root, files))
    builder.flows = without_document_store(builder.flows, builder.dependencies)
    result.facts = builder.build()
    result.warnings = list(dict.fromkeys(builder.warnings))  # de-duplicated, in order
    if bad_utf8:
        more = f" (+{len(bad_utf8) - 3} more)" if len(bad_utf8) > 3 else ""
        result.warnings.append(
            f"{len(bad_utf8)} file{' is' if len(bad_utf8) == 1 else 's are'} not valid UTF-8, "
            f"read with replacement characters: "
            f"{', '.join(sorted(bad_utf8)[:3])}{more}"
        )
    result.not_parsed.sort()
    return result


def is_decode_note(error: str) -> bool:
    """A file's "invalid UTF-8" note: it was read (with replacements), not left unparsed."""
    return error.startswith(INVALID_UTF8)


def _extract_all(
    root: Path,
    files: list[str],
    collectors: list[Collector],
    sig: str,
    cache: FactCache | None,
    jobs: int,
    tests: frozenset[str],
    unbounded_from: int = 0,
    readers: dict[str, list[Collector]] | None = None,
) -> Iterator[_FileResult]:
    """Every file's result, in ``files`` order (the files from ``unbounded_from`` on are
    handed to the workers without waiting for results).

    The main process reads and hashes each batch and looks it up in the cache (cheap: a
    tenth of a second per 10k files; skipped when the cache holds nothing of this
    signature); only the misses are parsed, by worker processes when
    there are enough of them to pay for a pool. A warm scan, or a re-scan after one edit,
    never starts a worker.
    """
    lookup = cache.lookup if cache is not None and cache.holds(sig) else None
    parallel = jobs > 1 and len(files) >= PARALLEL_THRESHOLD
    # With nothing to look up (no cache, or a cold one), this process need not read or hash
    # a file the workers read anyway: it hands out paths at once and keeps its core for them.
    blind = parallel and lookup is None
    pool: ProcessPoolExecutor | None = None
    in_flight: deque[Future[list[_FileResult]]] = deque()
    misses: list[str] = []  # paths read and not found in the cache, not yet handed out
    try:
        for start in range(0, len(files), BATCH):
            batch = files[start : start + BATCH]
            if blind:
                read: list[tuple[_FileResult, bytes | None, list[Collector]]] = []
                for path in batch:
                    if _readers(path, collectors, tests, readers):
                        misses.append(path)
                    else:
                        read.append((_FileResult(path, "", None, cached=False), None, []))
            else:
                read = _read_batch(root, batch, collectors, sig, lookup, tests, readers)
            for fr, data, wanted in read:
                if data is None:
                    yield fr  # cached, unreadable, or wanted by no collector
                elif not parallel:
                    yield _extract(fr, data, wanted, fr.path in tests)
                else:
                    misses.append(fr.path)
            if len(misses) >= BATCH:
                # Workers get paths, never contents: each reads its own files (fork keeps the
                # imports), so only the parsed extracts cross a pipe.
                pool = pool or ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker)
                in_flight.append(pool.submit(_worker_batch, str(root), misses, tests & set(misses)))
                misses = []
            # At most a few batches ahead while production code is handed out; past it, all
            # of the rest is queued before any result is taken, so the workers never wait
            # while this process links (collect_facts links on the last production result).
            if start + BATCH < unbounded_from:
                while in_flight and (in_flight[0].done() or len(in_flight) > 4 * jobs):
                    yield from in_flight.popleft().result()
        if misses:
            if pool is None:  # a handful of changed files: not worth a pool
                yield from _worker_batch(str(root), misses, tests, collectors)
            else:
                in_flight.append(pool.submit(_worker_batch, str(root), misses, tests & set(misses)))
        while in_flight:
            yield from in_flight.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


_worker_collectors: list[Collector] = []


# How much lower than the main process a worker runs: once the production code is
# extracted, the main process links it (one core, the critical path) while the workers read
# the test code; at an equal priority three processes shared two cores there.
WORKER_NICENESS = 5


def _init_worker() -> None:
    if hasattr(os, "nice"):  # POSIX only; a worker that cannot lower itself runs as it is
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)
    _worker_collectors[:] = all_collectors()
    gc.freeze()  # the imports and catalogs live as long as the worker (see collect_facts)


def _worker_batch(
    root: str,
    paths: list[str],
    tests: frozenset[str],
    collectors: list[Collector] | None = None,
) -> list[_FileResult]:
    """Read and extract ``paths`` (cache misses), in a worker or in the main process."""
    collectors = collectors or _worker_collectors
    out = []
    for fr, data, wanted in _read_batch(Path(root), paths, collectors, "", None, tests):
        out.append(fr if data is None else _extract(fr, data, wanted, fr.path in tests))
    return out


def _read_batch(
    root: Path,
    paths: list[str],
    collectors: list[Collector],
    sig: str,
    lookup: Callable[[str, list[str]], dict[str, str]] | None,
    tests: frozenset[str],
    readers: dict[str, list[Collector]] | None = None,
) -> list[tuple[_FileResult, bytes | None, list[Collector]]]:
    """Read and hash a batch of files and look their digests up in one query.

    Each result comes with the file's bytes when it still has to be extracted (a cache
    miss), else with None (a hit, an unreadable file, or a file no collector wants), and
    with the collectors that read it (``readers``, when the caller already knows them).
    """
    out: list[tuple[_FileResult, bytes | None, list[Collector]]] = []
    for path in paths:
        wanted = _readers(path, collectors, tests, readers)
        if not wanted:
            out.append((_FileResult(path, "", None, cached=False), None, wanted))
            continue
        try:
            with open(os.path.join(root, path), "rb") as fh:  # no Path object per file
                data = fh.read()
        except OSError as exc:
            error = f"unreadable: {exc.strerror or exc}"
            out.append((_FileResult(path, "", _payload({}, [error]), cached=False), None, wanted))
            continue
        # The path is part of the key: extracts may depend on where a file lives (Next.js).
        digest = hashlib.sha256(path.encode() + b"\0" + data).hexdigest()
        out.append((_FileResult(path, digest, None, cached=False), data, wanted))
    keys = [_key(fr.digest, fr.path in tests) for fr, data, _ in out if data is not None]
    hits = lookup(sig, keys) if lookup and keys else {}
    for i, (fr, _, wanted) in enumerate(out):
        hit = hits.get(_key(fr.digest, fr.path in tests))
        if hit is not None:
            fr.payload, fr.cached = hit, True
            out[i] = (fr, None, wanted)
    return out


def _readers(
    path: str,
    collectors: list[Collector],
    tests: frozenset[str],
    readers: dict[str, list[Collector]] | None,
) -> list[Collector]:
    """The collectors that read ``path`` (``readers``, when the caller already knows them)."""
    return readers[path] if readers is not None else interested(collectors, path, path in tests)


def _extract(fr: _FileResult, data: bytes, readers: list[Collector], test: bool) -> _FileResult:
    fr.payload = _extract_one(fr.path, data, readers, test)
    return fr


def interested(collectors: list[Collector], path: str, test: bool) -> list[Collector]:
    """The collectors that read ``path``: those that want its name; for test code only those
    that read it without a parse (see ``Collector.reads_test_code``)."""
    language = detect_language(path)
    return [c for c in collectors if (c.reads_test_code or not test) and c.wants(path, language)]


def _key(digest: str, test: bool) -> str:
    """A file's fact-cache key: its digest, tagged for test code, whose extracts are fewer
    (whether a file is test code depends on the scope globs and on the other files)."""
    return hashlib.sha256(f"test:{digest}".encode()).hexdigest() if test else digest


def _extract_one(path: str, data: bytes, interested: list[Collector], test: bool = False) -> str:
    src = SourceFile.from_bytes(path, data)
    if test:
        # Test code is never parsed, whatever a collector that reads it asks for: its trees
        # are "none" from the start (a collector then finds what the text alone shows).
        src.python_ast = src.ts_tree = None
    with gc_paused():
        try:
            return _extract_each(src, interested)
        finally:
            forget_tree()  # the file's tree dies now, while the collector is still paused


def _extract_each(src: SourceFile, interested: list[Collector]) -> str:
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
