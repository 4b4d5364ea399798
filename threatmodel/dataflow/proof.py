"""How a flow is told and whether it proves its claim: one sentence, its proof-chain links
and the test of proof, shared by rule TM120, the verifiers and the chunk builder, so a
finding's attack text, its verdict reason, its proof and what the model is shown agree."""

from __future__ import annotations

from threatmodel.models import Flow, Location, ProofStep

# Which source kinds make a flow a finding, per claim kind (others: request input only).
FINDING_SOURCES = {
    "weak_hash": "pattern",
    "insecure_cookie": "pattern",
    "weak_random": "random",
}


# A step in a dependency manifest is the pin a version-gated sink row needs
# (``SinkRow.below``, ``collect/fixed_in.py``), not a line the value went through.
MANIFESTS = frozenset({"package.json"})


def unbroken(flow: Flow) -> bool:
    """Does ``flow`` carry its kind's source to the sink with nothing making it safe?"""
    return flow.broken_by is None and flow.source_kind == FINDING_SOURCES.get(flow.claim, "request")


def proves(flow: Flow) -> bool:
    """Is ``flow`` by itself proof of its claim kind? Not when it rests on a call into the
    repository's own code that the engine could not resolve, or passed a check of the
    repository's it cannot read (DESIGN "Verdicts mean proof"): such a flow is still a
    finding, for review, with that link named."""
    return unbroken(flow) and not flow.unresolved and not flow.unread_checks


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
        if _key(step) in ends:
            continue
        if step.path.rpartition("/")[2] in MANIFESTS:  # a sink of old releases only
            text = f"the package's release pinned at line {step.line}, before its fix"
        else:
            text = f"passed on at line {step.line}"
        out.append(ProofStep(kind="flow", text=text, location=step))
    sink = f"reaches {flow.sink}"
    if flow.sanitizers:
        sink += f" (met {', '.join(flow.sanitizers)}, none of which makes it safe here)"
    out.append(ProofStep(kind="sink", text=sink, location=flow.sink_location))
    return tuple(out)


def _key(loc: Location) -> tuple[str, int]:
    return (loc.path, loc.line)
