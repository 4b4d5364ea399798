"""`scan --plan`: what the LLM pass would send, and what it would cost, without calling it.

``plan_llm_pass`` builds the same chunks and prompts as ``analyze.run_llm_pass`` (same
budget, same templates, same system prompt) and prices them for the configured provider
and model and for the main alternatives (``llm/pricing.ALTERNATIVES``). Output tokens are
not known before a call: the estimate assumes ``ASSUMED_OUTPUT_TOKENS`` per call and says so.
Prompt caching is priced as the providers do it: the fixed prefix (system prompt and schema)
is read from the cache from the second call on, when it is at least the provider's minimum.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from threatmodel.analyze import (
    chunk_budget,
    chunk_prompt,
    fixed_tokens,
    focus_names,
    system_prompt,
)
from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.llm.pricing import ALTERNATIVES, MIN_CACHED_PREFIX, cost_usd, model_info
from threatmodel.llm.schema import schema_text, wire_schema
from threatmodel.models import Facts
from threatmodel.summarize import Focus, count_tokens, summarize
from threatmodel.vocabulary import supported_kinds
from threatmodel.words import plural

ASSUMED_OUTPUT_TOKENS = 800  # per call; a typical findings answer (not known in advance)
DEFAULT_CONTEXT = 128_000  # with no provider configured: a hosted model's window
DEFAULT_MAX_OUTPUT = 4096


@dataclass(frozen=True)
class PlannedRequest:
    """One call of the pass: its chunk and the user message exactly as it would be sent."""

    id: str
    kind: str
    title: str
    data_tokens: int
    prompt_tokens: int
    prompt: str
    routes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    provider: str
    model: str
    configured: bool
    calls: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class Plan:
    provider: str | None
    model: str | None
    budget_tokens: int
    system: str
    schema: dict[str, Any]
    prefix_tokens: int  # system prompt + schema: the same at the head of every call
    fixed_tokens_per_call: int  # the prefix and the prompt template around the data
    requests: list[PlannedRequest] = field(default_factory=list)
    # What the requests do not quote, and why (summarize's ``left_out``): no silent loss.
    left_out: list[str] = field(default_factory=list)
    estimates: list[Estimate] = field(default_factory=list)
    assumed_output_tokens_per_call: int = ASSUMED_OUTPUT_TOKENS

    @property
    def input_tokens(self) -> int:
        return sum(self.prefix_tokens + r.prompt_tokens for r in self.requests)

    def to_json(self) -> str:
        data = asdict(self)
        data["input_tokens"] = self.input_tokens
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _estimate(
    provider: str, model: str, base_url: str | None, plan: Plan, configured: bool
) -> Estimate:
    info = model_info(provider, model, base_url)
    calls = len(plan.requests)
    total = plan.input_tokens
    cacheable = plan.prefix_tokens >= MIN_CACHED_PREFIX.get(provider, 1 << 30)
    cached = plan.prefix_tokens * max(0, calls - 1) if cacheable else 0
    # Anthropic writes the prefix to its cache on the first call (billed above input).
    written = plan.prefix_tokens if cacheable and calls and info.cache_write_factor != 1 else 0
    out = calls * ASSUMED_OUTPUT_TOKENS
    cost = cost_usd(info, total, out, cached, written)
    return Estimate(provider, model, configured, calls, total, cached, out, round(cost, 6))


def plan_llm_pass(
    facts: Facts,
    reader: RepoReader,
    settings: Settings,
    files: Sequence[str] = (),
    focus: Focus | None = None,
) -> Plan:
    """The pass's requests and their estimated cost; makes no call and needs no key."""
    config = settings.provider
    kinds = supported_kinds(facts)
    system = system_prompt(kinds)
    schema = wire_schema(kinds=kinds)
    if config is not None:
        info = model_info(config.name, config.model, config.base_url)
        context = config.context_tokens or info.context_tokens
        max_out = max(256, min(config.max_output_tokens, context // 4))
    else:
        context, max_out = DEFAULT_CONTEXT, DEFAULT_MAX_OUTPUT
    system_tokens = count_tokens(system)
    budget = chunk_budget(context, max_out, system_tokens, config.chunk_tokens if config else None)
    names = focus_names(focus)
    left_out: list[str] = []
    chunks = summarize(facts, reader, budget, focus, files, left_out)
    plan = Plan(
        provider=config.name if config else None,
        model=config.model if config else None,
        budget_tokens=budget,
        system=system,
        schema=schema,
        prefix_tokens=system_tokens + count_tokens(schema_text(schema)),
        fixed_tokens_per_call=fixed_tokens(system, schema, names),
        left_out=left_out,
    )
    for c in chunks:
        prompt = chunk_prompt(c, names)
        plan.requests.append(
            PlannedRequest(
                c.id, c.kind, c.title, c.tokens, count_tokens(prompt), prompt, c.routes, c.tables
            )
        )
    if config is not None:
        plan.estimates.append(_estimate(config.name, config.model, config.base_url, plan, True))
    for name, model in ALTERNATIVES:
        if config is None or (name, model) != (config.name, config.model):
            plan.estimates.append(_estimate(name, model, None, plan, False))
    return plan


def plan_text(plan: Plan) -> str:
    """The plan for a terminal: one line per request, then the cost of each model."""
    who = f"{plan.provider} {plan.model}" if plan.provider else "no provider configured"
    asked = plural(len(plan.requests), "request")
    lines = [
        f"LLM pass plan ({who}): {asked}, {plan.input_tokens:,} input "
        f"tokens, {plan.fixed_tokens_per_call:,} fixed tokens per call "
        f"(system prompt and schema: {plan.prefix_tokens:,}). No call was made.",
        "",
    ]
    width = max((len(r.title) for r in plan.requests), default=10)
    width = min(width, 90)
    for r in plan.requests:
        lines.append(f"  {r.title[:90]:<{width}}  {r.kind:<13} {r.prompt_tokens:>7,} tokens")
    if plan.left_out:
        lines += ["", "Not quoted (named in the requests instead):"]
        lines += [f"  - {t}" for t in plan.left_out]
    lines += [
        "",
        f"Estimated cost (assuming {plan.assumed_output_tokens_per_call} output tokens per call;"
        " the prefix read from the prompt cache from the 2nd call on):",
    ]
    for e in plan.estimates:
        mark = " (configured)" if e.configured else ""
        lines.append(
            f"  {e.provider + ' ' + e.model + mark:<42} ${e.cost_usd:,.4f}"
            f"  ({e.input_tokens:,} in, {e.cached_input_tokens:,} of them cached,"
            f" ~{e.output_tokens:,} out)"
        )
    lines.append("")
    lines.append("Use --format json to see every request exactly as it would be sent.")
    return "\n".join(lines) + "\n"
