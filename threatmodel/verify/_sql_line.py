"""sql_injection: the SQL call at the cited location runs a string built from non-constant input.

The cited file is parsed (Python ``ast``, tree-sitter for JS/TS) and the SQL execution
calls within a few lines of the cited line are classified:

- confirmed: the query is built from a non-constant part (f-string, ``%``, ``+``,
  ``.format``, template literal, concatenation), possibly through a local variable, or is
  read straight from the request with no separate parameters;
- refuted: every such call passes a constant query (with parameters separately, e.g.
  "cursor.execute at app.py:31 passes parameters separately (placeholders ?)"), or there is
  no SQL execution call near the cited line at all (the reason quotes the line);
- unverifiable: the query comes from somewhere the code does not show (a parameter, a
  helper's return value), or the file cannot be parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import Candidate, sql_placeholders
from threatmodel.verify._sinks import check_sinks
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext


def _judge(found: Sequence[Candidate]) -> list[ClaimResult]:
    """Any dynamic query confirms; else the first call decides."""
    for c in found:
        if c.dynamic:
            how = "from request input" if c.flow != "built" else "from non-constant input"
            return [ClaimResult.confirmed(f"{c.call} at {c.where} runs `{c.arg}`, built {how}")]
    c = found[0]
    if c.flow == "const" and c.parameterised:
        return [
            ClaimResult.refuted(
                f"{c.call} at {c.where} passes parameters separately{sql_placeholders(c.prefix)}"
            )
        ]
    if c.flow == "const":
        return [ClaimResult.refuted(f"{c.call} at {c.where} runs a constant query string")]
    return [
        ClaimResult.unverifiable(
            f"the query `{c.arg}` passed to {c.call} at {c.where} is not traceable"
        )
    ]


class SqlInjection(Verifier):
    kind = "sql_injection"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        return check_sinks(claim, finding, ctx, {"sql"}, "SQL execution call", _judge)
