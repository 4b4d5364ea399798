"""LLM providers behind one interface (``llm/interface.py``); ``build_provider`` picks one.

One module per provider: ``openai.py`` (OpenAI and OpenAI-compatible servers by base URL),
``anthropic.py``. ``cache.py`` wraps any provider with the on-disk answer cache,
``retry.py`` retries transient failures, ``pricing.py`` prices tokens, ``schema.py`` is
the finding shape the model answers in.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.config import ProviderConfig
from threatmodel.errors import ConfigError
from threatmodel.llm.interface import Provider


def build_provider(config: ProviderConfig, cache_dir: Path | None = None) -> Provider:
    """The provider for ``config``; with ``cache_dir``, structured answers are cached there."""
    provider: Provider
    if config.name == "openai":
        from threatmodel.llm.openai import OpenAIProvider

        provider = OpenAIProvider(config)
    elif config.name == "openai-compatible":
        from threatmodel.llm.openai import OpenAICompatibleProvider

        provider = OpenAICompatibleProvider(config)
    elif config.name == "anthropic":
        from threatmodel.llm.anthropic import AnthropicProvider

        provider = AnthropicProvider(config)
    else:
        raise ConfigError(
            f"unknown provider {config.name!r}; use openai, anthropic or openai-compatible."
        )
    if cache_dir is not None:
        from threatmodel.llm.cache import CachedProvider

        provider = CachedProvider(provider, cache_dir)
    return provider
