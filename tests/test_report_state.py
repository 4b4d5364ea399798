"""The report cache's repository state, taken from collect's digests, equals a fresh reading.

``scan`` keys its stored Report on the digests collect computed while reading; ``ask`` keys
its lookup on a fresh reading of the tree. The two must agree, or ``ask`` never reuses it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.report_cache import repo_state, state_of

FIXTURE = Path(__file__).parent / "fixtures" / "python" / "django_app"


def test_state_from_collect_digests_matches_a_fresh_reading(tmp_path: Path) -> None:
    repo = tmp_path / "app"
    shutil.copytree(FIXTURE, repo)
    (repo / "data.csv").write_text("id,name\n1,a\n", encoding="utf-8")  # no collector reads CSV
    files = walk(repo).files
    collected = collect_facts(repo, files, jobs=1)
    assert collected.digests, "collect reports the digests of the files it read"
    assert set(collected.digests) < set(files), "some walked file is read by no collector"
    assert state_of(repo, files, collected.digests) == repo_state(repo)


def test_state_changes_with_a_file_no_collector_reads(tmp_path: Path) -> None:
    repo = tmp_path / "app"
    shutil.copytree(FIXTURE, repo)
    (repo / "data.csv").write_text("one", encoding="utf-8")
    before = repo_state(repo)
    (repo / "data.csv").write_text("two", encoding="utf-8")
    files = walk(repo).files
    after = state_of(repo, files, collect_facts(repo, files, jobs=1).digests)
    assert after != before
    assert after == repo_state(repo)
