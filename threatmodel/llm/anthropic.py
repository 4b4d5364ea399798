"""Anthropic's Messages API through the official SDK.

Structured calls force one tool whose ``input_schema`` is the findings schema
(``tool_choice = {"type": "tool", "name": ...}``): the tool input *is* the answer. Models
(and compatible servers such as llama-server's ``/v1/messages``) sometimes answer in plain
text anyway; that text is parsed as JSON when it is JSON and otherwise returned with
``finish_reason = "no_tool_call"`` so the caller can re-ask.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import anthropic as sdk

from threatmodel.config import ProviderConfig
from threatmodel.llm._sdk import SdkProvider, SdkTextStream
from threatmodel.llm.interface import FinishReason, Message, StructuredResponse, TextStream, Usage
from threatmodel.llm.openai import parse_json_object
from threatmodel.llm.pricing import model_info


class AnthropicProvider(SdkProvider):
    name = "anthropic"
    supports_json_schema = False
    supports_tools = True
    supports_streaming = True
    key_hint = "check ANTHROPIC_API_KEY."
    sdk = sdk
    sdk_error = sdk.AnthropicError

    def __init__(self, config: ProviderConfig) -> None:
        info = model_info(self.name, config.model, config.base_url)
        super().__init__(config, info, sdk.Anthropic)

    @property
    def cache_identity(self) -> str:
        base = f":{self.config.base_url}" if self.config.base_url else ""
        return f"{self.name}{base}:{self.model}"

    def _usage(self, usage: Any) -> Usage:
        if usage is None:
            return Usage()
        return self.priced(
            _input_tokens(usage),
            int(usage.output_tokens or 0),
            int(getattr(usage, "cache_read_input_tokens", None) or 0),
            int(getattr(usage, "cache_creation_input_tokens", None) or 0),
        )

    @staticmethod
    def _messages(messages: Sequence[Message]) -> list[Any]:
        return [{"role": m.role, "content": m.content} for m in messages]

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        tool = {
            "name": schema_name,
            "description": "Record the findings of this analysis. Call exactly once.",
            "input_schema": schema,
        }
        resp = self._retrying(
            self.client.messages.create,
            system=_cached_system(system),
            messages=self._messages(messages),
            max_tokens=max_output_tokens or self.max_output_tokens,
            tools=[tool],
            tool_choice={"type": "tool", "name": schema_name},
        )
        usage = self._usage(resp.usage)
        stop = str(resp.stop_reason or "")
        texts = [b.text for b in resp.content if getattr(b, "type", "") == "text"]
        calls = [b for b in resp.content if getattr(b, "type", "") == "tool_use"]
        text = "\n".join(texts)
        if stop == "refusal":
            return StructuredResponse(None, text, "refusal", usage, stop)
        if calls:
            data = calls[0].input if isinstance(calls[0].input, dict) else None
            finish: FinishReason = "length" if stop == "max_tokens" else "stop"
            return StructuredResponse(data, text, finish, usage, stop)
        if stop == "max_tokens":
            return StructuredResponse(parse_json_object(text), text, "length", usage, stop)
        return StructuredResponse(parse_json_object(text), text, "no_tool_call", usage, stop)

    def stream_text(
        self,
        system: str,
        messages: Sequence[Message],
        max_output_tokens: int | None = None,
    ) -> TextStream:
        stream = self._retrying(
            self.client.messages.create,
            system=system,
            messages=self._messages(messages),
            max_tokens=max_output_tokens or self.max_output_tokens,
            stream=True,
        )
        return _AnthropicTextStream(self, stream)


class _AnthropicTextStream(SdkTextStream):
    """Reads the raw event stream: text deltas, usage from message_start / message_delta."""

    def deltas(self) -> Iterator[str]:
        tin = tout = 0
        for event in self.stream:
            kind = getattr(event, "type", "")
            if kind == "message_start":
                tin = _input_tokens(event.message.usage)
                tout = int(event.message.usage.output_tokens or 0)
            elif kind == "message_delta" and event.usage is not None:
                tout = int(event.usage.output_tokens or tout)
            elif kind == "content_block_delta" and getattr(event.delta, "type", "") == (
                "text_delta"
            ):
                yield event.delta.text
        self.usage = self.provider.priced(tin, tout)


def _cached_system(system: str) -> list[Any]:
    """The system prompt as one block marked for prompt caching: the tools (the schema) and
    the system prompt come before it, are the same in every call of a pass, and are read
    from Anthropic's cache from the second call on (when at least the model's minimum)."""
    return [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]


def _input_tokens(usage: Any) -> int:
    """Every prompt token sent: prompt-cache reads and writes are reported apart from
    ``input_tokens`` (and billed); counting them all keeps budgets on the safe side."""
    parts = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(int(getattr(usage, name, None) or 0) for name in parts)
