"""The wire schema bounds every answer a grammar can produce (issue 19: a re-run makes 0 calls).

A local server (llama.cpp, vLLM, Ollama) compiles the ``json_schema`` response format into a
decoding grammar. A small model that loops inside a string or keeps adding list items is then
stopped by the grammar only where the schema says so: with every list and every string
bounded, the longest answer the grammar allows is finite, so the answer ends and parses (and
the verifiers refute it) instead of running to the output limit and failing on every run.
OpenAI's strict mode does not list the string-length keywords, so it gets them left out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from test_analyze import Scripted, example, ok, run  # noqa: F401 (example is a fixture)

from threatmodel.analyze import MAX_REASKS
from threatmodel.code.reader import RepoReader
from threatmodel.config import ProviderConfig
from threatmodel.llm import build_provider
from threatmodel.llm.cache import CachedProvider
from threatmodel.llm.interface import Message, StructuredResponse, Usage
from threatmodel.llm.schema import (
    GRAMMAR_FINDINGS,
    GRAMMAR_TEXT,
    MAX_FINDINGS,
    LlmAnswer,
    wire_schema,
)
from threatmodel.models import Facts, Verdict
from threatmodel.verify import VerifyContext, verify_findings


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: dict[str, Any] = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def longest(node: dict[str, Any], root: dict[str, Any]) -> float:
    """The most characters a grammar built from ``node`` lets through (inf if unbounded)."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return max(longest(n, root) for n in node["anyOf"])
    if "enum" in node:
        return max(len(str(v)) + 2 for v in node["enum"])
    kind = node.get("type")
    if kind == "string":
        return node.get("maxLength", math.inf) + 2
    if kind == "integer":
        return 20  # a grammar's integer rule is bounded in digits only loosely: call it 20
    if kind == "null":
        return 4
    if kind == "array":
        return node.get("maxItems", math.inf) * (longest(node["items"], root) + 1) + 2
    if kind == "object":
        props = node["properties"]
        return sum(len(k) + 4 + longest(v, root) for k, v in props.items()) + 2
    return math.inf


def test_grammar_schema_bounds_every_answer() -> None:
    schema = wire_schema(True)
    assert math.isfinite(longest(schema, schema))
    # Without the string lengths a looping model can fill a string forever.
    strict = wire_schema()
    assert longest(strict, strict) == math.inf


def test_strict_schema_carries_no_string_lengths() -> None:
    text = str(wire_schema())
    assert "maxLength" not in text and "minLength" not in text
    assert "maxItems" in text  # list bounds are in OpenAI's strict subset


def _pairs(grammar: Any, limits: Any, root: dict[str, Any], lroot: dict[str, Any]) -> Any:
    """(grammar node, validator node) for every schema node, walked side by side."""
    if isinstance(grammar, dict):
        if "$ref" in grammar:
            grammar, limits = _resolve(grammar, root), _resolve(limits, lroot)
        yield grammar, limits
        for key, value in grammar.items():
            if key in limits and isinstance(value, dict | list):
                yield from _pairs(value, limits[key], root, lroot)
    elif isinstance(grammar, list):
        for g, v in zip(grammar, limits, strict=True):
            yield from _pairs(g, v, root, lroot)


def test_the_grammar_bounds_are_within_the_validators_bounds() -> None:
    """One notion: the grammar caps lie within Pydantic's bounds, so a grammar-cut answer
    validates; and they are tighter where llama.cpp's grammar sampling crawls."""
    schema = wire_schema(True)
    limits = LlmAnswer.model_json_schema()
    pairs = list(_pairs(schema, limits, schema, limits))
    for key in ("maxLength", "maxItems"):
        bounded = [(g[key], v[key]) for g, v in pairs if key in g]
        assert bounded and all(g <= v for g, v in bounded), (key, bounded)
    assert max(g["maxLength"] for g, _ in pairs if "maxLength" in g) == GRAMMAR_TEXT
    assert schema["properties"]["findings"]["maxItems"] == GRAMMAR_FINDINGS < MAX_FINDINGS
    # The longest answer the grammar allows is a few thousand tokens, not tens of thousands.
    assert longest(schema, schema) < 20_000
    finding = schema["$defs"]["LlmFinding"]["properties"]
    long = {
        "findings": [
            {
                "title": "t" * finding["title"]["maxLength"],
                "severity": "high",
                "stride": [],
                "cwe": ["c" * finding["cwe"]["items"]["maxLength"]],
                "claims": [
                    {"kind": "xss", "route": None, "table": None, "location": None, "name": None}
                ],
                "evidence": [{"path": "a.py", "start_line": 1, "end_line": 1, "snippet": "s" * 10}],
                "attack": "a" * finding["attack"]["maxLength"],
                "mitigation": "m",
            }
        ]
        * GRAMMAR_FINDINGS
    }
    LlmAnswer.model_validate(long)


