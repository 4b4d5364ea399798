"""`threatmodel schema` prints the JSON Schema the JSON report validates against."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
from render_sample import sample_report

from threatmodel.render import render


def test_schema_command_output_validates_reports() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "threatmodel", "schema"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    report = json.loads(render(sample_report(), "json"))
    jsonschema.validate(report, schema)
    # Contract fields are required where DESIGN.md says they are there.
    finding = schema["$defs"]["Finding"]
    assert {"fingerprint", "title", "severity", "source"} <= set(finding["required"])
    assert set(finding["properties"]["verdict"]["$ref"].split("/")[-1:]) == {"Verdict"}
    broken = {**report, "findings": [{**report["findings"][0], "severity": "apocalyptic"}]}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
