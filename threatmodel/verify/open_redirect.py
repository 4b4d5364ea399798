"""open_redirect: a redirect at the location sends the browser to a URL taken from the request.

The cited file is parsed and the redirect calls near the cited line are classified
(``redirect``, ``HttpResponseRedirect``, ``RedirectResponse``, ``res.redirect`` ...):

- confirmed: the target reads the request and the function does no allow-list check;
- refuted: the target is a constant or a route name (``url_for``, ``reverse``), or no
  redirect is near the cited line (the reason quotes the line);
- unverifiable: the target is not traceable, or the function validates it with a
  safe-URL / allow-list helper whose logic the verifier cannot judge.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import candidates, line_text, locations
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

ROUTE_BUILDERS = ("url_for(", "reverse(", "request.url_for(")


@register
class OpenRedirect(Verifier):
    kind = "open_redirect"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        refutations: list[str] = []
        unsure: list[str] = []
        for loc in locs:
            found = candidates(ctx.reader, loc, {"redirect"})
            if found is None:
                unsure.append(f"{loc.path} cannot be parsed as Python or JavaScript")
                continue
            if not found:
                refutations.append(
                    f"no redirect near {loc.path}:{loc.line} "
                    f"(the line reads `{line_text(ctx.reader, loc)}`)"
                )
                continue
            for c in found:
                if c.flow == "const":
                    refutations.append(f"{c.call} at {c.where} redirects to the constant {c.arg}")
                elif c.arg.startswith(ROUTE_BUILDERS) and not c.from_request:
                    refutations.append(f"{c.call} at {c.where} redirects to the route `{c.arg}`")
                elif c.from_request and c.validated:
                    unsure.append(f"the target at {c.where} is checked by a safe-URL helper")
                elif c.from_request:
                    return ClaimResult.confirmed(f"{c.call} at {c.where} redirects to `{c.arg}`")
                else:
                    unsure.append(f"the target `{c.arg}` of {c.call} at {c.where} is not traceable")
        if unsure:
            return ClaimResult.unverifiable(unsure[0])
        return ClaimResult.refuted(refutations[0])
