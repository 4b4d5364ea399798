"""gitrefs.link_tree: the commit trees diff scans, made of hard links, equal git's export.

Exporting every file of a large repository twice cost more than scanning it (issue 11), so
diff links the head commit's files to a clean working tree and the base commit's to the
head's, writing only what the change touched. These tests hold the linked trees to
``export_tree`` (git's own checkout-index) file by file, and check the working tree is
never written through a link.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from diff_support import commit_all, git

from threatmodel.diff.gitrefs import changed_files, export_tree, link_tree, open_repo


def _tree(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every file and symlink under ``root``: kind and content (or link target)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path).encode())
            else:
                out[rel] = ("file", path.read_bytes())
    return out


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """Two commits: base, and head modifying, adding, deleting, renaming and re-linking."""
    repo = tmp_path / "repo"
    (repo / "app" / "api").mkdir(parents=True)
    (repo / "app" / "main.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (repo / "app" / "api" / "users.py").write_text("def users():\n    return []\n")
    (repo / "app" / "old_name.py").write_text("X = 1\n")
    (repo / "app" / "gone.py").write_text("Y = 2\n")
    (repo / "README.md").write_text("# demo\n")
    os.symlink("main.py", repo / "app" / "entry.py")
    git(repo, "init", "-q", "-b", "main")
    base = commit_all(repo, "base")
    (repo / "app" / "main.py").write_text("from flask import Flask\napp = Flask('x')\n")
    (repo / "app" / "api" / "orders.py").write_text("def orders():\n    return []\n")
    (repo / "app" / "gone.py").unlink()
    (repo / "app" / "old_name.py").rename(repo / "app" / "new_name.py")
    (repo / "app" / "entry.py").unlink()
    os.symlink("api/users.py", repo / "app" / "entry.py")
    head = commit_all(repo, "head")
    return repo, base, head


@pytest.mark.parametrize("folder", ["", "app"])
def test_linked_trees_equal_gits_export(
    repo: tuple[Path, str, str], tmp_path: Path, folder: str
) -> None:
    root, base, head = repo
    gr = open_repo(root / folder if folder else root)
    touched = changed_files(gr, base, head)
    scratch = tmp_path / "scratch"  # same file system as the repository
    head_dir = link_tree(gr, head, scratch / "head")
    assert head_dir is not None
    base_dir = link_tree(gr, base, scratch / "base", head_dir, touched)
    assert base_dir is not None
    assert _tree(head_dir) == _tree(export_tree(gr, head, tmp_path / "export-head"))
    assert _tree(base_dir) == _tree(export_tree(gr, base, tmp_path / "export-base"))
    # An untouched file really is a link to the working tree, a touched one never is.
    readme = "README.md" if not folder else "api/users.py"
    wt = (root / folder / readme) if folder else root / readme
    assert (base_dir / readme).stat().st_ino == wt.stat().st_ino
    assert (base_dir / "main.py" if folder else base_dir / "app/main.py").stat().st_ino != (
        root / "app" / "main.py"
    ).stat().st_ino


def test_a_modified_working_tree_or_another_commit_is_exported_instead(
    repo: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, base, head = repo
    gr = open_repo(root)
    assert link_tree(gr, base, tmp_path / "b") is None  # HEAD is not base
    main = root / "app" / "main.py"
    same_size = main.read_text().replace("Flask(", "Flesk(")  # the size cannot tell
    main.write_text(same_size)
    assert link_tree(gr, head, tmp_path / "h") is None
    git(root, "checkout", "-q", "--", "app/main.py")
    readme = root / "README.md"
    readme.write_text(readme.read_text().upper())  # "# DEMO": same size, outside app/
    assert link_tree(gr, head, tmp_path / "h1") is None
    git(root, "checkout", "-q", "--", "README.md")
    assert link_tree(gr, head, tmp_path / "h2") is not None


def test_the_working_tree_is_never_written(repo: tuple[Path, str, str], tmp_path: Path) -> None:
    root, base, head = repo
    gr = open_repo(root)
    before = _tree(root / "app")
    head_dir = link_tree(gr, head, tmp_path / "head")
    assert head_dir is not None
    link_tree(gr, base, tmp_path / "base", head_dir, changed_files(gr, base, head))
    assert _tree(root / "app") == before
    assert git(root, "status", "--porcelain") == ""
