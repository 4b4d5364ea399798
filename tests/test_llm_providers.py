"""Providers at the HTTP level: what is sent, how every kind of answer and failure is read.

The SDK clients are given an ``httpx.MockTransport`` that plays the server, so these tests
check the real request bodies the SDKs build and the real response parsing, with no network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from threatmodel.config import ProviderConfig
from threatmodel.llm import build_provider
from threatmodel.llm.anthropic import AnthropicProvider
from threatmodel.llm.interface import (
    Message,
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderTimeout,
    ProviderTransientError,
)
from threatmodel.llm.openai import OpenAICompatibleProvider, OpenAIProvider
from threatmodel.llm.pricing import UNKNOWN_HOSTED, cost_usd, model_info
from threatmodel.llm.retry import backoff_delay, parse_retry_after
from threatmodel.llm.schema import SCHEMA_NAME, wire_schema

Handler = Callable[[httpx.Request], httpx.Response]
ANSWER = {"findings": []}


def completion(content: str | None, finish: str = "stop", refusal: str | None = None) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
    }


def message(content: list[dict[str, Any]], stop: str) -> dict:
    return {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 1000, "output_tokens": 200},
    }


def openai_provider(handler: Handler, name: str = "openai", retries: int = 2) -> OpenAIProvider:
    base = "http://llm.test/v1" if name == "openai-compatible" else None
    config = ProviderConfig(name, "gpt-4o-mini", base, "sk-test", max_retries=retries)
    provider = build_provider(config)
    assert isinstance(provider, OpenAIProvider)
    provider.client = openai.OpenAI(
        api_key="sk-test",
        base_url=base,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return provider


def anthropic_provider(handler: Any, retries: int = 2) -> AnthropicProvider:
    """The Anthropic SDK speaks through ``httpx2`` (a fork of httpx): handlers use it."""
    config = ProviderConfig("anthropic", "claude-haiku-4-5", None, "k", max_retries=retries)
    provider = build_provider(config)
    assert isinstance(provider, AnthropicProvider)
    provider.client = anthropic.Anthropic(
        api_key="k",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    return provider


def ask(provider: OpenAIProvider | AnthropicProvider) -> Any:
    return provider.complete_structured(
        "system text", [Message("user", "question")], wire_schema(), SCHEMA_NAME
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


# --------------------------------------------------------------------------- OpenAI


def test_openai_sends_strict_json_schema_and_parses_the_answer() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=completion(json.dumps(ANSWER)))

    resp = ask(openai_provider(handler))
    body = sent[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["name"] == SCHEMA_NAME
    assert body["messages"][0] == {"role": "system", "content": "system text"}
    assert "max_completion_tokens" in body
    assert resp.data == ANSWER and resp.finish_reason == "stop"
    assert resp.usage.input_tokens == 1000 and resp.usage.output_tokens == 200
    expected = cost_usd(model_info("openai", "gpt-4o-mini"), 1000, 200)
    assert resp.usage.cost_usd == pytest.approx(expected)


def test_openai_refusal_and_truncation_are_answers_not_errors() -> None:
    refusal = completion(None, refusal="no")
    refused = ask(openai_provider(lambda r: httpx.Response(200, json=refusal)))
    assert refused.finish_reason == "refusal" and refused.data is None and refused.text == "no"
    truncated = completion('{"findings": [', "length")
    cut = ask(openai_provider(lambda r: httpx.Response(200, json=truncated)))
    assert cut.finish_reason == "length" and cut.data is None


def test_compatible_server_uses_max_tokens_and_can_describe_the_schema_instead() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=completion('```json\n{"findings": []}\n```'))

    provider = openai_provider(handler, "openai-compatible")
    assert isinstance(provider, OpenAICompatibleProvider)
    assert ask(provider).data == ANSWER  # a fenced JSON answer is still read
    assert "max_tokens" in sent[0] and "response_format" in sent[0]
    provider.supports_json_schema = False  # [tool.threatmodel] json_schema = false
    ask(provider)
    assert "response_format" not in sent[1]
    assert "JSON schema" in sent[1]["messages"][0]["content"]


def test_429_is_retried_after_the_servers_retry_after(sleeps: list[float]) -> None:
    calls = iter(
        [
            httpx.Response(429, headers={"retry-after": "7"}, json={"error": {"message": "slow"}}),
            httpx.Response(503, json={"error": {"message": "busy"}}),
            httpx.Response(200, json=completion(json.dumps(ANSWER))),
        ]
    )
    resp = ask(openai_provider(lambda r: next(calls), retries=3))
    assert resp.data == ANSWER
    assert sleeps[0] == 7.0 and len(sleeps) == 2


def test_retries_are_bounded_then_the_typed_error_surfaces(sleeps: list[float]) -> None:
    provider = openai_provider(lambda r: httpx.Response(500, json={}), retries=2)
    with pytest.raises(ProviderTransientError, match="server error 500"):
        ask(provider)
    assert len(sleeps) == 2


def test_bad_key_and_bad_request_are_not_retried(sleeps: list[float]) -> None:
    with pytest.raises(ProviderAuthError, match="OPENAI_API_KEY"):
        ask(openai_provider(lambda r: httpx.Response(401, json={"error": {"message": "k"}})))
    with pytest.raises(ProviderRequestError, match="400"):
        ask(openai_provider(lambda r: httpx.Response(400, json={"error": {"message": "bad"}})))
    assert sleeps == []


def test_timeout_is_a_typed_transient_error(sleeps: list[float]) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ProviderTimeout):
        ask(openai_provider(hang, retries=1))
    assert len(sleeps) == 1


def test_openai_streams_text_with_usage() -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"content": "SQL "}}]},
        {"choices": [{"index": 0, "delta": {"content": "injection"}}]},
        {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}},
    ]
    head = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    body = "".join(f"data: {json.dumps({**head, **e})}\n\n" for e in events)
    body += "data: [DONE]\n\n"
    provider = openai_provider(
        lambda r: httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    )
    stream = provider.stream_text("s", [Message("user", "q")])
    assert list(stream) == ["SQL ", "injection"]
    assert stream.usage is not None and stream.usage.input_tokens == 11


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_forces_the_tool_and_reads_its_input() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        block = {"type": "tool_use", "id": "t", "name": SCHEMA_NAME, "input": ANSWER}
        return httpx2.Response(200, json=message([block], "tool_use"))

    resp = ask(anthropic_provider(handler))
    assert sent[0]["tool_choice"] == {"type": "tool", "name": SCHEMA_NAME}
    assert sent[0]["tools"][0]["input_schema"] == wire_schema()
    # one system block, marked for prompt caching (the tools and system are a stable prefix)
    assert sent[0]["system"] == [
        {"type": "text", "text": "system text", "cache_control": {"type": "ephemeral"}}
    ]
    assert resp.data == ANSWER and resp.finish_reason == "stop"


def test_anthropic_plain_text_refusal_and_truncation() -> None:
    text = [{"type": "text", "text": "I think the app is fine."}]
    plain = ask(anthropic_provider(lambda r: httpx2.Response(200, json=message(text, "end_turn"))))
    assert plain.finish_reason == "no_tool_call" and plain.data is None
    assert plain.text == "I think the app is fine."
    refused = ask(anthropic_provider(lambda r: httpx2.Response(200, json=message(text, "refusal"))))
    assert refused.finish_reason == "refusal"
    cut = ask(anthropic_provider(lambda r: httpx2.Response(200, json=message(text, "max_tokens"))))
    assert cut.finish_reason == "length"


def test_anthropic_overloaded_529_is_rate_limited(sleeps: list[float]) -> None:
    provider = anthropic_provider(
        lambda r: httpx2.Response(529, headers={"retry-after-ms": "1500"}, json={}), retries=1
    )
    with pytest.raises(ProviderRateLimited):
        ask(provider)
    assert sleeps == [1.5]


def test_anthropic_streams_text_with_usage() -> None:
    events = [
        ("message_start", {"type": "message_start", "message": message([], "")}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Public "},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "route."},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    body = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events)
    provider = anthropic_provider(
        lambda r: httpx2.Response(200, text=body, headers={"content-type": "text/event-stream"})
    )
    stream = provider.stream_text("s", [Message("user", "q")])
    assert stream.text() == "Public route."
    assert stream.usage is not None
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (1000, 5)


# --------------------------------------------------------------------------- helpers


def test_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # past
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert backoff_delay(0, 3600.0, 1.0) == 60.0  # a hostile Retry-After is capped
    assert 0.5 <= backoff_delay(0, None, 1.0) <= 1.0


def test_pricing_by_prefix_unknown_and_local() -> None:
    assert model_info("openai", "gpt-4o-mini-2024-07-18") == model_info("openai", "gpt-4o-mini")
    mini, full = model_info("openai", "gpt-4o-mini"), model_info("openai", "gpt-4o")
    assert full.input_per_mtok > mini.input_per_mtok
    assert model_info("anthropic", "claude-next-9") is UNKNOWN_HOSTED
    assert model_info("openai-compatible", "llama3").input_per_mtok == 0.0
    local = model_info("anthropic", "claude-haiku-4-5", "http://127.0.0.1:8088")
    assert local.output_per_mtok == 0.0
    assert cost_usd(model_info("openai", "gpt-4o-mini"), 1_000_000, 0) == pytest.approx(0.15)
