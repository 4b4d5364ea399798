"""Two Express idioms whose danger is in the library the request data is handed to.

``res.render(view, req.body)``: Express gives the view engine the locals object as its
options, so a request object passed whole chooses files the engine reads (hbs's ``layout``):
path traversal. Request values under the keys of an object literal are only data. And
lodash's deep merges of request data pollute ``Object.prototype`` in the releases before
the fix (``SinkRow.below``): a flow only where package.json pins such a release, and only
from a source object, not the merge's target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from js_support import collect

from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.collect.sinks_js import JsSinksCollector

PROFILE = """\
exports.saveProfile = function (req, res) {
  const card = req.body
  if (card.nickname) {
    card.nickname = card.nickname.trim()
  }
  return res.render('card.hbs', card)
}

exports.showProfile = function (req, res) {
  return res.render('card.hbs', { nickname: req.query.nickname, shown: true })
}
"""

SETTINGS = """\
var _ = require('lodash')

var defaults = { theme: 'light' }

exports.update = function (req, res) {
  var prefs = {}
  _.merge(prefs, defaults, req.body.prefs)
  _.merge(req.body.extra, defaults)
  res.json(prefs)
}
"""


def test_a_request_object_passed_whole_as_the_views_locals_sets_its_options(
    tmp_path: Path,
) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes/profile.js").write_text(PROFILE)
    (tmp_path / "views").mkdir()
    (tmp_path / "views/card.hbs").write_text("<p>{{nickname}}</p>\n")
    facts = collect(tmp_path, JsFlowsCollector(), JsSinksCollector())
    found = [
        (f.sink_location.line, f.source_location.line)
        for f in facts.flows
        if f.claim == "path_traversal" and f.source_kind == "request"
    ]
    assert found == [(6, 2)], "the literal's request field (line 10) is data, not options"
    files = [s.location.line for s in facts.sinks if s.kind == "file"]
    assert files == [6], "a render given an object literal is no file sink by its form"


@pytest.mark.parametrize(("pin", "flows"), [("4.17.4", 1), ("4.17.11", 0), ("^4.17.4", 0)])
def test_a_deep_merge_of_request_data_pollutes_in_old_lodash(
    tmp_path: Path, pin: str, flows: int
) -> None:
    (tmp_path / "settings.js").write_text(SETTINGS)
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"lodash": pin}}))
    facts = collect(tmp_path, JsFlowsCollector(), JsSinksCollector())
    found = [
        (f.sink, f.sink_location.line)
        for f in facts.flows
        if f.claim == "prototype_pollution" and f.broken_by is None
    ]
    assert found == [("lodash.merge", 7)] * flows, "line 8 merges into the request's object"
