"""Test code is read, never parsed: only collectors that need no parse see it.

A file whose path (or the repository's ``[tool.threatmodel.scope]``) says test or fixture
never serves an attacker, so its routes and flows are not facts; a token-format key in it is
still a leaked key. The engine decides this once (``Collector.reads_test_code``), from the
path alone: a production module that imports ``unittest.mock`` is still parsed.
"""

from __future__ import annotations

import random
import string
from functools import cached_property
from pathlib import Path

import pytest

from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.collect.registry import all_collectors
from threatmodel.collect.scope import Classifier, ScopeConfig, code_of_tests
from threatmodel.config import Settings
from threatmodel.scan import ScanOptions, collect_repo_facts

_RNG = random.Random(6)
TOKEN = "gh" + "p_" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(36))
VIEW = (
    "import os\n"
    "from flask import Flask, request\n"
    "app = Flask(__name__)\n"
    "@app.route('/run', methods=['POST'])\n"
    "def run():\n"
    "    os.system('ls ' + request.args['d'])\n"
    "    return 'ok'\n"
)


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _where(root: Path, cache: Path | None = None) -> dict[str, set[str]]:
    """The files each kind of fact is located in, as a scan collects them."""
    settings = Settings(provider=None, cache_dir=cache or Path())
    options = ScanOptions(jobs=1, use_cache=cache is not None)
    facts = collect_repo_facts(root, settings, options).facts
    return {
        "routes": {r.location.path for r in facts.routes},
        "flows": {f.sink_location.path for f in facts.flows},
        "secrets": {s.location.path for s in facts.secrets},
    }


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths whose Python tree was built during the test."""
    seen: list[str] = []
    real = SourceFile.python_ast.func  # type: ignore[attr-defined]

    def counting(src: SourceFile) -> object:
        seen.append(src.path)
        return real(src)

    monkeypatch.setattr(SourceFile, "python_ast", cached_property(counting))
    SourceFile.python_ast.__set_name__(SourceFile, "python_ast")  # type: ignore[attr-defined]
    return seen


def test_a_test_file_keeps_its_key_and_loses_its_route_and_flow(
    tmp_path: Path, parsed: list[str]
) -> None:
    root = _repo(
        tmp_path,
        {
            "app.py": VIEW,
            "tests/test_x.py": VIEW + f"TOKEN = '{TOKEN}'\n",
            "tests/fixtures/app.py": VIEW,
        },
    )
    where = _where(root)
    assert where["routes"] == {"app.py"}
    assert where["flows"] == {"app.py"}
    assert where["secrets"] == {"tests/test_x.py"}
    assert set(parsed) == {"app.py"}  # the test and the fixture are read, never parsed


def test_the_repository_scope_brings_test_code_back(tmp_path: Path, parsed: list[str]) -> None:
    root = _repo(
        tmp_path,
        {
            "pyproject.toml": '[tool.threatmodel.scope]\nproduction = ["tests/app/*"]\n',
            "tests/app/views.py": VIEW,
            "tests/test_y.py": VIEW,
        },
    )
    where = _where(root)
    assert where["routes"] == where["flows"] == {"tests/app/views.py"}
    assert "tests/test_y.py" not in parsed


def test_a_scope_that_says_test_drops_production_code(tmp_path: Path, parsed: list[str]) -> None:
    root = _repo(
        tmp_path,
        {
            "pyproject.toml": '[tool.threatmodel.scope]\ntest = ["harness/*"]\n',
            # The secrets collector's own context calls this file code and would walk its
            # tree for the name: the engine never lets test code be parsed.
            "harness/server.py": VIEW + 'SECRET_KEY = "q8Zr2vLx9TmW4pKd"\n',
            "app.py": VIEW,
        },
    )
    assert _where(root)["routes"] == {"app.py"}
    assert set(parsed) == {"app.py"}


def test_the_path_decides_not_the_imports(tmp_path: Path, parsed: list[str]) -> None:
    # Content rules (imports pytest or unittest) fold findings in the report, but they need
    # the text and misjudge a module that uses unittest.mock at run time: never used here.
    root = _repo(tmp_path, {"app.py": "from unittest import mock\n" + VIEW})
    assert _where(root)["routes"] == {"app.py"}
    assert parsed == ["app.py"]


def test_changing_the_scope_does_not_serve_stale_extracts(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", {"tests/app/views.py": VIEW, "tests/test_app.py": ""})
    assert _where(root, tmp_path / "cache")["routes"] == set()
    (root / "pyproject.toml").write_text('[tool.threatmodel.scope]\nproduction = ["tests/app/*"]\n')
    assert _where(root, tmp_path / "cache")["routes"] == {"tests/app/views.py"}
    assert list((tmp_path / "cache").iterdir())  # the cache was used


def test_only_collectors_that_need_no_parse_read_test_code() -> None:
    readers = {c.id for c in all_collectors() if c.reads_test_code}
    assert readers == {"deps", "prompt_injection", "secrets"}


def test_test_code_by_path() -> None:
    files = [
        "saleor/graphql/tests/test_x.py",
        "saleor/graphql/tests/utils.py",  # a helper beside tests
        "saleor/conftest.py",
        "src/__fixtures__/data.ts",
        "src/app.spec.ts",
        "saleor/core/mock.py",
        "tests/app/views.py",  # the repository's globs win
        "dojo/test/views.py",  # a Test model's app: a folder of tests holds tests
        "dojo/test/ui/urls.py",
    ]
    config = ScopeConfig({"production": ["tests/app/*"]})
    assert code_of_tests(files, config) == {
        "saleor/graphql/tests/test_x.py",
        "saleor/graphql/tests/utils.py",
        "saleor/conftest.py",
        "src/__fixtures__/data.ts",
        "src/app.spec.ts",
    }


def test_a_folder_named_test_without_tests_is_parsed(tmp_path: Path, parsed: list[str]) -> None:
    root = _repo(tmp_path, {"dojo/test/views.py": VIEW, "unittests/test_views.py": VIEW})
    assert _where(root)["routes"] == {"dojo/test/views.py"}
    assert parsed == ["dojo/test/views.py"]


def test_the_report_classes_test_code_as_the_engine_does(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "dojo/test/views.py": VIEW,  # a Test model's app: parsed, so its findings count
            "unittests/test_views.py": VIEW,
            "unittests/helpers.py": "X = 1\n",
        },
    )
    classifier = Classifier(RepoReader(root))
    files = ["dojo/test/views.py", "unittests/test_views.py", "unittests/helpers.py"]
    assert {f: classifier.file(f) for f in files} == {
        "dojo/test/views.py": "production",
        "unittests/test_views.py": "test",
        "unittests/helpers.py": "test",
    }
    assert {f for f in files if classifier.file(f) == "test"} == code_of_tests(files)
