"""ssrf: an outbound HTTP request at the location goes to a URL that comes from input.

The cited file is parsed and the HTTP client calls near the cited line are classified
(``requests.*``, ``httpx.*``, ``urlopen``, ``fetch``, ``axios``, ``needle``, ``got`` ...):

- confirmed: the URL reads the HTTP request and its host is not fixed by a constant prefix;
- refuted: the URL is a constant, or starts with a constant ``scheme://host/`` (only the
  path varies), or no HTTP call is near the cited line (the reason quotes the line);
- unverifiable: the URL is not constant but does not visibly come from the request (a
  parameter, a database value), or the file cannot be parsed.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import candidates, fixed_origin, line_text, locations
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class Ssrf(Verifier):
    kind = "ssrf"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        refutations: list[str] = []
        unsure: list[str] = []
        for loc in locs:
            found = candidates(ctx.reader, loc, {"http_request"})
            if found is None:
                unsure.append(f"{loc.path} cannot be parsed as Python or JavaScript")
                continue
            if not found:
                refutations.append(
                    f"no outbound HTTP request near {loc.path}:{loc.line} "
                    f"(the line reads `{line_text(ctx.reader, loc)}`)"
                )
                continue
            for c in found:
                origin = fixed_origin(c.prefix)
                if c.flow == "const":
                    refutations.append(f"{c.call} at {c.where} requests the constant URL `{c.arg}`")
                elif origin is not None:
                    refutations.append(f"{c.call} at {c.where} always requests host {origin}")
                elif c.from_request:
                    return ClaimResult.confirmed(
                        f"{c.call} at {c.where} requests `{c.arg}` from input"
                    )
                else:
                    unsure.append(f"the URL `{c.arg}` of {c.call} at {c.where} is not traceable")
        if unsure:
            return ClaimResult.unverifiable(unsure[0])
        return ClaimResult.refuted(refutations[0])
