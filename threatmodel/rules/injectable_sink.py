"""TM111 injectable-sink-in-handler: a route handler runs SQL, a command or eval built from input.

A ``dynamic`` sink fact (the query / command / code is put together from a non-constant
part, see the sinks collectors) inside the function that handles a route: the request
reaches the interpreter. SQL is high, commands and eval are critical. Sinks outside route
handlers are left to the LLM pass and review: whether input reaches them is not decided
here. Python files are left to the dataflow rule (TM120), which follows the value.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Route, Severity, Sink, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

KINDS = {"sql": "sql_injection", "command": "command_injection", "eval": "command_injection"}


def handler_route(sink: Sink, routes: list[Route]) -> Route | None:
    """The route whose handler function contains ``sink``, if any."""
    if not sink.handler or sink.handler.startswith("<anonymous"):
        if sink.handler_line is None:
            return None
        same = [
            r
            for r in routes
            if r.location.path == sink.location.path
            and sink.handler_line - 3 <= r.location.line <= sink.handler_line
        ]
        return same[0] if same else None
    name = sink.handler.rsplit(".", 1)[-1]
    for r in routes:
        if r.handler == sink.handler:
            return r
    for r in routes:
        if r.handler.rsplit(".", 1)[-1] == name and r.location.path == sink.location.path:
            return r
    for r in routes:
        if r.handler.rsplit(".", 1)[-1] == name and len(name) > 6:
            return r
    return None


@register
class InjectableSinkInHandler(Rule):
    id = "TM111"
    name = "injectable-sink-in-handler"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for sink in facts.sinks:
            kind = KINDS.get(sink.kind)
            if kind is None or not sink.dynamic or sink.location.path.endswith(".py"):
                continue  # Python sinks are decided by dataflow (TM120), not by ``dynamic``
            route = handler_route(sink, facts.routes)
            if route is None:
                continue
            what = (
                "SQL query"
                if sink.kind == "sql"
                else ("code" if sink.kind == "eval" else "shell command")
            )
            out.append(
                Finding(
                    title=(
                        f"{route.method} {route.path} runs {what} built from input ({sink.call})"
                    ),
                    severity=Severity.HIGH if sink.kind == "sql" else Severity.CRITICAL,
                    stride=[
                        Stride.TAMPERING,
                        Stride.INFORMATION_DISCLOSURE,
                        Stride.ELEVATION_OF_PRIVILEGE,
                    ],
                    cwe=["CWE-89"]
                    if sink.kind == "sql"
                    else (["CWE-95"] if sink.kind == "eval" else ["CWE-78"]),
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind=kind, location=sink.location)],  # type: ignore[arg-type]
                    evidence=evidence(ctx, sink.location),
                    attack=(
                        f"Send {route.method} {route.path} with a crafted parameter; {sink.call} "
                        f"in {route.handler} runs the {what} it is built into."
                    ),
                    mitigation=(
                        "Pass values as bound parameters (SQL), as an argument list without a "
                        "shell (commands), and never eval input."
                    ),
                )
            )
        return out
