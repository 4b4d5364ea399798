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

from threatmodel.models import Claim, Finding
from threatmodel.verify._code import candidates, line_text, locations
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class CommandInjection(Verifier):
    kind = "command_injection"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = locations(claim, finding)
        if not locs:
            return ClaimResult.unverifiable("the claim cites no location to check")
        refutations: list[str] = []
        unsure: list[str] = []
        for loc in locs:
            found = candidates(ctx.reader, loc, {"command", "eval"})
            if found is None:
                unsure.append(f"{loc.path} cannot be parsed as Python or JavaScript")
                continue
            if not found:
                refutations.append(
                    f"no command or eval call near {loc.path}:{loc.line} "
                    f"(the line reads `{line_text(ctx.reader, loc)}`)"
                )
                continue
            for c in found:
                if c.dynamic:
                    return ClaimResult.confirmed(
                        f"{c.call} at {c.where} runs non-constant `{c.arg}`"
                    )
            c = found[0]
            if c.flow == "const":
                refutations.append(f"{c.call} at {c.where} runs the constant `{c.arg}`")
            else:
                refutations.append(
                    f"{c.call} at {c.where} runs a fixed program with an argument list, no shell"
                )
        if unsure:
            return ClaimResult.unverifiable(unsure[0])
        return ClaimResult.refuted(refutations[0])
