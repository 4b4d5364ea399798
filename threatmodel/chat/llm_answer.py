"""The LLM half of ``ask``: an open question, answered by the model from retrieved context.

The question, the retrieved facts and code (retrieval.py, redacted and within the token
budget) and the conversation memory (session.py) go to the provider's ``stream_text``;
deltas are handed to the caller as they arrive so the terminal can show them at once. When
the stream ends, every ``path:line`` the answer cites is checked (citations.py) and the
Answer carries the checked citations, the marked text and a note on uncited statements.

Prompts are Jinja2 templates in ``prompts/`` (``ask_system.j2``, ``ask_question.j2``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2

from threatmodel.chat.answers import ChatContext
from threatmodel.chat.citations import check_citations, mark, uncited_paragraphs
from threatmodel.chat.retrieval import count_tokens, retrieve
from threatmodel.chat.session import Conversation
from threatmodel.chat.types import Answer
from threatmodel.llm.interface import Message, Provider, Usage

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
DEFAULT_CONTEXT_TOKENS = 6_000  # facts + code sent with one question
MAX_ANSWER_TOKENS = 1_024
MAX_QUESTION_CHARS = 8_000  # a pasted 100 KB line is cut, not sent whole


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts, not HTML
        keep_trailing_newline=True,
    )


def build_prompt(question: str, ctx: ChatContext, budget: int) -> tuple[str, str, list[str], int]:
    """(system, user message, notes, context tokens) for an open question."""
    question = question[:MAX_QUESTION_CHARS]
    retrieved = retrieve(question, ctx, budget)
    example = "app.py:42"
    if retrieved.excerpts:
        example = f"{retrieved.excerpts[0].path}:{retrieved.excerpts[0].start}"
    system = _env().get_template("ask_system.j2").render(example=example)
    # A closing tag inside repository text must not end the data block early.
    context = retrieved.render().replace("</repository_data>", "</repository_data_>")
    user = (
        _env()
        .get_template("ask_question.j2")
        .render(context=context, notes=retrieved.notes, question=question, example=example)
    )
    return system, user, retrieved.notes, count_tokens(user)


def answer_with_llm(
    question: str,
    ctx: ChatContext,
    provider: Provider,
    memory: Conversation,
    on_delta: Callable[[str], None] | None = None,
    budget: int = DEFAULT_CONTEXT_TOKENS,
    answer_tokens: int = MAX_ANSWER_TOKENS,
) -> tuple[Answer, Usage]:
    """Stream the model's answer to ``on_delta``; return it with checked citations.

    Raises the provider's typed errors (ProviderError) on a failed call, and
    KeyboardInterrupt passes through so the session can cancel an answer mid-stream.
    """
    system, user, notes, _ = build_prompt(question, ctx, budget)
    messages = [*memory.messages(), Message("user", user)]
    stream = provider.stream_text(system, messages, max_output_tokens=answer_tokens)
    parts: list[str] = []
    for delta in stream:
        parts.append(delta)
        if on_delta is not None:
            on_delta(delta)
    text = "".join(parts)
    citations = check_citations(text, ctx.reader)
    failed = [c for c in citations if c.status == "failed"]
    if failed:
        notes.append(f"{len(failed)} of {len(citations)} citations do not check out")
    uncited = uncited_paragraphs(text)
    if uncited:
        notes.append(f"{uncited} statements carry no path:line citation")
    if not citations:
        notes.append("the answer cites no path:line: treat it as unverified")
    answer = Answer(question, "llm", mark(text, citations), citations, "llm", notes)
    memory.add(question, text)
    return answer, stream.usage or Usage()
