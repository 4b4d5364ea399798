"""Fix-first order: severity, then reachability, then confidence; stable, never by title.

Reachability counts the proven links an attacker needs: the route is public (its proof has
a guard link saying no guard), the chain reaches an effect, flow or sink, and the verdict is
confirmed. Confidence: a deterministic rule over an LLM or another tool's claim. Ties end
on the fingerprint, a stable identity, so "Debug mode" never outranks a SQL injection for
sorting first in the alphabet.
"""

from __future__ import annotations

from threatmodel.models import Finding, Verdict

_CONFIDENCE = {"rule": 2, "external": 1, "llm": 0}


def reachability(f: Finding) -> int:
    kinds = {s.kind for s in f.proof}
    public = any(s.kind == "guard" and s.text.startswith("no auth guard") for s in f.proof)
    reaches = bool(kinds & {"effect", "flow", "sink"})
    return int(public) + int(reaches) + int(f.verdict is Verdict.CONFIRMED)


def fix_first_key(f: Finding) -> tuple[int, int, int, int, str]:
    production = 0 if f.scope == "production" else 1
    return (
        production,
        -f.severity.rank,
        -reachability(f),
        -_CONFIDENCE.get(f.source, 0),
        f.fingerprint,
    )
