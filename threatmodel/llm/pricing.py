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


_TABLE: dict[str, ModelInfo] = {
    # OpenAI
    "gpt-4o-mini": ModelInfo(0.15, 0.60, 128_000),
    "gpt-4o": ModelInfo(2.50, 10.00, 128_000),
    "gpt-4.1-nano": ModelInfo(0.10, 0.40, 1_047_576),
    "gpt-4.1-mini": ModelInfo(0.40, 1.60, 1_047_576),
    "gpt-4.1": ModelInfo(2.00, 8.00, 1_047_576),
    "gpt-5-nano": ModelInfo(0.05, 0.40, 400_000),
    "gpt-5-mini": ModelInfo(0.25, 2.00, 400_000),
    "gpt-5": ModelInfo(1.25, 10.00, 400_000),
    "o4-mini": ModelInfo(1.10, 4.40, 200_000),
    "o3": ModelInfo(2.00, 8.00, 200_000),
    # Anthropic
    "claude-3-5-haiku": ModelInfo(0.80, 4.00, 200_000),
    "claude-haiku-4-5": ModelInfo(1.00, 5.00, 200_000),
    "claude-3-7-sonnet": ModelInfo(3.00, 15.00, 200_000),
    "claude-sonnet-4": ModelInfo(3.00, 15.00, 200_000),
    "claude-opus-4": ModelInfo(15.00, 75.00, 200_000),
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


def cost_usd(info: ModelInfo, input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * info.input_per_mtok + output_tokens * info.output_per_mtok) / 1e6
