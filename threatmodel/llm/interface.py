"""The provider interface: one abstraction over OpenAI, Anthropic and OpenAI-compatible servers.

Modelled on simonw/llm: a provider is an object with *capability attributes* (what it can
do) and two calls:

- ``complete_structured(system, messages, schema, ...)`` asks for one JSON object that follows
  ``schema`` (OpenAI structured outputs, an Anthropic forced tool, a llama.cpp grammar) and
  returns a ``StructuredResponse``. It never validates the object against Pydantic: the
  caller (analyze.py) does, and re-asks with the validation error. Whatever came back
  (a refusal, JSON cut off at the output limit, plain text instead of a tool call) is
  *returned*, described by ``finish_reason``, not raised: those are answers, not failures.
- ``stream_text(system, messages, ...)`` streams a free-text answer (for ``threatmodel ask``).
  It returns a ``TextStream``: iterate it for text deltas; once exhausted, ``.usage`` holds
  the token counts and cost of the call.

Failures of the *call* (network, HTTP status, timeout) raise the typed errors of
``threatmodel.errors`` (``ProviderError`` and its subclasses below); transient ones (429,
5xx, timeouts, dropped connections) are retried by ``llm/retry.py`` before they surface.

Repository content reaches a provider only inside the prompts' delimited data blocks, never
as a system prompt, and never contains a secret value (summarize.py scrubs excerpts).

Usage (the ``ask`` command)::

    provider = build_provider(settings.provider)          # threatmodel.llm
    stream = provider.stream_text(system, [Message("user", question)])
    for delta in stream:
        console.print(delta, end="")
    print(stream.usage.input_tokens, stream.usage.cost_usd)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from threatmodel.errors import ProviderError

Role = Literal["user", "assistant"]

# Why a structured call ended. "stop": a complete answer; "length": cut off at the output
# limit (the JSON is usually truncated); "refusal": the model declined; "no_tool_call": a
# forced tool / schema was ignored and plain text came back; "other": anything else the
# provider reported (kept verbatim in ``StructuredResponse.provider_reason``).
FinishReason = Literal["stop", "length", "refusal", "no_tool_call", "other"]


@dataclass(frozen=True)
class Message:
    """One turn of a conversation. The system prompt is passed separately."""

    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of one call (cost from ``llm/pricing.py``; 0.0 for local servers)."""

    input_tokens: int = 0  # every prompt token, cached or not
    output_tokens: int = 0
    cost_usd: float = 0.0
    cached_input_tokens: int = 0  # of input_tokens, read from the provider's prompt cache
    cached_cost_usd: float = 0.0  # what those cached tokens cost (part of cost_usd)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cached_cost_usd + other.cached_cost_usd,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class StructuredResponse:
    """What a structured call returned.

    ``data`` is the parsed JSON object when the provider produced one (it may still fail the
    schema: validate it); ``text`` is the raw answer text (the JSON as sent, the refusal, or
    the plain text that replaced a tool call), kept for re-asks and diagnostics.
    ``cached`` is True when the answer came from the on-disk cache (no call was made).
    """

    data: dict[str, Any] | None
    text: str
    finish_reason: FinishReason
    usage: Usage = field(default_factory=Usage)
    provider_reason: str = ""
    cached: bool = False


class TextStream(ABC):
    """An iterator of text deltas; ``usage`` is set once iteration has finished."""

    usage: Usage | None = None

    @abstractmethod
    def __iter__(self) -> Iterator[str]: ...

    def text(self) -> str:
        """Drain the stream and return the whole answer."""
        return "".join(self)


class Provider(ABC):
    """An LLM behind one API. Subclasses live one per module in ``threatmodel/llm/``.

    Capability attributes (read them instead of checking the class):

    - ``supports_json_schema``: the server enforces a JSON schema on the answer (OpenAI
      structured outputs, llama.cpp grammars). When False the schema is only described in
      the prompt and the answer is parsed from text.
    - ``grammar_schema``: the server compiles the schema into a decoding grammar, so string
      lengths are enforced too and are sent (``schema.wire_schema(True)``).
    - ``supports_tools``: forced tool calls with an ``input_schema`` (Anthropic).
    - ``supports_streaming``: ``stream_text`` streams deltas (when False it yields the whole
      answer at once).
    - ``context_tokens``: the model's context window, used to size summary chunks.
    - ``max_output_tokens``: the default output limit of a structured call.
    """

    name: ClassVar[str]  # "openai" | "anthropic" | "openai-compatible"
    supports_json_schema: bool = False
    grammar_schema: bool = False
    supports_tools: bool = False
    supports_streaming: bool = True

    def __init__(self, model: str, context_tokens: int, max_output_tokens: int = 4096) -> None:
        self.model = model
        self.context_tokens = context_tokens
        # A quarter of the window at most: the prompt, a re-ask and its answer must fit too.
        self.max_output_tokens = max(256, min(max_output_tokens, context_tokens // 4))

    @property
    def cache_identity(self) -> str:
        """What besides the prompt decides an answer (cache key part): provider and model."""
        return f"{self.name}:{self.model}"

    @abstractmethod
    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        """Ask for one JSON object following ``schema``; raise ProviderError on call failure."""

    @abstractmethod
    def stream_text(
        self,
        system: str,
        messages: Sequence[Message],
        max_output_tokens: int | None = None,
    ) -> TextStream:
        """Stream a free-text answer; raise ProviderError on call failure."""


# --------------------------------------------------------------------------- typed errors
# Subclasses of errors.ProviderError so the CLI maps all of them to one exit code while the
# retry loop and analyze.py can tell a transient failure from a fatal one.


class ProviderAuthError(ProviderError):
    """The provider rejected the key (401/403). Fatal: every further call would fail too."""


class ProviderRequestError(ProviderError):
    """The provider rejected the request itself (400/404/422: unknown model, bad schema)."""


class ProviderTransientError(ProviderError):
    """A failure worth retrying: 429, 5xx, a timeout or a dropped connection.

    ``retry_after`` is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderTimeout(ProviderTransientError):
    """No answer within the configured timeout."""


class ProviderRateLimited(ProviderTransientError):
    """429 Too Many Requests (or the provider's overloaded status)."""
