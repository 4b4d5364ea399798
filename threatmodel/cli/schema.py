"""`threatmodel schema`: print the JSON Schema of the JSON report, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from threatmodel.cli._console import write_output
from threatmodel.models import model_json_schema


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema that `scan --format json` reports validate against."""
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "threatmodel report",
        **model_json_schema(),
    }
    write_output(json.dumps(doc, indent=2, sort_keys=True) + "\n", out)


def register(app: typer.Typer) -> None:
    app.command()(schema)
