"""The LLM pass: summaries in, candidate findings out (verified later, never trusted).

``run_llm_pass`` turns the facts into token-budgeted chunks (summarize.py), renders the
prompts (``prompts/analyze_*.j2``, StrictUndefined, repository data only inside a delimited
block), asks the configured provider for ``llm/schema.LlmAnswer`` per chunk with bounded
concurrency, and returns the candidate findings with token and cost accounting.

What can go wrong is an outcome, never a crash:
- a reply the provider module cannot read (not JSON, fields missing) fails its chunk;
- an answer that fails validation (or a refusal, JSON cut off at the output limit, plain
  text instead of a tool call) is re-asked with the problem up to ``MAX_REASKS`` times,
  then the chunk is recorded as failed (``LlmRun.failed_chunks``, status "partial");
- a call that fails after retries fails its chunk; a rejected key stops the pass;
- ``--max-tokens`` / ``--max-cost`` are checked *before* each call (the call's prompt plus
  its output limit must fit), so a budget is never overshot; the pass stops cleanly and
  keeps what it has.
Answers are cached on disk (llm/cache.py): a re-run of an unchanged repository makes no
call. With no provider it returns at once, saying how to enable it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import ValidationError

from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.errors import ProviderError
from threatmodel.llm.interface import Message, Provider, ProviderAuthError, StructuredResponse
from threatmodel.llm.schema import (
    MAX_FINDINGS,
    SCHEMA_NAME,
    LlmAnswer,
    claim_vocabulary,
    schema_text,
    to_finding,
    wire_schema,
)
from threatmodel.llm_outcome import AnalyzeOutcome, skipped
from threatmodel.models import Facts, Finding, LlmRun
from threatmodel.progress import Progress
from threatmodel.summarize import Chunk, Focus, count_tokens, summarize
from threatmodel.vocabulary import supported_kinds

__all__ = ["AnalyzeOutcome", "Focus", "run_llm_pass"]

PROMPTS = Path(__file__).resolve().parent / "prompts"
MAX_REASKS = 2
# Data per request. Every request also pays the fixed part (system prompt, schema, template:
# about 2.1k tokens): at 6k of data that was a quarter of each request, at 8k a fifth. The
# cap still keeps a request's routes few enough for the model's findings (MAX_FINDINGS) and
# a failed request cheap to re-send.
CHUNK_CAP_TOKENS = 8_000
MIN_CHUNK_TOKENS = 1_000  # a small window still gets requests worth their fixed prompt
PROMPT_OVERHEAD_TOKENS = 600  # chunk template text around the data, and the re-ask text


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts, not HTML
        keep_trailing_newline=True,
    )


def render_prompt(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values).strip() + "\n"


def data_block(data: str) -> tuple[str, str]:
    """(marker, data): a marker the data cannot forge, since it hashes the data itself."""
    safe = data.replace("REPO_DATA_", "REPO-DATA-")
    return f"REPO_DATA_{hashlib.sha256(safe.encode()).hexdigest()[:12].upper()}", safe


def system_prompt(kinds: Collection[str] | None = None) -> str:
    """The system prompt: the same in every call of a pass (a cacheable prefix). ``kinds``:
    the claim kinds the repository's facts can support (``vocabulary.supported_kinds``)."""
    return render_prompt(
        "analyze_system.j2",
        claim_kinds=claim_vocabulary(kinds),
        max_findings=MAX_FINDINGS,
        schema_name=SCHEMA_NAME,
    )


def focus_names(focus: Focus | None) -> list[str]:
    return sorted(focus.routes | focus.tables | focus.files) if focus else []


def chunk_prompt(chunk: Chunk, focus: list[str]) -> str:
    """The user message that asks about ``chunk`` (its data inside the delimited block)."""
    marker, data = data_block(chunk.data)
    name = "analyze_cross.j2" if chunk.kind == "cross" else "analyze_chunk.j2"
    return render_prompt(
        name,
        title=chunk.title,
        marker=marker,
        data=data,
        focus=focus,
        max_findings=MAX_FINDINGS,
        overview=chunk.overview,
    )


