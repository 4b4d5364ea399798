"""The wire schema bounds every answer a grammar can produce (issue 19: a re-run makes 0 calls).

A local server (llama.cpp, vLLM, Ollama) compiles the ``json_schema`` response format into a
decoding grammar. A small model that loops inside a string or keeps adding list items is then
stopped by the grammar only where the schema says so: with every list and every string
bounded, the longest answer the grammar allows is finite, so the answer ends and parses (and
the verifiers refute it) instead of running to the output limit and failing on every run.
OpenAI's strict mode does not list the string-length keywords, so it gets them left out.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from threatmodel.config import ProviderConfig
from threatmodel.llm import build_provider
from threatmodel.llm.schema import LlmAnswer, wire_schema


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


def test_the_bounds_are_the_validators_bounds() -> None:
    """One notion: the grammar's bounds are Pydantic's, so a grammar-cut answer validates."""
    schema = wire_schema(True)
    evidence = schema["$defs"]["LlmEvidence"]["properties"]
    finding = schema["$defs"]["LlmFinding"]["properties"]
    limits = LlmAnswer.model_json_schema()["$defs"]
    assert evidence["snippet"]["maxLength"] == (
        limits["LlmEvidence"]["properties"]["snippet"]["maxLength"]
    )
    assert finding["attack"]["maxLength"] == limits["LlmFinding"]["properties"]["attack"]["maxLength"]
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
                "evidence": [
                    {"path": "a.py", "start_line": 1, "end_line": 1, "snippet": "s" * 10}
                ],
                "attack": "a" * finding["attack"]["maxLength"],
                "mitigation": "m",
            }
        ]
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
