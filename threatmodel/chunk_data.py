"""The data chunk: data files the application's code reads (seed users, security questions).

A structured data file (YAML, JSON, CSV) in the repository is the application's data when
its code names it: one non-test code file holds a string literal of the file's path
(``'data/users.yml'``, ``'./seed/users.json'``), or of its folder together with a literal of
its extension (``'./data/static/' + name + '.yml'``: the path is built from a key). Such
files are what the application loads into its database or serves: default accounts, weak
security questions, test credentials left in seed data are threats that live in them, not
in any handler. A file no code names (a fixture, a CI file, a translation the browser
fetches by URL) is not sent.

Each file is shown summarised: its first ``MAX_DATA_LINES`` lines, redacted as the
configuration chunk redacts (``chunk_sections.redact_config_line``: a secret-named key's
value withheld, token formats masked, opaque values withheld), except that a value written
as prose (words and spaces: a question, a product name, a comment) is shown, since prose is
what a person wrote for the application, not a credential. A folder holding more than
``MAX_FILES_PER_FOLDER`` such files (one per item, read by key) is one line naming it and
how many files it holds: the model learns they exist without paying for each copy.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence

from threatmodel.chunk_sections import (
    _KEY_VALUE,
    _code_files,
    _lines,
    is_config_file,
    redact_config_line,
    redacted_block,
)
from threatmodel.code.jsast import is_test_path
from threatmodel.code.names import is_secret_name
from threatmodel.code.reader import RepoReader
from threatmodel.redact import mask_line

MAX_DATA_LINES = 40
MAX_FILES_PER_FOLDER = 5
_DATA_EXT = (".yml", ".yaml", ".json", ".csv")
# Manifests, lockfiles and tool configuration: read by tools, not by the application.
_NOT_DATA = re.compile(
    r"""^(?:package(?:-lock)?\.json|tsconfig[\w.-]*\.json|composer\.(?:json|lock)
    |[\w.-]*lock\.(?:json|ya?ml)|\.[\w.-]+|angular\.json|lerna\.json|nx\.json|vercel\.json
    |renovate\.json|app\.json|manifest\.json|[\w.-]*\.schema\.json)$""",
    re.X,
)
# Translations (UI strings by key) are conventionally kept in folders of these names.
_TRANSLATIONS = re.compile(r"(?:^|/)(?:i18n|l10n|locales?|langs?|translations)(?:/|$)")
# An API description: its routes are route facts already (connexion reads the spec).
_API_SPEC = re.compile(r"""^\s*["']?(?:openapi|swagger)["']?\s*:""")
_LITERAL = re.compile(r"""(["'`])([\w./@-]{2,200}?)\1""")
_PROSE = re.compile(
    r"""^(["']?)[A-Za-z][\w'\u2019?!.,:;()/&-]*(?:\s+[\w'\u2019?!.,:;()/&-]+)+\1(?:\s+#.*)?$"""
)


def _norm(literal: str) -> str:
    return (
        literal.lstrip("./").rstrip("/") if literal.startswith((".", "/")) else literal.rstrip("/")
    )


def data_files(reader: RepoReader, files: Sequence[str]) -> list[str]:
    """Data files some code file names (see the module docstring), sorted."""
    candidates = [
        f
        for f in files
        if f.endswith(_DATA_EXT)
        and not is_test_path(f)
        and not is_config_file(f)
        and not _NOT_DATA.match(posixpath.basename(f))
        and not _TRANSLATIONS.search(f)
    ]
    if not candidates:
        return []
    paths: set[str] = set()
    folder_ext: set[tuple[str, str]] = set()  # (folder, extension) named in one code file
    for path in _code_files(files):
        lines = _lines(reader, path)
        if not lines:
            continue
        literals = {m.group(2) for m in _LITERAL.finditer("\n".join(lines))}
        named = {_norm(x) for x in literals if "/" in x or x.endswith(_DATA_EXT)}
        paths |= named
        exts = {x for x in literals if x.startswith(".") and x.endswith(_DATA_EXT)}
        folders = {_norm(x) for x in literals if x.endswith("/") and len(_norm(x)) > 1}
        folder_ext |= {(d, e) for d in folders for e in exts}
    out = []
    for f in candidates:
        folder = posixpath.dirname(f)
        by_path = any(f == p or f.endswith("/" + p) for p in paths if "." in posixpath.basename(p))
        if by_path or any(folder == d and f.endswith(e) for d, e in folder_ext):
            head = _lines(reader, f) or []
            if not any(_API_SPEC.match(t) for t in head[:5]):
                out.append(f)
    return sorted(out)


def redact_data_line(line: str) -> str:
    """A data line redacted as configuration is, with prose values shown."""
    m = _KEY_VALUE.match(line)
    if m and not is_secret_name(m.group(2)) and _PROSE.match(m.group(3)):
        return mask_line(line)
    return redact_config_line(line, env_file=False)


def data_text(reader: RepoReader, files: Sequence[str]) -> list[tuple[str, str]]:
    """(path, summarised and redacted text) of each data file the code reads."""
    found = data_files(reader, files)
    by_folder: dict[str, list[str]] = defaultdict(list)
    for f in found:
        by_folder[posixpath.dirname(f)].append(f)
    out: list[tuple[str, str]] = []
    for folder, held in sorted(by_folder.items()):
        if len(held) > MAX_FILES_PER_FOLDER:
            names = ", ".join(posixpath.basename(f) for f in held[:3])
            out.append(
                (
                    folder,
                    f"data folder {folder}: {len(held)} files the code reads by name "
                    f"({names}, ...); not shown",
                )
            )
            continue
        for path in held:
            lines = _lines(reader, path)
            if not lines:
                continue
            shown = redacted_block(lines, MAX_DATA_LINES, redact_data_line)
            last = min(len(lines), MAX_DATA_LINES)
            title = f"--- data the code reads, secret values withheld: {path} lines 1-{last}"
            out.append((path, title + "\n" + "\n".join(shown)))
    return out
