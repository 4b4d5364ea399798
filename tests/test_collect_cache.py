"""The per-file extract cache and the parallel extraction: same facts however they are made.

A cold scan, a warm one (every file from the cache), one without a cache and one through the
process pool must produce identical facts; a changed file is parsed again and only it.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from threatmodel.code.walk import walk
from threatmodel.collect import _run, collect_facts
from threatmodel.collect.cache import FactCache

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A Flask app and an Express app side by side, copied so a test may edit them."""
    root = tmp_path / "repo"
    root.mkdir()
    for app in sorted((FIXTURES / "python").iterdir()):
        if app.is_dir():
            shutil.copytree(app, root / "py" / app.name)
            break
    for app in sorted((FIXTURES / "js").iterdir()):
        if app.is_dir():
            shutil.copytree(app, root / "js" / app.name)
            break
    return root


def _collect(root: Path, cache_dir: Path | None, jobs: int = 1) -> _run.CollectResult:
    cache = FactCache(cache_dir) if cache_dir is not None else None
    try:
        return collect_facts(root, walk(root).files, cache=cache, jobs=jobs)
    finally:
        if cache is not None:
            cache.close()


def test_warm_scan_reads_every_file_from_the_cache(repo: Path, tmp_path: Path) -> None:
    cold = _collect(repo, tmp_path / "cache")
    warm = _collect(repo, tmp_path / "cache")
    uncached = _collect(repo, None)
    assert cold.cache_hits == 0 and warm.cache_hits > 0
    assert warm.facts.routes, "the fixtures define routes"
    assert cold.facts == warm.facts == uncached.facts
    assert cold.not_parsed == warm.not_parsed == uncached.not_parsed


def test_a_changed_file_is_parsed_again_and_only_it(repo: Path, tmp_path: Path) -> None:
    _collect(repo, tmp_path / "cache")
    cacheable = _collect(repo, tmp_path / "cache").cache_hits
    target = sorted(repo.rglob("*.py"))[0]
    target.write_text(target.read_text() + "\n\ndef added_later():\n    return 1\n")
    again = _collect(repo, tmp_path / "cache")
    assert again.cache_hits == cacheable - 1
    assert _collect(repo, tmp_path / "cache").cache_hits == cacheable  # stored on the way


def test_process_pool_gives_the_same_facts(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_run, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(_run, "BATCH", 3)
    sequential = _collect(repo, None)
    cold = _collect(repo, tmp_path / "cache", jobs=2)
    warm = _collect(repo, tmp_path / "cache", jobs=2)
    assert warm.cache_hits > 0 and cold.cache_hits == 0
    assert sequential.facts == cold.facts == warm.facts


def test_cache_lookup_is_by_signature_and_digest(tmp_path: Path) -> None:
    cache = FactCache(tmp_path)
    cache.put_many("sig1", [("d1", '{"a":1}'), ("d2", '{"b":2}')])
    assert cache.lookup("sig1", ["d1", "d3"]) == {"d1": '{"a":1}'}
    assert cache.lookup("other", ["d1"]) == {}
    # A new signature drops the old entries: they could never be hit again.
    cache.put_many("sig2", [("d1", "{}")])
    assert cache.lookup("sig1", ["d1", "d2"]) == {}
    cache.close()


def test_unreadable_cache_is_only_a_miss(tmp_path: Path) -> None:
    bad = tmp_path / "facts.sqlite3"
    bad.write_bytes(b"not a database at all" * 100)
    cache = FactCache(tmp_path)
    assert cache.lookup("sig", ["d"]) == {}
    cache.put_many("sig", [("d", "{}")])  # not written, and no error
    assert cache.lookup("sig", ["d"]) == {}
    assert bad.read_bytes().startswith(b"not a database")
    cache.close()


def test_a_rescan_after_one_edit_starts_no_worker(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_run, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(_run, "BATCH", 3)
    cold = _collect(repo, tmp_path / "cache", jobs=2)
    target = sorted(repo.rglob("*.py"))[0]
    target.write_text(target.read_text() + "\n\ndef added_later():\n    return 1\n")

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool was started for one changed file")

    monkeypatch.setattr(_run, "ProcessPoolExecutor", no_pool)
    again = _collect(repo, tmp_path / "cache", jobs=2)
    assert again.cache_hits == len(cold.digests) - 1  # every file read but the edited one
    assert again.facts.routes == cold.facts.routes


def test_a_cold_parallel_collect_leaves_the_reading_to_the_workers(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing in the cache to look up, this process hands out paths unread (the
    workers read and hash each file once); a warm scan reads here to look each file up."""
    monkeypatch.setattr(_run, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(_run, "BATCH", 3)
    sequential = _collect(repo, None)
    read_here: list[int] = []  # a forked worker's calls land in its own copy of this list
    real = _run._read_batch

    def counted(*args: Any, **kwargs: Any) -> Any:
        read_here.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(_run, "_read_batch", counted)
    cold = _collect(repo, tmp_path / "cache", jobs=2)
    assert read_here == []
    assert cold.digests == sequential.digests and cold.facts == sequential.facts
    warm = _collect(repo, tmp_path / "cache", jobs=2)
    assert sum(read_here) == len(walk(repo).files)
    assert warm.cache_hits == len(cold.digests) and warm.facts == cold.facts


def test_cache_holds_only_what_was_stored_under_the_signature(tmp_path: Path) -> None:
    cache = FactCache(tmp_path)
    assert not cache.holds("sig1")
    cache.put_many("sig1", [("d1", "{}")])
    assert cache.holds("sig1") and not cache.holds("sig2")
    cache.close()


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX process priorities")
def test_workers_run_below_the_process_that_links() -> None:
    """The main process links the production code while the workers read the test code:
    on as many cores as workers, it must not have to share its core with them."""
    mine = os.nice(0)
    with ProcessPoolExecutor(max_workers=1, initializer=_run._init_worker) as pool:
        theirs = pool.submit(os.nice, 0).result()
    assert theirs == min(19, mine + _run.WORKER_NICENESS)
