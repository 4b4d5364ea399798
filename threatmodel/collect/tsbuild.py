"""JS/TS files the repository's TypeScript build leaves out: code kept in the tree, never run.

A ``tsconfig.json`` names what its project compiles; a file its ``exclude`` patterns match is
not compiled unless a compiled file imports it (TypeScript then compiles it anyway). Such a
file is shown, served or copied, but no entry point runs it: snippet folders a training app
displays, templates a generator copies, legacy code kept for reference. Its flows are not
production claims (``collect.scope`` classes it ``example``).

Only the nearest ``tsconfig.json`` above the file decides (a sub-project's own config wins
over the root's), only an explicit ``exclude`` counts (a file ``include`` does not name is
still built when an included file imports it, which is the common case of a ``files:
["src/main.ts"]`` entry), and a file any other non-excluded file imports (relative
``import`` / ``require`` / ``import()``) stays in the build.
"""

from __future__ import annotations

import os
import posixpath
import re
from functools import cached_property

from threatmodel.code.jsast import JS_SUFFIXES
from threatmodel.code.jsworkspace import jsonc
from threatmodel.code.reader import PathRefused, RepoReader

CONFIG = "tsconfig.json"
SKIP_DIRS = frozenset({"node_modules", ".git", "dist", "build", "coverage", ".next", "out"})
IMPORT = re.compile(r"""(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](\.{1,2}/[^'"]+)['"]""")
MAX_SCAN = 20000  # files read to find importers: a bound on hostile trees


def _pattern(glob: str) -> re.Pattern[str]:
    """A tsconfig glob (``**/``, ``*``, ``?``) as a regex; a pattern naming a folder
    matches everything under it."""
    glob = glob.removeprefix("./").rstrip("/")
    body = ""
    for seg in glob.split("/"):
        if seg == "**":
            body += "(?:[^/]+/)*"  # any folders, including none
            continue
        body += "".join(
            "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in seg
        )
        body += "/"
    return re.compile(f"^{body.removesuffix('/')}(?:/.*)?$" if body.endswith("/") else f"^{body}")


class TsBuild:
    """Answers ``excluded(path)`` for one repository; configs and importers are read once."""

    def __init__(self, reader: RepoReader) -> None:
        self.reader = reader
        self._configs: dict[str, tuple[str, list[re.Pattern[str]]] | None] = {}

    def excluded(self, path: str) -> str | None:
        """The ``tsconfig.json`` that leaves ``path`` out of the build, or None."""
        if not path.endswith(JS_SUFFIXES) or not self._excluded_by(path):
            return None
        if _module(path) in self.imported:
            return None
        return self._excluded_by(path)

    def _excluded_by(self, path: str) -> str | None:
        folder = posixpath.dirname(path)
        while True:
            found = self._config(folder)
            if found is not None:
                base, patterns = found
                rel = path[len(base) + 1 :] if base else path
                name = posixpath.join(base, CONFIG) if base else CONFIG
                return name if any(p.match(rel) for p in patterns) else None
            if not folder:
                return None
            folder = posixpath.dirname(folder)

    def _config(self, folder: str) -> tuple[str, list[re.Pattern[str]]] | None:
        if folder not in self._configs:
            name = posixpath.join(folder, CONFIG) if folder else CONFIG
            try:
                data = jsonc("\n".join(self.reader.lines(name)))
            except (PathRefused, ValueError):
                self._configs[folder] = None
                return None
            raw = data.get("exclude") if isinstance(data, dict) else None
            globs = [g for g in raw if isinstance(g, str)] if isinstance(raw, list) else []
            # repository content is untrusted: a glob of many ``**`` would backtrack for long
            globs = [g for g in globs if len(g) <= 200 and g.count("**") <= 3][:100]
            self._configs[folder] = (folder, [_pattern(g) for g in globs])
        return self._configs[folder]

    @cached_property
    def imported(self) -> set[str]:
        """Modules (paths without suffix) a file outside every exclude imports by a
        relative specifier."""
        out: set[str] = set()
        seen = 0
        for folder, dirs, files in os.walk(self.reader.root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel_dir = os.path.relpath(folder, self.reader.root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in sorted(files):
                if not name.endswith(JS_SUFFIXES):
                    continue
                seen += 1
                if seen > MAX_SCAN:
                    return out
                rel = posixpath.join(rel_dir, name) if rel_dir else name
                if self._excluded_by(rel):
                    continue
                try:  # read once, not kept: the reader's line cache is for cited files
                    file = self.reader.check(rel)
                    if file.stat().st_size > self.reader.max_bytes:
                        continue
                    text = file.read_text(encoding="utf-8", errors="replace")
                except (PathRefused, OSError):
                    continue
                for spec in IMPORT.findall(text):
                    target = posixpath.normpath(posixpath.join(rel_dir, spec))
                    out.add(_module(target))
                    out.add(target)  # a folder: its index
        return out


def _module(path: str) -> str:
    for suffix in JS_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return path.removesuffix("/index")