def chunk_budget(
    context_tokens: int, max_output_tokens: int, system_tokens: int, cap: int | None = None
) -> int:
    """Data tokens per chunk: what the window leaves after the prompt, a re-ask and answers
    (at least ``MIN_CHUNK_TOKENS``), at most ``cap`` (``chunk_tokens`` in
    ``[tool.threatmodel]``: smaller requests, more of them) or ``CHUNK_CAP_TOKENS``."""
    room = context_tokens - 2 * max_output_tokens - system_tokens
    return min(cap or CHUNK_CAP_TOKENS, max(room - PROMPT_OVERHEAD_TOKENS, MIN_CHUNK_TOKENS))


def fixed_tokens(system: str, schema: dict[str, Any], focus: list[str]) -> int:
    """Tokens every call pays whatever its data: system prompt, schema, prompt template."""
    empty = Chunk("", "component", "", "", 0)
    return (
        count_tokens(system)
        + count_tokens(schema_text(schema))
        + count_tokens(chunk_prompt(empty, focus))
    )


class Budget:
    """Thread-safe token / cost budget: a call reserves its worst case before it is made."""

    def __init__(self, max_tokens: int | None, max_cost: float | None) -> None:
        self.max_tokens, self.max_cost = max_tokens, max_cost
        self.tokens = 0
        self.cost = 0.0
        self.exhausted = False
        self._lock = threading.Lock()

    def reserve(self, tokens: int, cost: float) -> bool:
        with self._lock:
            if (
                self.exhausted
                or (self.max_tokens is not None and self.tokens + tokens > self.max_tokens)
                or (self.max_cost is not None and self.cost + cost > self.max_cost)
            ):
                self.exhausted = True
                return False
            self.tokens += tokens
            self.cost += cost
            return True

    def settle(self, reserved_tokens: int, reserved_cost: float, tokens: int, cost: float) -> None:
        with self._lock:
            self.tokens += tokens - reserved_tokens
            self.cost += cost - reserved_cost


@dataclass
class _ChunkResult:
    chunk: Chunk
    findings: list[Finding] = field(default_factory=list)
    failed: str | None = None
    calls: int = 0
    hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cached_tokens: int = 0
    cached_cost: float = 0.0
    # Fresh answers that were re-asked: cached only if the chunk ends well (see run_chunk).
    reasked: list[tuple[list[Message], StructuredResponse]] = field(default_factory=list)


