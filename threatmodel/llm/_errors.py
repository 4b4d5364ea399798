"""Map the OpenAI and Anthropic SDKs' exceptions to the typed errors of ``llm/interface.py``.

Both SDKs share one exception layout (``APIStatusError`` with ``status_code`` and the
response headers, ``APITimeoutError``, ``APIConnectionError``), so one mapper serves both.
Messages say how to fix the problem and never include the key or the request body.
"""

from __future__ import annotations

from types import ModuleType

from threatmodel.errors import ProviderError
from threatmodel.llm.interface import (
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderTimeout,
    ProviderTransientError,
)
from threatmodel.llm.retry import parse_retry_after

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def map_sdk_error(exc: Exception, sdk: ModuleType, label: str, key_hint: str) -> ProviderError:
    """The typed error for ``exc`` raised by ``sdk`` (the imported openai/anthropic module)."""
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeout(f"{label}: no answer within the timeout; raise `timeout`.")
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderTransientError(f"{label}: cannot connect ({type(exc).__name__}).")
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        headers = dict(exc.response.headers) if exc.response is not None else {}
        detail = _short(exc)
        if status in (401, 403):
            return ProviderAuthError(f"{label} rejected the API key ({status}); {key_hint}")
        if status in (429, 529):
            return ProviderRateLimited(
                f"{label}: rate limited or overloaded ({status}).", parse_retry_after(headers)
            )
        if status in TRANSIENT_STATUS:
            return ProviderTransientError(
                f"{label}: server error {status}.", parse_retry_after(headers)
            )
        return ProviderRequestError(f"{label} refused the request ({status}): {detail}")
    return ProviderError(f"{label}: {type(exc).__name__}: {_short(exc)}")


# What the SDKs raise, outside their own exception classes, when a reply cannot be decoded:
# a body that is not UTF-8 or not JSON (ValueError), JSON nested past the recursion limit;
# for streams also events missing their fields. Such a reply is a provider failure.
UNREADABLE: tuple[type[Exception], ...] = (ValueError, RecursionError)
UNREADABLE_STREAM: tuple[type[Exception], ...] = (*UNREADABLE, AttributeError, TypeError, KeyError)


def unreadable(label: str, exc: Exception) -> ProviderError:
    return ProviderError(f"{label}: unreadable reply from the server ({type(exc).__name__}).")


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."
