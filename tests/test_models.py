"""Model invariants: fingerprints survive line moves; secrets carry no value field."""

from __future__ import annotations

from threatmodel.models import Claim, Evidence, Finding, Location, RouteRef, Secret


def finding(line: int, snippet: str = "@app.post('/x')") -> Finding:
    return Finding(
        title="t",
        severity="high",
        source="llm",
        claims=[
            Claim(
                kind="route_unauthenticated",
                route=RouteRef(method="post", path="/x"),
                location=Location(path="a.py", line=line),
            )
        ],
        evidence=[Evidence(path="a.py", start_line=line, end_line=line, snippet=snippet)],
    )


def test_fingerprint_ignores_lines_and_whitespace_but_not_content() -> None:
    assert finding(3).fingerprint == finding(40).fingerprint
    assert (
        finding(3, "@app.post('/x')").fingerprint == finding(3, "  @app.post('/x')\n").fingerprint
    )
    assert finding(3).fingerprint != finding(3, "@app.post('/y')").fingerprint


def test_secret_model_has_no_value() -> None:
    assert "value" not in Secret.model_fields
    dumped = Secret(
        kind="stripe_key", name="K", location=Location(path="a", line=1), fingerprint="abc"
    ).model_dump()
    assert set(dumped) == {"kind", "name", "location", "fingerprint"}


def test_finding_json_round_trips_and_fingerprint_is_recomputed() -> None:
    f = finding(3)
    data = f.model_dump(mode="json")
    data["fingerprint"] = "forged"
    back = Finding.model_validate(data)
    assert back == f and back.fingerprint == f.fingerprint != "forged"
