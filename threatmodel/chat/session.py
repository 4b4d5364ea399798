"""Conversation memory for ``ask``: the recent turns, kept within a token budget.

Follow-up questions ("and how would I fix it?") need the previous answers. Every turn is
kept, deterministic ones too, but only the newest turns that fit ``budget`` tokens are sent
with the next question; a single turn larger than the budget is cut to fit rather than
dropped, so the last answer is always there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.chat.retrieval import count_tokens, truncate_tokens
from threatmodel.llm.interface import Message

DEFAULT_MEMORY_TOKENS = 2_000


@dataclass
class Conversation:
    budget: int = DEFAULT_MEMORY_TOKENS
    turns: list[tuple[str, str]] = field(default_factory=list)  # (question, answer)

    def add(self, question: str, answer: str) -> None:
        if question.strip() and answer.strip():
            self.turns.append((question, answer))
            del self.turns[:-50]  # older turns can never fit a sane budget

    def messages(self) -> list[Message]:
        """The newest turns that fit the budget, oldest first, as user/assistant messages."""
        kept: list[Message] = []
        left = self.budget
        for question, answer in reversed(self.turns):
            q_cost, a_cost = count_tokens(question), count_tokens(answer)
            if q_cost + a_cost > left:
                if not kept and left > q_cost + 50:  # the last turn, cut to fit
                    kept = [Message("user", question), Message("assistant", "")]
                    kept[1] = Message("assistant", truncate_tokens(answer, left - q_cost - 10))
                break
            kept = [Message("user", question), Message("assistant", answer), *kept]
            left -= q_cost + a_cost
        return kept

    def tokens(self) -> int:
        return sum(count_tokens(m.content) for m in self.messages())

    def clear(self) -> None:
        self.turns.clear()
