"""SARIF 2.1.0 for code-scanning tools: one result per confirmed finding."""

from __future__ import annotations

import json
from typing import Any

from threatmodel import __version__
from threatmodel.models import Report, Verdict

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def render_sarif(report: Report) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in report.findings:
        if f.verdict is not Verdict.CONFIRMED:
            continue
        rule_id = f.rule_id or (f.claims[0].kind if f.claims else "llm-finding")
        rules.setdefault(
            rule_id,
            {
                "id": rule_id,
                "shortDescription": {"text": f.title},
                "properties": {"tags": ["security", *f.cwe]},
            },
        )
        results.append(
            {
                "ruleId": rule_id,
                "level": LEVEL[f.severity.value],
                "message": {"text": f"{f.title}. {f.attack}".strip()},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": e.path},
                            "region": {"startLine": e.start_line, "endLine": e.end_line},
                        }
                    }
                    for e in f.evidence
                ],
                "partialFingerprints": {"threatmodel/v1": f.fingerprint},
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "threatmodel",
                        "version": __version__,
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
