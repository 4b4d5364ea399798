"""A sink of a package's old versions only (``SinkRow.below``): ``mathjs.eval`` of request
input is code injection where package.json pins a release before the fix, and nothing
where it pins a fixed one or a range that may install one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from js_support import collect

from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.collect.sinks_js import JsSinksCollector
from threatmodel.dataflow.proof import proof_steps

HANDLER = """\
var mathjs = require('mathjs')

module.exports.calc = function (req, res) {
  res.json({ result: mathjs.eval(req.body.expr) })
}
"""


@pytest.mark.parametrize(
    ("pin", "flows"),
    [("3.10.1", 1), ("=3.16.5", 1), ("3.17.0", 0), ("^3.10.1", 0), ("11.8.0", 0)],
)
def test_an_old_pinned_release_makes_the_call_a_sink(tmp_path: Path, pin: str, flows: int) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "core/calc.js").write_text(HANDLER)
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjs": pin}}))
    facts = collect(tmp_path, JsFlowsCollector(), JsSinksCollector())
    found = [f for f in facts.flows if f.claim == "code_injection" and f.broken_by is None]
    assert [(f.sink, f.sink_location.line) for f in found] == [("mathjs.eval", 4)] * flows
    # the old pin is the proof's first step
    assert [(f.steps[0].path, f.steps[0].line) for f in found] == [("package.json", 1)] * flows
    said = [s.text for f in found for s in proof_steps(f) if s.location.path == "package.json"]
    assert said == ["the package's release pinned at line 1, before its fix"] * flows
    # never a sink fact: whether it is one depends on the version, which a flow checks
    assert not [s for s in facts.sinks if "mathjs" in s.call]
