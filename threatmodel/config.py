"""Settings: which LLM provider and model, budgets, cache location.

Resolution order, first wins: command-line flags, environment variables
(``THREATMODEL_PROVIDER``, ``THREATMODEL_MODEL``, ``THREATMODEL_BASE_URL``), the
``[tool.threatmodel]`` table of the scanned repository's pyproject.toml, then auto-detection
from the standard API-key variables (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``). With none of
them the provider is ``none``: the scan runs facts and rules only and says how to enable the
LLM pass. Keys are read from the environment only, never from a file in the repository
(the repository is untrusted and may be a stranger's pull request).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from threatmodel.errors import ConfigError

PROVIDERS = ("openai", "anthropic", "openai-compatible", "none")
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}
KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

ENABLE_HINT = (
    "LLM pass skipped: no provider configured. Set OPENAI_API_KEY or ANTHROPIC_API_KEY, or "
    "run a local OpenAI-compatible server and pass --provider openai-compatible "
    "--base-url http://127.0.0.1:8080/v1 --model NAME."
)


@dataclass(frozen=True)
class ProviderConfig:
    name: str  # one of PROVIDERS, never "none"
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed, logged or cached
    timeout_s: float = 120.0
    max_retries: int = 4
    concurrency: int = 4
    context_tokens: int | None = None  # None: the model's known window (llm/pricing.py)
    max_output_tokens: int = 4096
    chunk_tokens: int | None = None  # None: analyze.CHUNK_CAP_TOKENS of data per request
    json_schema: bool = True  # openai-compatible: the server enforces response_format schemas


@dataclass(frozen=True)
class Settings:
    provider: ProviderConfig | None  # None: LLM pass skipped
    skip_reason: str = ""
    max_cost_usd: float | None = None
    max_tokens: int | None = None
    cache_dir: Path = Path()


def repo_table(root: Path) -> dict[str, Any]:
    """The ``[tool.threatmodel]`` table of ``root/pyproject.toml`` ({} when absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read [tool.threatmodel] ({exc}); fix the TOML."
        ) from None
    table = data.get("tool", {}).get("threatmodel", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.threatmodel] must be a table.")
    return table


def default_cache_dir(root: Path) -> Path:
    """Per-repository cache under $THREATMODEL_CACHE_DIR or the user cache directory."""
    base = os.environ.get("THREATMODEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "threatmodel"
    )
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return Path(base) / f"{root.resolve().name}-{key}"


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_settings(
    root: Path,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    max_cost_usd: float | None = None,
    max_tokens: int | None = None,
    cache_dir: Path | None = None,
    env: dict[str, str] | None = None,
    need_key: bool = True,
) -> Settings:
    """``need_key=False`` (``scan --plan``: no call is made) accepts a hosted provider
    without its API key."""
    env = dict(os.environ) if env is None else env
    table = repo_table(root)
    name = provider or env.get("THREATMODEL_PROVIDER") or table.get("provider")
    model = model or env.get("THREATMODEL_MODEL") or table.get("model")
    flag_url = base_url
    base_url = base_url or env.get("THREATMODEL_BASE_URL") or table.get("base_url")
    tuning = provider_tuning(table)
    cache = cache_dir or default_cache_dir(root)

    def settings(provider_config: ProviderConfig | None, skip_reason: str = "") -> Settings:
        return Settings(provider_config, skip_reason, max_cost_usd, max_tokens, cache)

    if name is None:  # auto-detect from the standard key variables
        name = next((p for p, var in KEY_VARS.items() if env.get(var)), None)
        if name is None and base_url:
            name = "openai-compatible"
    if name is None or name == "none":
        reason = ENABLE_HINT if name is None else "LLM pass skipped: --provider none."
        return settings(None, reason)
    if name not in PROVIDERS:
        raise ConfigError(f"unknown provider {name!r}; choose one of: {', '.join(PROVIDERS)}.")

    if name == "openai-compatible":
        if not base_url:
            raise ConfigError(
                "--provider openai-compatible needs --base-url (e.g. http://127.0.0.1:8080/v1 "
                "for llama-server, http://127.0.0.1:11434/v1 for Ollama)."
            )
        if not model:
            raise ConfigError(
                "--provider openai-compatible needs --model (the server's model name)."
            )
        # A base URL named only by the scanned repository's pyproject (untrusted) never
        # receives the user's OpenAI key, and must stay on this machine: otherwise a
        # stranger's pull request could have its reviewer's scan send code to their server.
        trusted_url = bool(flag_url or env.get("THREATMODEL_BASE_URL"))
        if not trusted_url and not is_loopback_url(base_url):
            raise ConfigError(
                f"the scanned repository's [tool.threatmodel] names base_url {base_url!r}, which "
                "is not on this machine; code is only sent to a remote server you name yourself: "
                "pass --base-url or set THREATMODEL_BASE_URL."
            )
        local_key = (env.get("OPENAI_API_KEY") if trusted_url else None) or "not-needed"
        return settings(ProviderConfig(name, model, base_url, local_key, **tuning))

    key = env.get(KEY_VARS[name])
    if not key and need_key:
        raise ConfigError(
            f"--provider {name} needs an API key: set {KEY_VARS[name]} in the environment "
            "(or use --provider none to run facts and rules only)."
        )
    if not (flag_url or env.get("THREATMODEL_BASE_URL")):
        base_url = None  # a hosted key goes only where the user, not the repository, says
    return settings(ProviderConfig(name, model or DEFAULT_MODELS[name], base_url, key, **tuning))


def provider_tuning(table: dict[str, Any]) -> dict[str, Any]:
    """Call tuning from ``[tool.threatmodel]``: timeout, max_retries, concurrency, ...

    Bounded so that a hostile repository cannot make the scan hang or flood a provider.
    """
    bounds: dict[str, tuple[type, float, float]] = {
        "timeout": (float, 1, 600),
        "max_retries": (int, 0, 10),
        "concurrency": (int, 1, 16),
        "context_tokens": (int, 2048, 2_000_000),
        "max_output_tokens": (int, 256, 32_768),
        "chunk_tokens": (int, 200, 100_000),
    }
    out: dict[str, Any] = {}
    for key, (kind, low, high) in bounds.items():
        if key not in table:
            continue
        value = table[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (low <= value <= high)
        ):
            raise ConfigError(
                f"[tool.threatmodel] {key} must be a number from {low:g} to {high:g}."
            )
        out["timeout_s" if key == "timeout" else key] = kind(value)
    if "json_schema" in table:
        if not isinstance(table["json_schema"], bool):
            raise ConfigError("[tool.threatmodel] json_schema must be true or false.")
        out["json_schema"] = table["json_schema"]
    return out
