"""TM106 debug-enabled: the application is configured to run in debug mode.

Flask / Werkzeug's debugger executes Python typed into an error page, Django's debug pages
print settings and SQL, FastAPI / Starlette print tracebacks: an attacker who triggers an
error learns the internals, and with Werkzeug's debugger runs code. High for Flask (the
interactive debugger), medium otherwise.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import TRUTHY, evidence
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class DebugEnabled(Rule):
    id = "TM106"
    name = "debug-enabled"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for s in facts.settings:
            if s.key != "debug" or s.value.strip().lower() not in TRUTHY:
                continue
            flask = s.framework.lower() in ("flask", "werkzeug")
            out.append(
                Finding(
                    title=f"Debug mode is on ({s.framework}, {s.location.path})",
                    severity=Severity.HIGH if flask else Severity.MEDIUM,
                    stride=[Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-489", "CWE-215"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="debug_enabled", location=s.location)],
                    evidence=evidence(ctx, s.location),
                    attack=(
                        "Trigger an error (a malformed parameter) and read the debug page: stack "
                        "traces, settings, and with Werkzeug's debugger a Python console."
                    ),
                    mitigation=(
                        "Turn debug off in production and read the flag from the environment."
                    ),
                )
            )
        return out
