"""The repository walker and the safe reader: what is read, what is skipped, what is refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import detect_language
from threatmodel.code.walk import resolve_root, walk
from threatmodel.errors import RepositoryError


def make_tree(root: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "index.js").write_text("module.exports = 1\n")
    (root / "static").mkdir()
    (root / "static" / "app.min.js").write_text("var a=1;")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n")
    (root / "big.py").write_text("x = 1\n" * 100_000)
    (root / "ignored.py").write_text("x = 2\n")
    (root / ".gitignore").write_text("ignored.py\n")


def test_plain_directory_walk_honours_gitignore_and_skips(tmp_path: Path) -> None:
    make_tree(tmp_path)
    result = walk(tmp_path, max_file_bytes=100_000)
    assert result.files == [".gitignore", "app/main.py"]
    reasons = dict(s.split(": ", 1) for s in result.skipped)
    assert "larger than" in reasons["big.py"]
    assert "minified" in reasons["static/app.min.js"]
    assert "logo.png" in reasons


def test_git_walk_lists_tracked_and_untracked_not_ignored(tmp_path: Path) -> None:
    make_tree(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "app/main.py", ".gitignore"], cwd=tmp_path, check=True)
    (tmp_path / "app" / "new.py").write_text("y = 1\n")
    result = walk(tmp_path, max_file_bytes=100_000)
    assert result.files == [".gitignore", "app/main.py", "app/new.py"]


def test_symlinks_out_of_repo_and_loops_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("KEY = 'x'\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ok.py").write_text("a = 1\n")
    os.symlink(outside / "secret.py", repo / "leak.py")
    os.symlink(outside, repo / "linkdir")
    os.symlink(repo, repo / "loop")
    result = walk(repo)
    assert result.files == ["ok.py"]
    assert any(s.startswith("leak.py: symlink out") for s in result.skipped)


def test_resolve_root_errors() -> None:
    with pytest.raises(RepositoryError, match="no such directory"):
        resolve_root("/definitely/not/here")
    with pytest.raises(RepositoryError, match="not a directory"):
        resolve_root(__file__)


@pytest.mark.parametrize(
    "path, why",
    [
        ("../../etc/passwd", "climbs out"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("leak.txt", "symlink that points outside"),
        ("missing.py", "does not exist"),
    ],
)
def test_reader_refuses_paths_outside_without_reading(tmp_path: Path, path: str, why: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    target = tmp_path / "outside.txt"
    target.write_text("top secret\n")
    os.symlink(target, repo / "leak.txt")
    reader = RepoReader(repo)
    with pytest.raises(PathRefused, match=why):
        reader.lines(path)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("app/main.py", "python"),
        ("web/Page.TSX", "tsx"),
        ("..py", "python"),  # a name of dots and a suffix: the suffix counts
        (".py", "other"),  # a hidden file named ".py" has no suffix
        ("notes.py.", "other"),  # a trailing dot: no suffix
        ("types.d.ts", "typescript"),
        ("deploy/.env.production", "env"),
        ("config/prod.env", "env"),
        ("Dockerfile.dev", "dockerfile"),
        ("requirements-dev.in", "requirements"),
        ("Makefile", "other"),
    ],
)
def test_detect_language_by_name(path: str, language: str) -> None:
    assert detect_language(path) == language


def test_a_scanned_repository_cannot_make_git_run_a_command(tmp_path: Path) -> None:
    """``core.fsmonitor`` in the scanned folder's own .git/config names a command git runs
    when it lists untracked files: the walk (and the commit lookup) must not run it."""
    from threatmodel.scan import git_commit

    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    marker = tmp_path / "ran"
    for args in (
        ["init", "-q"],
        ["add", "app.py"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "one"],
        ["config", "core.fsmonitor", f"touch {marker}; true"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    (root / "new.py").write_text("y = 2\n")  # untracked: ls-files --others lists it
    assert walk(root).files == ["app.py", "new.py"]
    assert git_commit(root) is not None
    assert not marker.exists()
