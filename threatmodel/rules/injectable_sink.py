"""TM111 injectable-sink-in-handler: a route handler runs SQL, a command or eval built from input.

A ``dynamic`` sink fact (the query / command / code is put together from a non-constant
part, see the sinks collectors) inside the function that handles a route: the request
reaches the interpreter. SQL is high, commands and eval are critical. Sinks outside route
handlers are left to the LLM pass and review: whether input reaches them is not decided
here. Python files are left to the dataflow rule (TM120), which follows the value; so is a
JS/TS sink the JS dataflow engine reached (a flow of its kind at the sink's line): TM120
reports it when request input gets there unbroken, and a broken or constant flow is not
re-reported here on ``dynamic`` alone.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.reach import handler_route
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

KINDS = {"sql": "sql_injection", "command": "command_injection", "eval": "command_injection"}
# Each kind of sink has its own fix: a reader of one finding should not have to pick theirs.
MITIGATIONS = {
    "sql": (
        "Pass the values as bound parameters (cursor.execute(sql, params), the ORM's filters "
        "or text() with bind parameters); never format request data into the SQL string."
    ),
    "command": (
        "Run the program with an argument list and no shell (subprocess.run([...]), "
        "execFile), and check the input against an allow-list of expected values."
    ),
    "eval": (
        "Never evaluate input as code: parse it as data (json.loads, ast.literal_eval, "
        "JSON.parse) or map it to a fixed set of allowed operations."
    ),
}


@register
class InjectableSinkInHandler(Rule):
    id = "TM111"
    name = "injectable-sink-in-handler"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        decided = {(f.sink_location.path, f.sink_location.line, f.claim) for f in facts.flows}
        for sink in facts.sinks:
            kind = KINDS.get(sink.kind)
            if kind is None or not sink.dynamic or sink.location.path.endswith(".py"):
                continue  # Python sinks are decided by dataflow (TM120), not by ``dynamic``
            where = (sink.location.path, sink.location.line)
            if {(*where, kind), (*where, "code_injection")} & decided:
                continue  # the JS engine followed this call: its flow decides (TM120)
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
                    mitigation=MITIGATIONS[sink.kind],
                )
            )
        return out