@pytest.mark.parametrize(
    ("name", "json_schema", "grammar"),
    [
        ("openai-compatible", True, True),
        ("openai-compatible", False, False),  # schema described in the prompt: no grammar
        ("openai", True, False),
        ("anthropic", True, False),
    ],
)
def test_which_providers_get_the_string_lengths(
    name: str, json_schema: bool, grammar: bool, tmp_path: Any
) -> None:
    base = "http://127.0.0.1:8080/v1" if name == "openai-compatible" else None
    config = ProviderConfig(name, "m", base, "k", json_schema=json_schema)
    assert build_provider(config).grammar_schema is grammar
    # The answer cache wraps the provider and must say the same (it decides the schema sent).
    assert build_provider(config, tmp_path).grammar_schema is grammar


def _loop_fill(node: dict[str, Any], root: dict[str, Any]) -> Any:
    """What a model stuck in a loop writes under a grammar built from ``node``: every list
    to its maxItems, every string repeated up to its maxLength, a hallucinated file. An
    unbounded string never ends: ``_Endless`` (the server stops at the output limit)."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return _loop_fill(next(n for n in node["anyOf"] if n.get("type") != "null"), root)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "string":
        if "maxLength" not in node:
            raise _Endless
        return ("/search/:id" * (node["maxLength"] // 11 + 1))[: node["maxLength"]]
    if kind == "integer":
        return 11
    if kind == "array":
        if "maxItems" not in node:
            raise _Endless
        return [_loop_fill(node["items"], root) for _ in range(node["maxItems"])]
    return {k: _loop_fill(v, root) for k, v in node["properties"].items()}


class _Endless(Exception):
    pass


class Looping(Scripted):
    """A tiny model that loops, behind a server that enforces the schema it is sent."""

    def __init__(self, grammar: bool) -> None:
        super().__init__(lambda s, m: ok())
        self.grammar_schema = grammar
        self.schemas: list[dict[str, Any]] = []

    def complete_structured(
        self,
        system: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        schema_name: str,
        max_output_tokens: int | None = None,
    ) -> StructuredResponse:
        self.calls.append(list(messages))
        self.schemas.append(schema)
        try:
            data = _loop_fill(schema, schema)
        except _Endless:
            text = '{"findings": [{"title": "' + "/search/:id" * 200
            return StructuredResponse(None, text, "length", Usage(1000, 700, 0.0))
        return StructuredResponse(data, json.dumps(data), "stop", Usage(1000, 700, 0.0))


def test_a_looping_model_under_the_grammar_answers_once_and_is_refuted(
    example: tuple[Facts, RepoReader],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    inner = Looping(grammar=True)
    first = run(example, CachedProvider(inner, tmp_path / "llm"), tmp_path)
    calls = len(inner.calls)
    assert all("maxLength" in json.dumps(s) for s in inner.schemas)
    assert first.run.status == "ran" and not first.run.failed_chunks
    assert calls == first.chunks and first.findings  # one call a chunk, the answer kept
    # Nothing the loop invented survives the verifiers: every file it names is made up.
    facts, reader = example
    checked = verify_findings(first.findings, VerifyContext(facts=facts, reader=reader))
    assert not [f for f in checked.kept if f.verdict == Verdict.CONFIRMED]
    assert checked.suppressed
    again = run(example, CachedProvider(inner, tmp_path / "llm"), tmp_path)
    assert again.llm_calls == 0 and len(inner.calls) == calls


def test_without_string_bounds_the_loop_fails_and_the_failure_replays(
    example: tuple[Facts, RepoReader],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    inner = Looping(grammar=False)
    first = run(example, CachedProvider(inner, tmp_path / "llm"), tmp_path)
    assert first.run.status == "failed" and first.run.failed_chunks
    calls = len(inner.calls)
    assert calls == first.chunks * (MAX_REASKS + 1)
    # Cut off at the output limit after every re-ask: the same model would do it again, so
    # the exchange is kept and the next run replays the failure instead of paying for it.
    again = run(example, CachedProvider(inner, tmp_path / "llm"), tmp_path)
    assert again.llm_calls == 0 and len(inner.calls) == calls
    assert again.run.failed_chunks == first.run.failed_chunks