class _Pass:
    """One LLM pass: shared state for the worker threads."""

    def __init__(
        self, provider: Provider, settings: Settings, focus: Focus | None, kinds: Collection[str]
    ) -> None:
        self.provider = provider
        self.budget = Budget(settings.max_tokens, settings.max_cost_usd)
        self.schema = wire_schema(provider.grammar_schema, kinds)
        self.focus = focus_names(focus)
        self.system = system_prompt(kinds)
        self.system_tokens = count_tokens(self.system)
        self.fatal: str | None = None
        self.cap = settings.provider.chunk_tokens if settings.provider else None

    def chunk_budget(self) -> int:
        p = self.provider
        return chunk_budget(p.context_tokens, p.max_output_tokens, self.system_tokens, self.cap)

    def prompt(self, chunk: Chunk) -> str:
        return chunk_prompt(chunk, self.focus)

    def _ask(self, messages: list[Message], out: _ChunkResult) -> StructuredResponse | None:
        """One answer (from the cache or a call inside the budget); None when out of budget."""
        p = self.provider
        lookup = getattr(p, "cached", None)
        if callable(lookup):
            hit = lookup(self.system, messages, self.schema, SCHEMA_NAME, None)
            if isinstance(hit, StructuredResponse):
                out.hits += 1
                return hit
        est_in = self.system_tokens + sum(count_tokens(m.content) for m in messages) + 50
        info = getattr(p, "info", None)
        est_cost = 0.0
        if info is not None:
            est_cost = est_in * info.input_per_mtok + p.max_output_tokens * info.output_per_mtok
            est_cost /= 1e6
        est_tokens = est_in + p.max_output_tokens
        if not self.budget.reserve(est_tokens, est_cost):
            return None
        try:
            resp = p.complete_structured(self.system, messages, self.schema, SCHEMA_NAME)
        except ProviderError:
            self.budget.settle(est_tokens, est_cost, 0, 0.0)
            raise
        except Exception as exc:
            # A reply the SDK or the provider module could not read (a body that is not
            # JSON, a completion without its fields, JSON nested past the recursion limit):
            # this chunk fails, the pass and the findings already verified go on.
            self.budget.settle(est_tokens, est_cost, 0, 0.0)
            raise ProviderError(
                f"{p.name}: unreadable reply from the provider ({type(exc).__name__})"
            ) from None
        except BaseException:
            self.budget.settle(est_tokens, est_cost, 0, 0.0)
            raise
        u = resp.usage
        self.budget.settle(est_tokens, est_cost, u.total_tokens, u.cost_usd)
        if resp.cached:
            out.hits += 1
        else:
            out.calls += 1
            out.input_tokens += u.input_tokens
            out.output_tokens += u.output_tokens
            out.cost += u.cost_usd
            out.cached_tokens += u.cached_input_tokens
            out.cached_cost += u.cached_cost_usd
        return resp

    def _remember(self, out: _ChunkResult) -> None:
        """Keep a chunk's whole exchange once it has ended for good: answered (after
        re-asks or not), or still unusable after every re-ask. The same model given the
        same prompts and output limit answers the same way, so an unchanged repository
        replays either with no call at all. A chunk cut short by a transient error
        (timeout, 5xx, the budget) is not kept: its first answers are asked again."""
        remember = getattr(self.provider, "remember", None)
        if callable(remember):
            for messages, resp in out.reasked:
                remember(self.system, messages, self.schema, SCHEMA_NAME, resp)

    def run_chunk(self, chunk: Chunk) -> _ChunkResult:
        out = _ChunkResult(chunk)
        if self.fatal:
            out.failed = f"not analysed: {self.fatal}"
            return out
        messages = [Message("user", self.prompt(chunk))]
        problem = ""
        for _attempt in range(MAX_REASKS + 1):
            try:
                resp = self._ask(messages, out)
            except ProviderAuthError as exc:
                self.fatal = str(exc)
                out.failed = str(exc)
                return out
            except ProviderError as exc:
                out.failed = str(exc)
                return out
            if resp is None:
                out.failed = "not analysed: the token / cost budget was reached"
                return out
            answer, problem, errors = check_answer(resp)
            if answer is not None:
                out.findings = [to_finding(f) for f in answer.findings]
                self._remember(out)
                return out
            if not resp.cached:
                out.reasked.append((list(messages), resp))
            reply = resp.text or (json.dumps(resp.data) if resp.data is not None else "")
            messages += [
                Message("assistant", reply[:8000] or "(no answer)"),
                Message(
                    "user",
                    render_prompt(
                        "analyze_reask.j2",
                        problem=problem,
                        errors=errors,
                        max_findings=MAX_FINDINGS,
                        schema_name=SCHEMA_NAME,
                    ),
                ),
            ]
        # The failure is cached (the same model, prompt and limit would fail again): say how
        # to ask anew, so a user who fixed the server is not left replaying it.
        out.failed = (
            f"{problem} (still after {MAX_REASKS} re-asks; kept in the answer cache: another "
            "--model, a larger max_output_tokens in [tool.threatmodel] or another --cache-dir "
            "asks again)"
        )
        self._remember(out)
        return out


