"""Walk a repository: which files the collectors may read.

In a git checkout the candidates are the tracked files plus untracked ones that are not
ignored (``git ls-files --cached --others --exclude-standard``); elsewhere a directory walk
that honours ``.gitignore`` files. Either way vendored, generated, minified and binary files
and files over the size cap are skipped and counted, and no symlink is followed out of the
repository (nor a symlinked directory at all: it could loop).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from threatmodel.errors import RepositoryError

DEFAULT_MAX_FILE_BYTES = 2_000_000

# Directory names that hold third-party or generated code, never the app's own.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "vendors",
        "third_party",
        "site-packages",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "dist",
        "build",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".output",
        "coverage",
        ".turbo",
        ".cache",
        "target",
        ".threatmodel",
        "htmlcov",
        ".parcel-cache",
        "out",
    }
)

SKIP_SUFFIXES = (
    ".min.js",
    ".min.css",
    ".bundle.js",
    ".map",
    ".lock.json",
    "-lock.yaml",
    ".pyc",
    ".pyo",
    ".so",
    ".dll",
    ".dylib",
    ".exe",
    ".bin",
    ".o",
    ".a",
    ".class",
    ".jar",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".ico",
    ".webp",
    ".svg",
    ".pdf",
    ".zip",
    ".gz",
    ".tgz",
    ".bz2",
    ".xz",
    ".7z",
    ".woff",
    ".woff2",
    ".ttf",
    ".eot",
    ".otf",
    ".mp3",
    ".mp4",
    ".mov",
    ".webm",
    ".wav",
    ".sqlite",
    ".db",
    ".gguf",
    ".onnx",
    ".pt",
    ".pkl",
    ".parquet",
)

# Lockfiles are generated but are exactly what the dependency collector reads.
KEEP_NAMES = frozenset(
    {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock"}
)


NOT_UTF8_NAME = "file name is not valid UTF-8"


@dataclass
class WalkResult:
    files: list[str] = field(default_factory=list)  # repo-relative POSIX paths, sorted
    skipped: list[str] = field(default_factory=list)  # "path: reason"


def resolve_root(path: str | os.PathLike[str]) -> Path:
    """The repository root as an absolute path, or a RepositoryError saying what is wrong."""
    root = Path(path).expanduser()
    if not root.exists():
        raise RepositoryError(f"{path}: no such directory. Pass the path of a repository to scan.")
    if not root.is_dir():
        raise RepositoryError(f"{path}: not a directory. Pass the repository's root folder.")
    if not os.access(root, os.R_OK | os.X_OK):
        raise RepositoryError(f"{path}: permission denied. Check that you can read this folder.")
    return root.resolve()


def is_inside(root: Path, candidate: Path) -> bool:
    """True when ``candidate`` (after resolving symlinks) stays inside ``root``."""
    try:
        candidate.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: symlink loop on old Pythons
        return False
    return True


def walk(root: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> WalkResult:
    """List the files the collectors should read. ``root`` must come from resolve_root."""
    result = WalkResult()
    for rel in sorted(set(_candidates(root))):
        reason = _skip_reason(root, rel, max_file_bytes)
        if reason:
            # A name that is not UTF-8 arrives with surrogate escapes: keep the message printable.
            shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
            result.skipped.append(f"{shown}: {reason}")
        else:
            result.files.append(rel)
    return result


def _candidates(root: Path) -> Iterator[str]:
    listed = _git_ls_files(root)
    if listed is not None:
        yield from listed
        return
    yield from _directory_walk(root)


def _git_ls_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, or None when root is not a git work tree."""
    if not (root / ".git").exists():
        return None
    import git  # GitPython imports slowly; only pay for it in git checkouts

    try:
        repo = git.Repo(root)
        out = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    except (git.GitError, OSError, ValueError):
        return None  # a broken .git: fall back to walking the directory
    return [p for p in out.split("\0") if p]


def _directory_walk(root: Path) -> Iterator[str]:
    specs: list[tuple[str, pathspec.PathSpec]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        if ".gitignore" in filenames:
            try:
                lines = (Path(dirpath) / ".gitignore").read_text("utf-8", "replace").splitlines()
                specs.append((rel_dir, pathspec.PathSpec.from_lines("gitignore", lines)))
            except OSError:
                pass
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not (d == "env" and _is_virtualenv(Path(dirpath) / d))
            and not _ignored(specs, _join(rel_dir, d) + "/")
        )
        for name in filenames:
            rel = _join(rel_dir, name)
            if not _ignored(specs, rel):
                yield rel


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], rel: str) -> bool:
    for base, spec in specs:
        if base and not rel.startswith(base + "/"):
            continue
        if spec.match_file(rel[len(base) + 1 :] if base else rel):
            return True
    return False


def _is_virtualenv(path: Path) -> bool:
    """``env/`` is a common virtualenv name but also an ordinary folder (``config/env/``)."""
    return (path / "pyvenv.cfg").is_file()


def _skip_reason(root: Path, rel: str, max_file_bytes: int) -> str | None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        # Paths are UTF-8 in every report format; such a file could be read but never named.
        return NOT_UTF8_NAME
    parts = rel.split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]) or any(
        p == "env" and _is_virtualenv(root.joinpath(*parts[: i + 1]))
        for i, p in enumerate(parts[:-1])
    ):
        return "vendored or generated directory"
    name = parts[-1]
    lower = name.lower()
    if lower.endswith(SKIP_SUFFIXES) and name not in KEEP_NAMES:
        return "binary, minified or generated"
    path = root / rel
    if path.is_symlink() and not is_inside(root, path):
        return "symlink out of the repository"
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    if not path.is_file():
        return "not a regular file"
    if st.st_size > max_file_bytes:
        return f"larger than {max_file_bytes} bytes"
    return None
