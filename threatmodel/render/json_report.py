"""The JSON report: DESIGN.md's stable contract, straight from the Pydantic models."""

from __future__ import annotations

from threatmodel.models import Report


def render_json(report: Report) -> str:
    return report.to_json()
