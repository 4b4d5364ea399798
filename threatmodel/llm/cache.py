"""On-disk cache of structured LLM answers, keyed by provider, model and a prompt hash.

A re-run of an unchanged repository renders the same prompts, so every answer comes from
here and no call is made; a run killed half-way resumes paying only for the chunks it had
not finished (each answer is written atomically the moment it arrives). The key covers
everything that decides an answer: the provider's identity (name, model, base URL for
self-hosted servers), the system prompt, the messages, the schema and the output limit.

What is stored is the model's answer and its usage, never the prompt or a key. A usable
answer (complete, ``finish_reason`` "stop", and valid against the requested JSON schema) is
stored when it arrives. An unusable one (a refusal, an answer cut off at the output limit,
plain text instead of the tool call, JSON off the schema) is kept only through
``remember``, once analyze.py knows how its chunk ended: answered after a re-ask, or failed
after every re-ask. The model answers an unchanged prompt the same way, so replaying that
failure is what asking again would give; the key holds the output limit and the model, so
raising the limit or changing the model asks again. An error raised by the provider
(timeout, 5xx, a rejected key) returns no answer and nothing is stored. Streaming
free-text calls (``ask``) are passed through uncached: they are interactive.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jsonschema

from threatmodel.llm.interface import (
    Message,
    Provider,
    StructuredResponse,
    TextStream,
    Usage,
)

CACHE_VERSION = 1


def cache_key(
    provider: Provider,
    system: str,
    messages: Sequence[Message],
    schema: dict[str, Any],
    schema_name: str,
    max_output_tokens: int | None,
) -> str:
    basis = json.dumps(
        {
            "v": CACHE_VERSION,
            "provider": provider.cache_identity,
            "system": system,
            "messages": [[m.role, m.content] for m in messages],
            "schema": schema,
            "schema_name": schema_name,
            "max_output_tokens": max_output_tokens or provider.max_output_tokens,
        },
        sort_keys=True,
    )
    return hashlib.sha256(basis.encode()).hexdigest()


def usable(resp: StructuredResponse, schema: dict[str, Any]) -> bool:
    """A complete answer that follows ``schema``: worth keeping for the next run."""
    if resp.finish_reason != "stop" or resp.data is None:
        return False
    try:
        jsonschema.validate(resp.data, schema)
    except (jsonschema.ValidationError, jsonschema.SchemaError, RecursionError):
        return False
    return True


class CachedProvider(Provider):
    """Wraps a provider; structured answers are served from ``folder`` when present."""

    def __init__(self, inner: Provider, folder: Path) -> None:
        super().__init__(inner.model, inner.context_tokens, inner.max_output_tokens)
        self.inner = inner
        self.folder = folder
        self.name = inner.name  # type: ignore[misc]
        self.supports_json_schema = inner.supports_json_schema
        self.grammar_schema = inner.grammar_schema
        self.supports_tools = inner.supports_tools
        self.supports_streaming = inner.supports_streaming
        self.info = getattr(inner, "info", None)  # pricing, for budget estimates

    @property
    def cache_identity(self) -> str:
        return self.inner.cache_identity

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def lookup(self, key: str) -> StructuredResponse | None:
        try:
            raw = json.loads(self._path(key).read_text("utf-8"))
            return StructuredResponse(
                data=raw["data"],
                text=raw["text"],
                finish_reason=raw["finish_reason"],
                usage=Usage(**raw["usage"]),
                provider_reason=raw.get("provider_reason", ""),
                cached=True,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: ask again

    def store(self, key: str, resp: StructuredResponse) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "data": resp.data,
            "text": resp.text,
            "finish_reason": resp.finish_reason,
            "usage": asdict(resp.usage),
            "provider_reason": resp.provider_reason,
        }
        # Atomic: a killed run leaves either the whole answer or nothing.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, sort_keys=True)
        os.replace(tmp, path)

    def cached(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse | None:
        """The cached answer for this request, or None: lets callers skip budget checks."""
        key = cache_key(self.inner, system, messages, schema, schema_name, max_output_tokens)
        return self.lookup(key)

    def remember(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        resp: StructuredResponse,
        max_output_tokens: int | None = None,
    ) -> None:
        """Keep an unusable answer after all: its chunk has ended (answered after a re-ask, or
        failed after every re-ask), so replaying the exchange gives the same result free."""
        key = cache_key(self.inner, system, messages, schema, schema_name, max_output_tokens)
        self.store(key, resp)

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        key = cache_key(self.inner, system, messages, schema, schema_name, max_output_tokens)
        hit = self.lookup(key)
        if hit is not None:
            return hit
        resp = self.inner.complete_structured(
            system, messages, schema, schema_name, max_output_tokens
        )
        if usable(resp, schema):
            self.store(key, resp)
        return resp

    def stream_text(
        self,
        system: str,
        messages: Sequence[Message],
        max_output_tokens: int | None = None,
    ) -> TextStream:
        return self.inner.stream_text(system, messages, max_output_tokens)
