"""open_redirect: a redirect at the location sends the browser to a URL taken from the request.

The line verifier: it answers only where no flow of the dataflow engine touches the cited
line (``verify.flows``).

The cited file is parsed and the redirect calls near the cited line are classified
(``redirect``, ``HttpResponseRedirect``, ``RedirectResponse``, ``res.redirect`` ...):

- confirmed: the target reads the request and the function does no allow-list check;
- refuted: the target is a constant or a route name (``url_for``, ``reverse``), or no
  redirect is near the cited line (the reason quotes the line);
- unverifiable: the target is not traceable, or the function validates it with a
  safe-URL / allow-list helper whose logic the verifier cannot judge.
"""

from __future__ import annotations

from collections.abc import Sequence

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import Candidate
from threatmodel.verify._sinks import check_sinks
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext

ROUTE_BUILDERS = ("url_for(", "reverse(", "request.url_for(")


def _judge_one(c: Candidate) -> ClaimResult:
    if c.flow == "const":
        return ClaimResult.refuted(f"{c.call} at {c.where} redirects to the constant {c.arg}")
    if c.arg.startswith(ROUTE_BUILDERS) and not c.from_request:
        return ClaimResult.refuted(f"{c.call} at {c.where} redirects to the route `{c.arg}`")
    if c.from_request and c.validated:
        return ClaimResult.unverifiable(f"the target at {c.where} is checked by a safe-URL helper")
    if c.from_request:
        return ClaimResult.confirmed(f"{c.call} at {c.where} redirects to `{c.arg}`")
    return ClaimResult.unverifiable(
        f"the target `{c.arg}` of {c.call} at {c.where} is not traceable"
    )


def _judge(found: Sequence[Candidate]) -> list[ClaimResult]:
    return [_judge_one(c) for c in found]


class OpenRedirect(Verifier):
    kind = "open_redirect"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        return check_sinks(claim, finding, ctx, {"redirect"}, "redirect", _judge)
