"""Where a file belongs: production, test, fixture, example, docs, CI or dev tooling.

Code outside production is still read (a leaked key in a test is still a leaked key), but a
finding there is not a production threat: the report folds it away at severity low at most,
and never lists it under "fix first". The class comes from the path (``tests/``,
``scripts/``, ``.github/``, ``docs/``, ``*.spec.ts``, compose files for CI ...), then from the
content (a module that imports pytest or Playwright is a test), from the build (a JS/TS file
its ``tsconfig.json`` excludes and nothing built imports never runs: ``example``, see
``collect.tsbuild``), and for one line from its
place in the file (under ``if __name__ == "__main__":`` a line only runs when a developer
runs the file by hand). ``[tool.threatmodel.scope]`` in the scanned repository's pyproject
maps a class to glob patterns that take precedence, e.g. ``production = ["scripts/cron/*"]``.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.walk import walk
from threatmodel.collect.entrypoints import entry_points
from threatmodel.collect.tsbuild import TsBuild
from threatmodel.models import Scope

SCOPES: tuple[str, ...] = get_args(Scope)

# Directory names (lower case) -> class; the first matching directory of a path decides.
_DIRS: dict[str, str] = {
    **dict.fromkeys(("test", "tests", "__tests__", "spec", "specs", "e2e", "cypress"), "test"),
    **dict.fromkeys(("playwright", "testing", "integration_tests", "unit_tests"), "test"),
    **dict.fromkeys(("unittests", "unittest", "test_utils", "testutils", "qa"), "test"),
    **dict.fromkeys(("fixtures", "fixture", "__fixtures__", "testdata", "test_data"), "fixture"),
    **dict.fromkeys(("__mocks__", "mocks", "__snapshots__", "snapshots", "cassettes"), "fixture"),
    **dict.fromkeys(("examples", "example", "samples", "sample", "demo", "demos"), "example"),
    **dict.fromkeys(("docs", "doc", "documentation", "site-docs"), "docs"),
    **dict.fromkeys((".github", ".ci", ".circleci", ".gitlab", ".buildkite", "ci"), "ci"),
    **dict.fromkeys(("scripts", "script", "tools", "dev", "devtools", ".devcontainer"), "dev"),
    **dict.fromkeys(("hack", "contrib", "benchmarks", "bench"), "dev"),
}
_FILES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(^test_.*\.py|_tests?\.py|^conftest\.py)$"), "test"),
    (re.compile(r"\.(test|spec|e2e|cy)\.[cm]?[jt]sx?$"), "test"),
    (re.compile(r"^(playwright|vitest|jest|cypress|karma)\.config\.[cm]?[jt]s$"), "test"),
    (re.compile(r"\.(md|rst|adoc|txt)$"), "docs"),
    (re.compile(r"^(\.gitlab-ci\.ya?ml|jenkinsfile|azure-pipelines\.ya?ml|\.travis\.yml)$"), "ci"),
    (re.compile(r"^(docker-)?compose[.-].*(ci|test|e2e)[\w.-]*\.ya?ml$"), "ci"),
    (re.compile(r"^(docker-)?compose[.-].*(dev|local|override)[\w.-]*\.ya?ml$"), "dev"),
    (re.compile(r"^(noxfile|tasks|fabfile|setup|dodo)\.py$"), "dev"),
]
_TEST_IMPORTS = re.compile(
    r"^\s*(import pytest|from pytest\b|import unittest|from unittest\b|from django\.test\b|"
    r"import .* from ['\"](@playwright/test|vitest|@jest/globals|supertest|cypress)['\"]|"
    r"const .* = require\(['\"](@playwright/test|supertest)['\"]\))",
    re.M,
)


@dataclass
class ScopeConfig:
    """Glob patterns per class, from ``[tool.threatmodel.scope]`` (they win over the rules)."""

    patterns: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ScopeConfig:
        raw = table.get("scope", {})
        out: dict[str, list[str]] = {}
        if isinstance(raw, dict):
            for key, value in raw.items():
                if key in SCOPES and isinstance(value, list):
                    out[key] = [v for v in value if isinstance(v, str)]
        return cls(out)

    def match(self, path: str) -> str | None:
        for scope, globs in self.patterns.items():
            if any(fnmatch.fnmatch(path, g) for g in globs):
                return scope
        return None


# Code that only a test runner runs, and the data it reads: never reached by an attacker, so
# the collect engine reads it only with collectors that need no parse (``code_of_tests``).
TEST_CODE: frozenset[str] = frozenset({"test", "fixture"})


def code_of_tests(files: Iterable[str], config: ScopeConfig | None = None) -> frozenset[str]:
    """The files of a repository that are test code, judged by their paths alone.

    The repository's globs decide first, then ``classify_path``, with one check the file
    list allows: a folder named like a test folder counts only if a test-named file
    (``test_*.py``, ``conftest.py``, ``*.spec.ts`` ...) lies somewhere below it. DefectDojo's
    ``dojo/test/`` holds the views and URLs of its ``Test`` model, no test, so it is parsed.
    No content rule (imports pytest or unittest): it needs the text, and it would drop a
    production module that imports ``unittest.mock``.
    """
    files = list(files)  # walked paths: relative, "/"-separated
    holding = test_folders(files)
    out = set()
    for f in files:
        chosen = config.match(f) if config is not None else None
        if chosen is not None:
            if chosen in TEST_CODE:
                out.add(f)
            continue
        if classify_listed(f, holding) in TEST_CODE:
            out.add(f)
    return frozenset(out)


def test_folders(files: Iterable[str]) -> frozenset[str]:
    """Folders with a test-named file (``test_*.py``, ``*.spec.ts`` ...) somewhere below."""
    holding: set[str] = set()
    for f in files:
        parts = f.split("/")
        if _by_name(parts[-1]) == "test":
            holding.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(holding)


def classify_listed(path: str, holding: frozenset[str]) -> str:
    """``classify_path``, where a folder named like a test folder makes a test only when it
    is one of ``holding`` (``test_folders`` of the repository's files)."""
    parts = path.replace("\\", "/").split("/")
    by_dir = _by_dir(parts)
    if by_dir is None:
        return _by_name(parts[-1]) or "production"
    scope, depth = by_dir
    if scope == "test" and "/".join(parts[: depth + 1]) not in holding:
        return _by_name(parts[-1]) or "production"
    return scope


def classify_path(path: str) -> str:
    """The class a path's directories and name give it (``production`` when none does)."""
    parts = path.replace("\\", "/").split("/")
    by_dir = _by_dir(parts)
    return by_dir[0] if by_dir else _by_name(parts[-1]) or "production"


def _by_dir(parts: list[str]) -> tuple[str, int] | None:
    """The class the first telling folder of a path gives, and that folder's index."""
    for i, d in enumerate(parts[:-1]):
        hit = _DIRS.get(d.lower())
        if hit is not None:
            return hit, i
        if d.startswith(".") and d not in (".", ".."):
            return "dev", i  # .devcontainer, .vscode, .husky: tooling folders
    return None


def _by_name(name: str) -> str | None:
    name = name.lower()
    for pattern, scope in _FILES:
        if pattern.search(name):
            return scope
    return None


class Classifier:
    """Classifies locations of one repository; files are read once."""

    def __init__(self, reader: RepoReader, config: ScopeConfig | None = None) -> None:
        self.reader = reader
        self.config = config or ScopeConfig()
        self._files: dict[str, str] = {}
        self._main: dict[str, list[tuple[int, int]]] = {}
        self.build = TsBuild(reader)
        self._holding: frozenset[str] | None = None

    def _test_folders(self) -> frozenset[str]:
        if self._holding is None:  # listed once, and only when a path looks like a test's
            self._holding = test_folders(walk(self.reader.root).files)
        return self._holding

    def file(self, path: str) -> str:
        if path not in self._files:
            self._files[path] = self.config.match(path) or self._file(path)
        return self._files[path]

    def _file(self, path: str) -> str:
        scope = classify_path(path)
        if scope == "test":  # judged as the collect engine judges it (``code_of_tests``)
            scope = classify_listed(path, self._test_folders())
        if scope != "production":
            return scope
        try:
            head = "\n".join(self.reader.lines(path)[:200])
        except PathRefused:
            return scope
        if _TEST_IMPORTS.search(head):
            return "test"
        # left out of the TypeScript build and imported by nothing built: never runs
        return "example" if self.build.excluded(path) else scope

    def at(self, path: str, line: int) -> str:
        """The class of one line: its file's, or ``dev`` under a ``__main__`` guard."""
        scope = self.file(path)
        if scope != "production" or self.config.match(path):
            return scope
        if path.endswith(".py") and any(a <= line <= b for a, b in self.main_blocks(path)):
            # A runner a deployment file starts (`CMD python app.py`) is production.
            return "production" if entry_points(self.reader).running(path) else "dev"
        return scope

    def main_blocks(self, path: str) -> list[tuple[int, int]]:
        """Line ranges of ``if __name__ == "__main__":`` blocks of a Python file."""
        if path not in self._main:
            self._main[path] = _main_blocks(self.reader, path)
        return self._main[path]


def _main_blocks(reader: RepoReader, path: str) -> list[tuple[int, int]]:
    try:
        text = "\n".join(reader.lines(path))
    except PathRefused:
        return []
    if "__main__" not in text:
        return []
    tree = python_tree(text)
    if tree is None:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.If) and is_main_test(node.test):
            out.append((node.lineno, node.end_lineno or node.lineno))
    return out


def is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either side)."""
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    consts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return "__name__" in names and "__main__" in consts
