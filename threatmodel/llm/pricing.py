"""Prices and context windows of known models, for cost accounting and chunk sizing.

Prices are USD per million tokens (input, output) as published by the providers when this
table was written; they change, so the report calls its cost an estimate. A model that is
not in the table is matched by the longest known prefix (``gpt-4o-mini-2024-07-18`` ->
``gpt-4o-mini``); an unknown hosted model falls back to a deliberately high price so that a
``--max-cost`` budget errs on the side of stopping early. Local OpenAI-compatible servers
cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    input_per_mtok: float
    output_per_mtok: float
    context_tokens: int
    known: bool = True
    # Prompt-cache reads (a repeated prefix: the system prompt and schema). None: no
    # discount known, priced as input. Anthropic also bills cache *writes* at 1.25x input.
    cached_input_per_mtok: float | None = None
    cache_write_factor: float = 1.0

    @property
    def cached_rate(self) -> float:
        return (
            self.input_per_mtok
            if self.cached_input_per_mtok is None
            else (self.cached_input_per_mtok)
        )


_TABLE: dict[str, ModelInfo] = {
    # OpenAI
    "gpt-4o-mini": ModelInfo(0.15, 0.60, 128_000, cached_input_per_mtok=0.075),
    "gpt-4o": ModelInfo(2.50, 10.00, 128_000, cached_input_per_mtok=1.25),
    "gpt-4.1-nano": ModelInfo(0.10, 0.40, 1_047_576, cached_input_per_mtok=0.025),
    "gpt-4.1-mini": ModelInfo(0.40, 1.60, 1_047_576, cached_input_per_mtok=0.10),
    "gpt-4.1": ModelInfo(2.00, 8.00, 1_047_576, cached_input_per_mtok=0.50),
    "gpt-5-nano": ModelInfo(0.05, 0.40, 400_000, cached_input_per_mtok=0.005),
    "gpt-5-mini": ModelInfo(0.25, 2.00, 400_000, cached_input_per_mtok=0.025),
    "gpt-5": ModelInfo(1.25, 10.00, 400_000, cached_input_per_mtok=0.125),
    "o4-mini": ModelInfo(1.10, 4.40, 200_000, cached_input_per_mtok=0.275),
    "o3": ModelInfo(2.00, 8.00, 200_000, cached_input_per_mtok=0.50),
    # Anthropic
    "claude-3-5-haiku": ModelInfo(0.80, 4.00, 200_000, True, 0.08, 1.25),
    "claude-haiku-4-5": ModelInfo(1.00, 5.00, 200_000, True, 0.10, 1.25),
    "claude-3-7-sonnet": ModelInfo(3.00, 15.00, 200_000, True, 0.30, 1.25),
    "claude-sonnet-4": ModelInfo(3.00, 15.00, 200_000, True, 0.30, 1.25),
    "claude-opus-4": ModelInfo(15.00, 75.00, 200_000, True, 1.50, 1.25),
}

# Unknown hosted model: priced like the most expensive entry so budgets stop early, and a
# context window small enough for any current model.
UNKNOWN_HOSTED = ModelInfo(15.00, 75.00, 128_000, known=False)
# A local server: free; its context is whatever it was started with (8k is llama-server's
# and Ollama's common setting; override with context_tokens in [tool.threatmodel]).
LOCAL = ModelInfo(0.0, 0.0, 8_192)


_LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def model_info(provider: str, model: str, base_url: str | None = None) -> ModelInfo:
    """Price and context of ``model`` on ``provider`` (local servers are free)."""
    if provider == "openai-compatible" or (base_url or "").startswith(_LOOPBACK):
        return LOCAL
    name = model.lower()
    for prefix in sorted(_TABLE, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "-") or name.startswith(prefix + "@"):
            return _TABLE[prefix]
    return UNKNOWN_HOSTED


def cost_usd(
    info: ModelInfo,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float:
    """USD of one call; ``input_tokens`` counts every prompt token, ``cached_tokens`` and
    ``cache_write_tokens`` of them were read from / written to the provider's prompt cache."""
    fresh = max(0, input_tokens - cached_tokens - cache_write_tokens)
    return (
        fresh * info.input_per_mtok
        + cached_tokens * info.cached_rate
        + cache_write_tokens * info.input_per_mtok * info.cache_write_factor
        + output_tokens * info.output_per_mtok
    ) / 1e6


# Prompt caching starts at this many prefix tokens (OpenAI; Anthropic's Sonnet and Opus;
# Anthropic's Haiku models need 2,048): a shorter prefix is never cached.
MIN_CACHED_PREFIX = {"openai": 1024, "anthropic": 1024}

# What `scan --plan` prices besides the configured model: one cheap and one strong model
# of each hosted provider.
ALTERNATIVES = (
    ("openai", "gpt-5-mini"),
    ("openai", "gpt-4.1-mini"),
    ("openai", "gpt-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("anthropic", "claude-sonnet-4"),
)
