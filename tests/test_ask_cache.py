"""The report cache: `ask` reuses the last scan of an unchanged repository, rescans otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

from ask_support import SHOP
from conftest import git_repo_copy
from typer.testing import CliRunner

from threatmodel.cli import build_app
from threatmodel.config import resolve_settings
from threatmodel.report_cache import CACHE_FILE, cached_or_scan, load_report, repo_state


def test_reuse_and_invalidate_in_git_repo(tmp_path: Path) -> None:
    repo = git_repo_copy(SHOP, tmp_path / "shop")
    settings = resolve_settings(repo, cache_dir=tmp_path / "cache")
    first, reused = cached_or_scan(repo, settings)
    assert not reused and (tmp_path / "cache" / CACHE_FILE).is_file()
    again, reused = cached_or_scan(repo, settings)
    assert reused and again.model_dump(mode="json") == first.model_dump(mode="json")
    # an uncommitted edit changes the state
    (repo / "app.py").write_text((repo / "app.py").read_text() + "\n# edited\n")
    _, reused = cached_or_scan(repo, settings)
    assert not reused
    _, reused = cached_or_scan(repo, settings)
    assert reused
    # so does a new untracked file
    (repo / "extra.py").write_text("X = 1\n")
    _, reused = cached_or_scan(repo, settings)
    assert not reused


def test_plain_directory_and_corrupt_cache(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    shutil.copytree(SHOP, repo)
    settings = resolve_settings(repo, cache_dir=tmp_path / "cache")
    cached_or_scan(repo, settings)
    (tmp_path / "cache" / CACHE_FILE).write_text("{not json")
    assert load_report(tmp_path / "cache", repo_state(repo)) is None
    _, reused = cached_or_scan(repo, settings)
    assert not reused
    (repo / "web" / "api.js").unlink()
    _, reused = cached_or_scan(repo, settings)
    assert not reused


def test_scan_command_saves_the_report_for_ask(tmp_path: Path) -> None:
    repo = git_repo_copy(SHOP, tmp_path / "shop")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(
        build_app(),
        ["scan", str(repo), "-q", "-o", str(tmp_path / "tm.md"), "--cache-dir", str(cache)],
    )
    assert result.exit_code in (0, 1), result.output
    assert load_report(cache, repo_state(repo)) is not None
    _, reused = cached_or_scan(repo, resolve_settings(repo, cache_dir=cache))
    assert reused


def test_rescan_ignores_a_matching_cache(tmp_path: Path) -> None:
    repo = git_repo_copy(SHOP, tmp_path / "shop")
    settings = resolve_settings(repo, cache_dir=tmp_path / "cache")
    cached_or_scan(repo, settings)
    _, reused = cached_or_scan(repo, settings, reuse=False)
    assert not reused
    args = ["ask", str(repo), "/env", "--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(build_app(), [*args, "--rescan"])
    assert result.exit_code == 0 and "fresh scan" in result.stderr
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0 and "cached scan (repository unchanged)" in result.stderr
