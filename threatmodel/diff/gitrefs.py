"""Git for ``threatmodel diff``: resolve refs, export a commit's tree, list the changed files.

A commit's files are written to a temporary folder through a private index file
(``git read-tree`` into ``GIT_INDEX_FILE``, then ``git checkout-index --prefix``), so the user's
working tree, index, HEAD and worktree list are never touched. ``git archive`` was not used
because it honours ``export-ignore`` attributes from the tree it exports: a pull request could
add one and hide a file from its own review.

Writing every file of a large repository twice costs more than scanning it (10k files: 3 to 7
s each on the machines measured), so when it is safe the trees are made of hard links
instead (``link_tree``): the head commit's from a clean working tree that has it checked out,
the base commit's from the head's, with only the files the change touched written from git's
objects. A link is read, never written, and a touched file is a new file, never a link.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from threatmodel.errors import RepositoryError


@dataclass(frozen=True)
class GitRepo:
    """A git repository and the folder inside it that is scanned."""

    repo: git.Repo
    root: Path  # the working tree root
    prefix: str  # the scanned folder relative to root, POSIX, "" or ending in "/"


def open_repo(path: Path) -> GitRepo:
    """The repository containing ``path``; RepositoryError when there is none."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepositoryError(
            f"{path} is not inside a git repository; `threatmodel diff` compares two commits."
        ) from None
    if repo.working_tree_dir is None:
        raise RepositoryError(f"{path} is a bare repository; run diff in a checkout.")
    root = Path(repo.working_tree_dir).resolve()
    rel = path.resolve().relative_to(root).as_posix()
    return GitRepo(repo=repo, root=root, prefix="" if rel == "." else rel + "/")


def resolve_ref(gr: GitRepo, ref: str) -> str:
    """The full commit SHA a ref names; RepositoryError saying how to fix a missing one."""
    if not ref or ref.startswith("-"):  # never let a ref be read as an option by git
        raise RepositoryError(f"invalid git ref {ref!r}.")
    try:
        return str(gr.repo.commit(ref).hexsha)
    except (git.BadName, git.BadObject, ValueError, git.GitCommandError):
        raise RepositoryError(
            f"git ref {ref!r} does not exist in {gr.root} (in CI, fetch it first: "
            "actions/checkout with fetch-depth: 0)."
        ) from None


def export_tree(gr: GitRepo, sha: str, dest: Path) -> Path:
    """Write the scanned folder of commit ``sha`` under ``dest`` and return it.

    A folder that does not exist at that commit (added or removed by the change) exports as
    an empty folder, so a diff against it reads as everything added or removed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    tree = gr.repo.commit(sha).tree
    if gr.prefix:
        try:
            tree = tree / gr.prefix.rstrip("/")
        except KeyError:
            return dest
        if tree.type != "tree":
            return dest
    index_file = dest.parent / f".{dest.name}.index"
    env = {
        "GIT_INDEX_FILE": str(index_file),
        # Never fetch large files while exporting; their pointers are what gets scanned.
        "GIT_LFS_SKIP_SMUDGE": "1",
    }
    try:
        gr.repo.git.read_tree(tree.hexsha, env=env)
        gr.repo.git.checkout_index("-a", "-f", f"--prefix={dest}{os.sep}", env=env)
    except git.GitCommandError as exc:
        raise RepositoryError(
            f"cannot export commit {sha[:12]}: {exc.stderr.strip() or exc}"
        ) from None
    finally:
        index_file.unlink(missing_ok=True)
    return dest


@dataclass(frozen=True)
class _Entry:
    mode: str  # git's file mode: 100644 / 100755 files, 120000 symlinks, 160000 submodules
    blob: str
    size: int  # -1 for a submodule


def _entries(gr: GitRepo, sha: str) -> dict[str, _Entry]:
    """The scanned folder's files at commit ``sha``, by path relative to the folder."""
    spec = f":(top){gr.prefix}" if gr.prefix else ":(top)"
    out = gr.repo.git.ls_tree("-r", "-l", "-z", "--full-tree", sha, "--", spec)
    entries = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, name = record.partition("\t")
        mode, _kind, blob, size = meta.split()
        if name.startswith(gr.prefix):
            rel = name[len(gr.prefix) :]
            entries[rel] = _Entry(mode, blob, int(size) if size != "-" else -1)
    return entries


