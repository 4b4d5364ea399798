"""What a chat answer is: text, the citations it makes, and where it came from.

Shared by the deterministic engine (answers.py), the LLM half (llm_answer.py) and the CLI,
which prints ``text`` and, for ``--json``, ``to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# fact: taken from a collected fact (the collector read the file);
# ok: an LLM citation that checked out; failed: one that did not (``reason`` says why)
CitationStatus = Literal["fact", "ok", "failed"]


@dataclass(frozen=True)
class Citation:
    path: str
    line: int
    status: CitationStatus = "fact"
    end_line: int | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        if self.end_line and self.end_line != self.line:
            return f"{self.path}:{self.line}-{self.end_line}"
        return f"{self.path}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line, "status": self.status}
        if self.end_line:
            out["end_line"] = self.end_line
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Answer:
    question: str
    intent: str  # public_routes, table_writers, ..., llm, needs_llm, help, empty
    text: str
    citations: list[Citation] = field(default_factory=list)
    source: Literal["facts", "llm", "none"] = "facts"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "intent": self.intent,
            "source": self.source,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "notes": self.notes,
        }


def cite(path: str, line: int) -> Citation:
    return Citation(path=path, line=line)
