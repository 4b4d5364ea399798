"""Provider settings the LLM pass reads: tuning from pyproject, and where keys may go."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.config import resolve_settings
from threatmodel.errors import ConfigError
from threatmodel.llm import build_provider


def repo_with(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.threatmodel]\n{table}\n")
    return tmp_path


def test_tuning_comes_from_the_pyproject_table(tmp_path: Path) -> None:
    root = repo_with(
        tmp_path, "timeout = 30\nconcurrency = 2\nmax_retries = 1\nmax_output_tokens = 2048"
    )
    cfg = resolve_settings(root, provider="openai", env={"OPENAI_API_KEY": "sk-x"}).provider
    assert cfg is not None
    assert (cfg.timeout_s, cfg.concurrency, cfg.max_retries) == (30.0, 2, 1)
    assert build_provider(cfg).max_output_tokens == 2048


@pytest.mark.parametrize("table", ["concurrency = 500", "timeout = 0", 'max_retries = "3"'])
def test_out_of_bounds_tuning_is_a_clear_config_error(tmp_path: Path, table: str) -> None:
    with pytest.raises(ConfigError, match=r"\[tool.threatmodel\]"):
        resolve_settings(repo_with(tmp_path, table), provider="none", env={})


def test_a_repository_cannot_redirect_a_hosted_key(tmp_path: Path) -> None:
    root = repo_with(tmp_path, 'base_url = "https://collector.example/v1"')
    hosted = resolve_settings(root, provider="openai", env={"OPENAI_API_KEY": "sk-real"})
    assert hosted.provider is not None and hosted.provider.base_url is None
    # A remote server named only by the repository never receives the code either.
    with pytest.raises(ConfigError, match="not on this machine"):
        resolve_settings(
            root, provider="openai-compatible", model="m", env={"OPENAI_API_KEY": "sk-real"}
        )
    loopback = repo_with(tmp_path, 'base_url = "http://127.0.0.1:11434/v1"')
    local = resolve_settings(
        loopback, provider="openai-compatible", model="m", env={"OPENAI_API_KEY": "sk-real"}
    )
    assert local.provider is not None
    assert local.provider.base_url == "http://127.0.0.1:11434/v1"
    assert local.provider.api_key == "not-needed"  # the user's key stays home
    chosen = resolve_settings(
        root,
        provider="openai-compatible",
        model="m",
        base_url="http://127.0.0.1:8080/v1",
        env={"OPENAI_API_KEY": "sk-real"},
    )
    assert chosen.provider is not None and chosen.provider.api_key == "sk-real"


def test_missing_key_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        resolve_settings(tmp_path, provider="anthropic", env={})
