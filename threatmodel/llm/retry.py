"""Retry with exponential backoff for transient provider failures, honouring Retry-After.

The SDKs' own retry loops are switched off (``max_retries=0``) so that this one loop
decides: it sees the typed ``ProviderTransientError`` each provider module raises for 429,
5xx, timeouts and dropped connections, waits ``Retry-After`` when the server sent one
(capped, so a hostile or broken server cannot park the scan for an hour) or
``base * 2**attempt`` with jitter otherwise, and gives up after ``max_retries`` retries by
re-raising the last error. Everything else propagates at once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from threatmodel.llm.interface import ProviderTransientError

T = TypeVar("T")

MAX_WAIT_S = 60.0  # never wait longer than this for one retry, whatever the server says


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


def backoff_delay(attempt: int, retry_after: float | None, base_s: float) -> float:
    """Delay before retry number ``attempt`` (0-based)."""
    if retry_after is not None:
        return min(retry_after, MAX_WAIT_S)
    # Full jitter spreads concurrent workers that were rate-limited at the same moment.
    return min(MAX_WAIT_S, base_s * (2**attempt)) * (0.5 + random.random() / 2)


def with_retries(
    call: Callable[[], T],
    max_retries: int,
    base_s: float = 1.0,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run ``call``; on ProviderTransientError retry up to ``max_retries`` times."""
    sleep = sleep or time.sleep  # looked up per call, so tests can patch time.sleep
    attempt = 0
    while True:
        try:
            return call()
        except ProviderTransientError as exc:
            if attempt >= max_retries:
                raise
            sleep(backoff_delay(attempt, exc.retry_after, base_s))
            attempt += 1
