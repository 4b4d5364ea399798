"""OpenAI (and OpenAI-compatible servers) through the official SDK.

Structured calls use Chat Completions with ``response_format`` ``json_schema`` in strict
mode (OpenAI's structured outputs; llama.cpp, vLLM, Ollama and LM Studio enforce the same
field with a grammar). The answer is parsed here and validated by the caller. A refusal
(``message.refusal``), a cut-off answer (``finish_reason == "length"``) and text that is not
JSON are returned as such, not raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import openai as sdk

from threatmodel.config import ProviderConfig
from threatmodel.llm._sdk import SdkProvider, SdkTextStream
from threatmodel.llm.interface import FinishReason, Message, StructuredResponse, TextStream, Usage
from threatmodel.llm.pricing import ModelInfo, model_info
from threatmodel.llm.schema import schema_text

# Reasoning models accept only the default temperature.
_NO_TEMPERATURE = ("o1", "o3", "o4", "gpt-5")


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` (also inside a ```json fence), or None."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body[4:] if body.lower().startswith("json") else body
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class OpenAIProvider(SdkProvider):
    name = "openai"
    supports_json_schema = True
    supports_tools = True
    supports_streaming = True
    key_hint = "check OPENAI_API_KEY."
    sdk = sdk
    sdk_error = sdk.OpenAIError

    def __init__(self, config: ProviderConfig, info: ModelInfo | None = None) -> None:
        info = info or model_info(self.name, config.model, config.base_url)
        super().__init__(config, info, sdk.OpenAI)

    def _messages(self, system: str, messages: Sequence[Message]) -> list[Any]:
        return [{"role": "system", "content": system}] + [
            {"role": m.role, "content": m.content} for m in messages
        ]

    def _limits(self, max_output_tokens: int | None) -> dict[str, Any]:
        limit = max_output_tokens or self.max_output_tokens
        args: dict[str, Any] = {"max_completion_tokens": limit}
        if not self.model.lower().startswith(_NO_TEMPERATURE):
            args["temperature"] = 0
        return args

    def _call(self, **kwargs: Any) -> Any:
        return self._retrying(self.client.chat.completions.create, **kwargs)

    def _usage(self, usage: Any) -> Usage:
        if usage is None:
            return Usage()
        # Automatic prefix caching: the system prompt and schema come first in every request,
        # so from the second call on the provider reports them as cached.
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", None) or 0) if details is not None else 0
        return self.priced(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0), cached)

    def response_format(self, schema: dict[str, Any], schema_name: str) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": schema, "strict": True},
        }

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        if not self.supports_json_schema:
            # The server cannot enforce a schema: describe it in the system prompt instead.
            system += (
                "\n\nAnswer with one JSON object, no prose, that follows this JSON schema:\n"
                + schema_text(schema)
            )
        kwargs: dict[str, Any] = {
            "messages": self._messages(system, messages),
            **self._limits(max_output_tokens),
        }
        if self.supports_json_schema:
            kwargs["response_format"] = self.response_format(schema, schema_name)
        resp = self._call(**kwargs)
        usage = self._usage(resp.usage)
        if not resp.choices:
            return StructuredResponse(None, "", "other", usage, "no choices")
        choice = resp.choices[0]
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None)
        reason = str(choice.finish_reason or "")
        finish: FinishReason
        if refusal or reason == "content_filter":
            return StructuredResponse(None, refusal or text, "refusal", usage, reason)
        finish = "length" if reason == "length" else "stop" if reason == "stop" else "other"
        return StructuredResponse(parse_json_object(text), text, finish, usage, reason)

    def stream_text(
        self,
        system: str,
        messages: Sequence[Message],
        max_output_tokens: int | None = None,
    ) -> TextStream:
        stream = self._call(
            messages=self._messages(system, messages),
            stream=True,
            stream_options={"include_usage": True},
            **self._limits(max_output_tokens),
        )
        return _OpenAITextStream(self, stream)


class _OpenAITextStream(SdkTextStream):
    provider: OpenAIProvider

    def deltas(self) -> Iterator[str]:
        usage = Usage()
        for event in self.stream:
            if event.usage is not None:
                usage = self.provider._usage(event.usage)
            if event.choices and event.choices[0].delta.content:
                yield event.choices[0].delta.content
        self.usage = usage


class OpenAICompatibleProvider(OpenAIProvider):
    """Any server speaking the OpenAI API at ``--base-url``: llama.cpp, vLLM, Ollama, LM Studio.

    Such servers take ``max_tokens`` (not ``max_completion_tokens``) and most enforce a
    ``json_schema`` response format; ``json_schema = false`` in ``[tool.threatmodel]``
    switches to describing the schema in the prompt for servers that do not.
    """

    name = "openai-compatible"
    key_hint = "check the key your server expects in OPENAI_API_KEY."

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config, model_info(self.name, config.model, config.base_url))
        self.supports_json_schema = config.json_schema
        # llama.cpp, vLLM and Ollama turn a json_schema response format into a grammar.
        self.grammar_schema = config.json_schema

    @property
    def cache_identity(self) -> str:
        # Two servers can serve different weights under one model name.
        return f"{self.name}:{self.config.base_url}:{self.model}"

    def _limits(self, max_output_tokens: int | None) -> dict[str, Any]:
        return {"max_tokens": max_output_tokens or self.max_output_tokens, "temperature": 0}