def check_answer(resp: StructuredResponse) -> tuple[LlmAnswer | None, str, list[str]]:
    """(answer, problem, errors): the validated answer, or why it cannot be used."""
    if resp.finish_reason == "refusal":
        return None, "the model refused to answer", [resp.text[:300]] if resp.text else []
    if resp.data is None:
        problem = {
            "length": "the answer was cut off at the output limit (invalid JSON)",
            "no_tool_call": f"plain text came back instead of a call to {SCHEMA_NAME}",
        }.get(resp.finish_reason, "the answer was not a JSON object")
        return None, problem, ["Give fewer, shorter findings."]
    try:
        return LlmAnswer.model_validate(resp.data), "", []
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:8]
        ]
        return None, "the answer does not follow the schema", errors


def run_llm_pass(
    facts: Facts,
    reader: RepoReader,
    settings: Settings,
    progress: Progress,
    focus: Focus | None = None,
    provider: Provider | None = None,
    files: Sequence[str] = (),
) -> AnalyzeOutcome:
    """Run the LLM pass. ``focus`` restricts it to changed routes / tables / files (diff);
    ``provider`` overrides the one built from ``settings`` (tests, embedding); ``files``
    (the walk's list) is where setup, output and configuration chunks come from."""
    if settings.provider is None and provider is None:
        return skipped(settings)
    if provider is None:
        from threatmodel.llm import build_provider

        assert settings.provider is not None
        provider = build_provider(settings.provider, settings.cache_dir / "llm")
    name, model = provider.name, provider.model
    state = _Pass(provider, settings, focus, supported_kinds(facts))
    chunks = summarize(facts, reader, state.chunk_budget(), focus, files)
    progress.start("llm", len(chunks))
    workers = settings.provider.concurrency if settings.provider else 1
    results: list[_ChunkResult] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for result in pool.map(state.run_chunk, chunks):
                results.append(result)
                # A failed chunk is named once, in the report's warnings the CLI prints.
                progress.advance()
    finally:
        progress.finish()
    return _outcome(results, name, model, state)


def _outcome(results: list[_ChunkResult], name: str, model: str, state: _Pass) -> AnalyzeOutcome:
    found: dict[str, Finding] = {}
    for r in results:
        for f in r.findings:
            found.setdefault(f.fingerprint, f)
    failed = sorted(f"{r.chunk.id}: {r.failed}" for r in results if r.failed)
    out = AnalyzeOutcome(
        findings=sorted(found.values(), key=lambda f: (-f.severity.rank, f.title, f.fingerprint)),
        llm_calls=sum(r.calls for r in results),
        input_tokens=sum(r.input_tokens for r in results),
        output_tokens=sum(r.output_tokens for r in results),
        cost_usd=sum(r.cost for r in results),
        cache_hits=sum(r.hits for r in results),
        chunks=len(results),
        cached_input_tokens=sum(r.cached_tokens for r in results),
        cached_cost_usd=sum(r.cached_cost for r in results),
        fixed_tokens_per_call=fixed_tokens(state.system, state.schema, state.focus),
    )
    done = len(results) - len(failed)
    counts = (
        f"{done} of {len(results)} chunks analysed, {out.llm_calls} calls, "
        f"{out.cache_hits} answers from cache, {out.input_tokens} tokens sent"
    )
    budget = state.budget
    status: Literal["ran", "partial", "failed"]
    if budget.exhausted:
        limit = []
        if budget.max_tokens is not None:
            limit.append(f"--max-tokens {budget.max_tokens}")
        if budget.max_cost is not None:
            limit.append(f"--max-cost {budget.max_cost:g}")
        status = "partial"
        message = (
            f"LLM pass stopped at the budget ({' / '.join(limit)}): {counts}; partial results kept."
        )
    elif failed:
        status = "failed" if done == 0 else "partial"
        message = f"LLM pass {'failed' if done == 0 else 'partial'}: {counts}."
        if state.fatal:
            message += f" {state.fatal}"
    else:
        status, message = "ran", f"LLM pass: {counts}."
    out.run = LlmRun(
        status=status,
        provider=name,
        model=model,
        message=message,
        failed_chunks=failed,
        budget_reached=budget.exhausted,
    )
    return out
