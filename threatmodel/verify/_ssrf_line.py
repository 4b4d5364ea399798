"""ssrf: an outbound HTTP request at the location goes to a URL that comes from input.

The line verifier: it answers only where no flow of the dataflow engine touches the cited
line (``verify.flows``).

The cited file is parsed and the HTTP client calls near the cited line are classified
(``requests.*``, ``httpx.*``, ``urlopen``, ``fetch``, ``axios``, ``needle``, ``got`` ...):

- confirmed: the URL reads the HTTP request and its host is not fixed by a constant prefix;
- refuted: the URL is a constant, or starts with a constant ``scheme://host/`` (only the
  path varies), or no HTTP call is near the cited line (the reason quotes the line);
- unverifiable: the URL is not constant but does not visibly come from the request (a
  parameter, a database value), or the file cannot be parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import Candidate, fixed_origin
from threatmodel.verify._sinks import check_sinks
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext


def _judge_one(c: Candidate) -> ClaimResult:
    origin = fixed_origin(c.prefix)
    if c.flow == "const":
        return ClaimResult.refuted(f"{c.call} at {c.where} requests the constant URL `{c.arg}`")
    if origin is not None:
        return ClaimResult.refuted(f"{c.call} at {c.where} always requests host {origin}")
    if c.from_request:
        return ClaimResult.confirmed(f"{c.call} at {c.where} requests `{c.arg}` from input")
    return ClaimResult.unverifiable(f"the URL `{c.arg}` of {c.call} at {c.where} is not traceable")


def _judge(found: Sequence[Candidate]) -> list[ClaimResult]:
    return [_judge_one(c) for c in found]


class Ssrf(Verifier):
    kind = "ssrf"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        return check_sinks(claim, finding, ctx, {"http_request"}, "outbound HTTP request", _judge)
