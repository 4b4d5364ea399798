"""Counted nouns for every text the tool writes: "1 policy", "3 policies", never "1 policies".

One helper for the report, the PR comment, ``ask`` and the LLM's chunks, so a count is
spelled the same everywhere. Irregular plurals are listed; others take "s" ("y" -> "ies").
"""

from __future__ import annotations

_IRREGULAR = {
    "policy": "policies",
    "dependency": "dependencies",
    "entry": "entries",
    "middleware": "middleware",
    "database function": "database functions",
    "match": "matches",
}


def plural_of(noun: str) -> str:
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one: ``plural(1, "policy")`` -> "1 policy"."""
    return f"{n} {noun if n == 1 else (nouns or plural_of(noun))}"
