"""How a flow is told: one sentence and its proof-chain links, shared by rule TM120 and the
verifiers, so a finding's attack text, its verdict reason and its proof say the same thing."""

from __future__ import annotations

from threatmodel.models import Flow, Location, ProofStep


def describe(flow: Flow) -> str:
    """'request.args (line 59) reaches db.execute at line 60 through lines 59 → 60'."""
    steps = " → ".join(str(s.line) for s in flow.steps)
    text = f"{flow.source} (line {flow.source_location.line}) reaches {flow.sink} at line "
    text += f"{flow.sink_location.line}"
    return text + (f" through lines {steps}" if steps else "")


def proof_steps(flow: Flow) -> tuple[ProofStep, ...]:
    """Source, each intermediate line, sink: the flow as proof-chain links with locations."""
    out = [
        ProofStep(
            kind="flow",
            text=f"{flow.source_kind} value {flow.source}",
            location=flow.source_location,
        )
    ]
    ends = {_key(flow.source_location), _key(flow.sink_location)}
    for step in flow.steps:
        if _key(step) not in ends:
            out.append(ProofStep(kind="flow", text=f"passed on at line {step.line}", location=step))
    sink = f"reaches {flow.sink}"
    if flow.sanitizers:
        sink += f" (met {', '.join(flow.sanitizers)}, none of which makes it safe here)"
    out.append(ProofStep(kind="sink", text=sink, location=flow.sink_location))
    return tuple(out)


def _key(loc: Location) -> tuple[str, int]:
    return (loc.path, loc.line)
