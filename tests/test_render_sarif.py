"""SARIF 2.1.0: valid against the official schema, rules with help and CWE tags, stable ids."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from render_sample import SECRET_VALUE, sample_report

from threatmodel.models import Evidence, Report
from threatmodel.render import render
from threatmodel.render.sarif import FINGERPRINT_KEY

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid_sarif(doc: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def sarif(report: Report) -> dict[str, Any]:
    return json.loads(render(report, "sarif"))


def test_schema_file_is_the_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    # And it rejects what it should: a result without a message.
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}
    assert list(validator().iter_errors(bad))


def test_sample_validates_and_has_one_result_per_confirmed_finding() -> None:
    doc = sarif(sample_report())
    assert_valid_sarif(doc)
    results = doc["runs"][0]["results"]
    # Confirmed: the secret, the route, and the accepted bucket; not the unverifiable one,
    # not the refuted claim.
    assert sorted(r["properties"]["id"] for r in results) == [
        "TM-bucket01",
        "TM-secret01",
        "TM-share001",
    ]
    assert [r["level"] for r in results] == ["error", "error", "note"]  # worst first


def test_rules_have_help_and_cwe_tags() -> None:
    run = sarif(sample_report())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"TM101", "TM999", "claim/hardcoded_secret"}
    tm101 = rules["TM101"]
    assert "no auth guard" in tm101["help"]["text"]  # the rule module's docstring
    assert "external/cwe/cwe-306" in tm101["properties"]["tags"]
    assert tm101["properties"]["security-severity"] == "8.0"
    secret = rules["claim/hardcoded_secret"]
    assert "Rotate it" in secret["help"]["text"]
    assert "external/cwe/cwe-798" in secret["properties"]["tags"]
    assert secret["properties"]["security-severity"] == "9.5"
    for r in run["results"]:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]


def test_regions_related_locations_and_no_secret_value() -> None:
    text = render(sample_report(), "sarif")
    assert SECRET_VALUE not in text
    results = {r["properties"]["id"]: r for r in json.loads(text)["runs"][0]["results"]}
    loc = results["TM-share001"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 10 and loc["region"]["endLine"] == 11
    secret = results["TM-secret01"]["locations"][0]["physicalLocation"]["region"]
    assert secret["snippet"]["text"] == 'STRIPE_KEY = "«redacted»"'


def test_baseline_accepted_findings_are_sarif_suppressions() -> None:
    results = {r["properties"]["id"]: r for r in sarif(sample_report())["runs"][0]["results"]}
    assert results["TM-bucket01"]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "Avatars are public by design (expires 2099-01-01)",
        }
    ]
    assert "suppressions" not in results["TM-share001"]


def test_partial_fingerprints_survive_line_moves() -> None:
    report = sample_report()
    moved_findings = [
        f.model_copy(
            update={
                "evidence": [
                    Evidence(
                        path=e.path,
                        start_line=e.start_line + 7,
                        end_line=e.end_line + 7,
                        snippet=e.snippet,
                    )
                    for e in f.evidence
                ]
            }
        )
        for f in report.findings
    ]
    moved = report.model_copy(update={"findings": moved_findings})

    def prints(doc: dict[str, Any]) -> dict[str, str]:
        return {
            r["properties"]["id"]: r["partialFingerprints"][FINGERPRINT_KEY]
            for r in doc["runs"][0]["results"]
        }

    assert prints(sarif(report)) == prints(sarif(moved))
    assert len(set(prints(sarif(report)).values())) == 3


def test_example_scan_sarif_validates(example_repo: Path) -> None:
    from threatmodel.config import resolve_settings
    from threatmodel.scan import run_scan

    report = run_scan(example_repo, resolve_settings(example_repo))
    doc = sarif(report)
    assert_valid_sarif(doc)
    assert doc["runs"][0]["results"], "the example app has confirmed findings"
