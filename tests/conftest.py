"""Shared test setup: no network, no real keys, a private cache per test, cassettes on disk."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from threatmodel.chunk_overview import OVERVIEW_HEAD
from threatmodel.chunk_pack import Chunk
from threatmodel.models import Route

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "leaky-notes"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASSETTES = ROOT / "cassettes"

PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "THREATMODEL_PROVIDER",
    "THREATMODEL_MODEL",
    "THREATMODEL_BASE_URL",
    "GITHUB_TOKEN",
)


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for var in PROVIDER_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("THREATMODEL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    return {
        "filter_headers": ["authorization", "x-api-key", "api-key", "cookie", "set-cookie"],
        "record_mode": "none",
        "decode_compressed_response": True,
    }


def pytest_recording_configure(config: pytest.Config, vcr: object) -> None:
    # LLM-pass cassettes match a request by chunk and turn, not by the exact prompt text
    # (tests/llm_cassettes.py); opt in with match_on=LLM_MATCH_ON in a module's vcr_config.
    from llm_cassettes import llm_chunk_matcher

    vcr.register_matcher("llm_chunk", llm_chunk_matcher)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.split(".")[-1])


def git_repo_copy(src: Path, dest: Path) -> Path:
    """Copy a fixture into ``dest`` and commit it, so tests exercise the git walker."""
    shutil.copytree(src, dest)
    run = lambda *a: subprocess.run(["git", *a], cwd=dest, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    run("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "init")
    return dest


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    return git_repo_copy(EXAMPLE, tmp_path / "leaky-notes")


# Handlers of the routes a framework serves on its own (Flask's static files, FastAPI's and
# Flask-RESTX's docs pages): real entry points, but no test about the app's code asks for them.
_BUILT_IN = ("flask.static", "flask_restx.", "fastapi.FastAPI.")


def declared_routes(routes: list[Route]) -> list[Route]:
    """The routes the repository's own code declares, without the framework's built-ins."""
    return [r for r in routes if not r.handler.startswith(_BUILT_IN)]


def overview_of(chunks: list[Chunk]) -> str:
    """The overview's lines: a request of its own, or the end of the last request it joined
    (``chunk_overview.join_overview``)."""
    last = chunks[-1]
    if last.kind == "cross":
        return last.data
    assert last.overview, [c.kind for c in chunks]
    return last.data.split(f"\n{OVERVIEW_HEAD}\n", 1)[1]


def without_overview(chunk: Chunk) -> str:
    """A request's data without the overview that may end it: the code it quotes."""
    return chunk.data.split(f"\n{OVERVIEW_HEAD}\n", 1)[0]
