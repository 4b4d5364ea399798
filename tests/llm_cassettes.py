"""Cassette helpers for the LLM-pass tests: a request matcher that survives fact changes.

A recorded LLM request body is the whole prompt. Matching on it byte for byte would break
every cassette whenever a collector learns a new fact (the prompt changes), so the LLM-pass
tests match a request on *which* question it is instead: the endpoint, the chunk it
analyses (the ``Component: ...`` / overview line of the first user message) and the turn
(how many messages: 1 for the first ask, 3 after one re-ask, ...). Concurrent chunk calls
then replay deterministically whatever order the threads run in.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TITLE = re.compile(r"^(Component: .*|Overview of the whole application.*)$", re.M)


def llm_request_key(body: bytes | str | None) -> tuple[str, int] | None:
    """(chunk title, number of messages) of an OpenAI / Anthropic request body, or None."""
    if not body:
        return None
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list):
        return None
    firsts = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = firsts[0].get("content", "") if firsts else ""
    if isinstance(content, list):  # Anthropic content blocks
        content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    m = _TITLE.search(str(content))
    turns = sum(1 for m_ in messages if isinstance(m_, dict) and m_.get("role") != "system")
    return (m.group(1) if m else "", turns)


def llm_chunk_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: raise AssertionError unless both requests ask the same chunk question."""
    k1, k2 = llm_request_key(r1.body), llm_request_key(r2.body)
    assert k1 == k2, f"{k1} != {k2}"


LLM_MATCH_ON = ["method", "scheme", "host", "port", "path", "llm_chunk"]