def link_tree(
    gr: GitRepo,
    sha: str,
    dest: Path,
    source: Path | None = None,
    touched: Iterable[str] = (),
) -> Path | None:
    """Commit ``sha``'s scanned folder under ``dest`` as hard links, or None (then export).

    Without ``source``: links to the working tree, only when HEAD is ``sha`` and every file
    of the folder is unmodified there (same content as far as git can tell, and the size of
    its blob: a smudge or end-of-line filter would change it). With ``source``, a folder
    holding another commit, and ``touched``, every file that differs between the two (the
    caller's ``changed_files``): links to it for the files they share, and writes the
    touched ones from ``sha``'s objects. None when links cannot be made
    (another file system) or the working tree does not hold ``sha``.
    """
    entries = _entries(gr, sha)
    changed = set(touched)
    if source is None:
        source = gr.root / gr.prefix if gr.prefix else gr.root
        spec = f":(top){gr.prefix}" if gr.prefix else ":(top)"
        if gr.repo.head.commit.hexsha != sha or gr.repo.git.diff("HEAD", "--name-only", "--", spec):
            return None
    if any(not _safe_name(rel) for rel in entries):
        return None  # let git's own checkout refuse it
    try:
        for rel, entry in sorted(entries.items()):
            target = dest / rel
            if entry.mode == "160000":
                continue  # a submodule: checkout-index writes none of its files either
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in changed:
                _write_blob(gr, entry, target)
                continue
            origin = source / rel
            if entry.mode != "120000" and origin.lstat().st_size != entry.size:
                return None  # a filter rewrote it in the working tree: export instead
            os.link(origin, target, follow_symlinks=False)
    except (OSError, ValueError):
        return None
    return dest


def _safe_name(rel: str) -> bool:
    """No component that could lead out of ``dest`` or into a .git folder (a crafted tree)."""
    parts = rel.split("/")
    return all(p not in ("", ".", "..") and p.lower() != ".git" for p in parts)


def _write_blob(gr: GitRepo, entry: _Entry, target: Path) -> None:
    data = gr.repo.odb.stream(bytes.fromhex(entry.blob)).read()
    if entry.mode == "120000":
        os.symlink(os.fsdecode(data), target)  # as checkout-index writes a symlink
    else:
        target.write_bytes(data)


def changed_files(gr: GitRepo, base: str, head: str) -> list[str]:
    """Files that differ between the commits, relative to the scanned folder, sorted.

    Renames are listed as the old and the new path, so both sides' facts count as touched.
    """
    spec = f":(top){gr.prefix}" if gr.prefix else ":(top)"
    out = gr.repo.git.diff("--name-only", "-z", "--no-renames", base, head, "--", spec)
    names = [n for n in out.split("\0") if n]
    rel = [PurePosixPath(n).as_posix()[len(gr.prefix) :] for n in names]
    return sorted(set(rel))


def remote_slug(gr: GitRepo) -> str | None:
    """OWNER/NAME from an ``origin`` remote on github.com, for evidence links; else None."""
    try:
        url = gr.repo.remotes.origin.url
    except (AttributeError, IndexError, ValueError):
        return None
    for lead in ("https://github.com/", "git@github.com:", "ssh://git@github.com/"):
        if url.startswith(lead):
            slug = url[len(lead) :].removesuffix("/").removesuffix(".git")
            if slug.count("/") == 1 and all(slug.split("/")):
                return slug
    return None
