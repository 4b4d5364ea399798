"""link.MAX_EXPANSIONS: the bound on calls followed in their caller's context.

Following every call path is exponential on a dense call graph; past the bound a call of the
repository's code passes its input on unread, like a call past the depth bound: the flow is
still found, marked as resting on that call (no proof), and the facts say the bound was met.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect import CollectResult, collect_facts
from threatmodel.dataflow import link
from threatmodel.models import Flow

APP = """
import subprocess
from flask import Flask, request

app = Flask(__name__)


def quoted(text):
    return "'" + text + "'"


def command(name):
    return "ls " + quoted(name)


@app.route("/ls")
def listing():
    return subprocess.check_output(command(request.args["dir"]), shell=True)
"""


def _collect(tmp_path: Path) -> CollectResult:
    (tmp_path / "app.py").write_text(APP)
    return collect_facts(tmp_path, ["app.py"], cache=None, jobs=1)


def _command_flow(result: CollectResult) -> Flow:
    return next(f for f in result.facts.flows if f.claim == "command_injection")


def test_within_the_bound_the_flow_is_followed_through_every_call(tmp_path: Path) -> None:
    result = _collect(tmp_path)
    assert _command_flow(result).unresolved == []
    assert not any("stopped following calls" in w for w in result.warnings)


def test_past_the_bound_a_call_passes_its_input_on_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link, "MAX_EXPANSIONS", 0)
    result = _collect(tmp_path)
    flow = _command_flow(result)  # still found: the input is passed on
    assert flow.unresolved == ["app.quoted"]  # but resting on a call not read: no proof
    assert any("stopped following calls" in w for w in result.warnings)
