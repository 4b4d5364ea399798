"""What the OpenAI and Anthropic providers share: an official SDK client called with retries.

Both SDKs take the same client arguments and raise the same exception layout, so the
client set-up, the retry loop (``llm/retry.py``; the SDK's own retries are off), the
mapping of SDK exceptions to the typed errors of ``llm/interface.py`` and the stream
wrapper that applies it live here once; the subclasses keep what differs: the request they
build and how they read the answer and its token counts.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from threatmodel.config import ProviderConfig
from threatmodel.errors import ProviderError
from threatmodel.llm._errors import UNREADABLE, UNREADABLE_STREAM, map_sdk_error, unreadable
from threatmodel.llm.interface import Provider, TextStream, Usage
from threatmodel.llm.pricing import ModelInfo, cost_usd
from threatmodel.llm.retry import with_retries


class SdkProvider(Provider):
    """A provider behind the official SDK module ``sdk`` (base exception ``sdk_error``)."""

    sdk: ModuleType  # the imported openai or anthropic module
    sdk_error: type[Exception]  # its base exception class
    key_hint: str  # how to fix a rejected key, e.g. "check OPENAI_API_KEY."

    def __init__(
        self, config: ProviderConfig, info: ModelInfo, client_class: Callable[..., Any]
    ) -> None:
        self.info = info
        context = config.context_tokens or self.info.context_tokens
        super().__init__(config.model, context, config.max_output_tokens)
        self.config = config
        self.client = client_class(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,  # llm/retry.py owns retries
        )

    @property
    def label(self) -> str:
        return f"{self.name} ({self.model})"

    def provider_error(self, exc: Exception) -> ProviderError:
        """The typed error for an SDK exception or an unreadable reply (never the key)."""
        if isinstance(exc, self.sdk_error):
            return map_sdk_error(exc, self.sdk, self.label, self.key_hint)
        return unreadable(self.label, exc)

    def _retrying(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        """``call(model=..., **kwargs)`` with retries, SDK failures raised as typed errors."""

        def once() -> Any:
            try:
                return call(model=self.model, **kwargs)
            except (self.sdk_error, *UNREADABLE) as exc:
                raise self.provider_error(exc) from None

        return with_retries(once, self.config.max_retries)

    def priced(
        self, input_tokens: int, output_tokens: int, cached: int = 0, written: int = 0
    ) -> Usage:
        """Usage of a call: ``cached`` prompt tokens were read from the provider's prompt
        cache, ``written`` were written to it (Anthropic bills writes above input)."""
        cost = cost_usd(self.info, input_tokens, output_tokens, cached, written)
        return Usage(
            input_tokens, output_tokens, cost, cached, cached * self.info.cached_rate / 1e6
        )


class SdkTextStream(TextStream):
    """A streamed SDK answer; subclasses read the events, failures surface as typed errors."""

    def __init__(self, provider: SdkProvider, stream: Any) -> None:
        self.provider = provider
        self.stream = stream

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.deltas()
        except (self.provider.sdk_error, *UNREADABLE_STREAM) as exc:
            raise self.provider.provider_error(exc) from None

    @abstractmethod
    def deltas(self) -> Iterator[str]:
        """The text deltas of ``self.stream``; sets ``self.usage`` once it is exhausted."""
