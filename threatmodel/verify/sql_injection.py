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

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import candidates, line_text, locations, sql_placeholders
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class SqlInjection(Verifier):
    kind = "sql_injection"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        refutations: list[str] = []
        unsure: list[str] = []
        for loc in locs:
            found = candidates(ctx.reader, loc, {"sql"})
            if found is None:
                unsure.append(f"{loc.path} cannot be parsed as Python or JavaScript")
                continue
            if not found:
                refutations.append(
                    f"no SQL execution call near {loc.path}:{loc.line} "
                    f"(the line reads `{line_text(ctx.reader, loc)}`)"
                )
                continue
            for c in found:
                if c.dynamic:
                    how = "from request input" if c.flow != "built" else "from non-constant input"
                    return ClaimResult.confirmed(
                        f"{c.call} at {c.where} runs `{c.arg}`, built {how}"
                    )
            c = found[0]
            if c.flow == "const" and c.parameterised:
                refutations.append(
                    f"{c.call} at {c.where} passes parameters separately"
                    f"{sql_placeholders(c.prefix)}"
                )
            elif c.flow == "const":
                refutations.append(f"{c.call} at {c.where} runs a constant query string")
            else:
                unsure.append(
                    f"the query `{c.arg}` passed to {c.call} at {c.where} is not traceable"
                )
        if unsure:
            return ClaimResult.unverifiable(unsure[0])
        return ClaimResult.refuted(refutations[0])
