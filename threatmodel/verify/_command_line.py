"""command_injection: a shell command or evaluated code at the location is not a constant.

The cited file is parsed and the command / eval calls near the cited line are classified
(``os.system``, ``subprocess.*`` with ``shell=True`` or a non-constant program,
``child_process.exec``, ``eval``, ``exec``, ``new Function``, ``vm.run*``):

- confirmed: the command or code is not a constant (built or read from input);
- refuted: it is a constant, or ``subprocess`` runs a fixed program with an argument list
  and no shell, or no such call is near the cited line (the reason quotes the line);
- unverifiable: the file cannot be parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import Candidate
from threatmodel.verify._sinks import check_sinks
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext


def _judge(found: Sequence[Candidate]) -> list[ClaimResult]:
    """Any non-constant command confirms; else the first call decides."""
    for c in found:
        if c.dynamic:
            return [ClaimResult.confirmed(f"{c.call} at {c.where} runs non-constant `{c.arg}`")]
    c = found[0]
    if c.flow == "const":
        return [ClaimResult.refuted(f"{c.call} at {c.where} runs the constant `{c.arg}`")]
    return [
        ClaimResult.refuted(
            f"{c.call} at {c.where} runs a fixed program with an argument list, no shell"
        )
    ]


class CommandInjection(Verifier):
    kind = "command_injection"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        return check_sinks(claim, finding, ctx, {"command", "eval"}, "command or eval call", _judge)
