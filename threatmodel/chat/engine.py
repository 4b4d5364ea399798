"""One question in, one Answer out: the facts first, then the LLM, else a clear note.

``Engine.ask`` is what both the interactive session and the one-shot form call. It never
raises for what a user can type (empty, huge, odd unicode, a file that does not exist): the
deterministic engine gets a bounded question, anything it cannot answer goes to the LLM
when one is configured, and without one the answer says what would need it and lists what
can be asked instead. Provider failures (ProviderError) and Ctrl-C propagate to the caller,
which decides how to show them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from threatmodel.chat.answers import EXAMPLES, ChatContext, answer_deterministic
from threatmodel.chat.entities import mentioned_paths
from threatmodel.chat.llm_answer import DEFAULT_CONTEXT_TOKENS, MAX_ANSWER_TOKENS, answer_with_llm
from threatmodel.chat.session import DEFAULT_MEMORY_TOKENS, Conversation
from threatmodel.chat.types import Answer
from threatmodel.code.reader import PathRefused
from threatmodel.llm.interface import Provider, Usage

MAX_DETERMINISTIC_CHARS = 5_000  # intent patterns never see more than this
# "How would an attacker change orders?" asks for reasoning, not the list of writers: with an
# LLM configured such questions go to it even when a fact intent would match.
OPEN_ENDED = re.compile(
    r"\s*(how (would|could|can|might|do|does|should)|why|explain|describe|walk me|what if)\b",
    re.IGNORECASE,
)


@dataclass
class Engine:
    ctx: ChatContext
    provider: Provider | None = None
    skip_reason: str = ""
    memory: Conversation = field(default_factory=Conversation)
    usage: Usage = field(default_factory=Usage)
    answer_tokens: int = MAX_ANSWER_TOKENS
    context_budget: int = DEFAULT_CONTEXT_TOKENS  # an upper bound; fitted to the model below

    def __post_init__(self) -> None:
        if self.provider is not None:
            # Leave room in the model's window for the answer, memory and the prompt itself.
            room = self.provider.context_tokens - self.answer_tokens - 600
            self.memory.budget = max(200, min(DEFAULT_MEMORY_TOKENS, room // 4))
            fit = room - self.memory.budget
            self.context_budget = max(500, min(self.context_budget, fit))

    def ask(self, question: str, on_delta: Callable[[str], None] | None = None) -> Answer:
        q = question.strip()
        if not q:
            return Answer(question, "empty", "Ask a question, or type /help.", [], "none")
        open_ended = bool(OPEN_ENDED.match(q)) and not q.startswith("/")
        det = None
        if not (open_ended and self.provider is not None):
            det = answer_deterministic(q[:MAX_DETERMINISTIC_CHARS], self.ctx)
        if det is not None:
            if open_ended:  # no LLM to reason about it: the facts are the best answer left
                det.notes.append("answered from the facts; an LLM would answer the open question")
            if det.intent not in ("help", "quit"):
                self.memory.add(q[:2000], det.text)
            return det
        if self.provider is None:
            return self.needs_llm(q)
        answer, usage = answer_with_llm(
            q,
            self.ctx,
            self.provider,
            self.memory,
            on_delta,
            self.context_budget,
            self.answer_tokens,
        )
        self.usage = self.usage + usage
        return answer

    def needs_llm(self, question: str) -> Answer:
        lines = [
            "This question needs an LLM, and none is configured. "
            + (self.skip_reason or "Pass --provider (see `threatmodel ask --help`).")
        ]
        for path in mentioned_paths(question):
            try:
                self.ctx.reader.check(path)
            except PathRefused as exc:
                lines.append(f"Note: {exc}.")
        lines.append("Answered from the facts without an LLM, for example:")
        lines += [f"  {e}" for e in EXAMPLES]
        lines.append("and the commands /routes /tables /findings /secrets /env /help.")
        return Answer(question, "needs_llm", "\n".join(lines), [], "none")
