"""JS/TS sinks are the claim catalog's rows only: the sink facts, the engine and the line
verifiers read the same rows (calls resolved through imports, object keys, assigned
properties), and a stored value reaching a sink its row marks ``stored`` is reported for
review, never confirmed and never refuted as "not request input"."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from js_support import js_flows

from threatmodel.claims import REGISTRY
from threatmodel.claims.spec import js
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.collect import sinks_js
from threatmodel.collect.sinks_js import JsSinksCollector
from threatmodel.dataflow import catalog
from threatmodel.dataflow.js import JsEngine
from threatmodel.models import Claim, Facts, Finding, Location, Severity, Verdict
from threatmodel.rules.flow_finding import FlowFinding, stored
from threatmodel.rules.interface import RuleContext
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext


def sinks(path: str, text: str) -> list[tuple[str, str, bool, int]]:
    data = JsSinksCollector().extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
    return [tuple(s[:4]) for s in (data or {}).get("sinks", [])]  # type: ignore[misc]


IMPORTED = """\
const { exec } = require('child_process')
import fetchIt from 'node-fetch'
import { z } from 'zod'
import { readFile } from 'fs/promises'
function h (req, res, pattern) {
  exec('ls ' + req.query.dir)
  pattern.exec(req.query.q)
  fetchIt(req.query.url)
  z.literal('a')
  readFile(req.query.name)
  setTimeout(() => res.end(), 10)
  setTimeout('tick(' + req.query.n + ')', 10)
  el.innerHTML = req.query.html
  db.find({ $where: 'this.a == ' + req.query.a })
  res.redirect(301, '/home')
  const q = 'select * from t where a = ' + req.query.a
  conn.execute(q)
  job.execute(req.body.payload)
}
"""


def test_sink_facts_are_the_catalog_rows_resolved_through_imports() -> None:
    got = {(k, c, d) for k, c, d, _ in sinks("routes/h.js", IMPORTED)}
    assert ("command", "exec", True) in got  # a named import of child_process
    assert ("http_request", "fetchIt", True) in got  # node-fetch's default is fetch
    assert ("file", "readFile", True) in got
    assert ("eval", "setTimeout", True) in got  # code as text
    assert ("template", "innerHTML", True) in got  # an assigned property row
    assert ("sql", "$where", True) in got  # an object key row
    assert ("redirect", "res.redirect", False) in got  # the URL, not the status
    assert ("sql", "conn.execute", True) in got  # a statement written as text
    calls = [c for _, c, _, _ in sinks("routes/h.js", IMPORTED)]
    assert "pattern.exec" not in calls  # a regex's exec: no child_process import names it
    assert "z.literal" not in calls  # zod's literal is no Sequelize literal (modules)
    assert calls.count("setTimeout") == 1  # a function passed is called, not evaluated
    assert "job.execute" not in calls  # a field passed to ``execute``: no statement seen


def test_adding_a_js_sink_is_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row added to a kind's catalog is a sink for the facts and for the engine."""
    text = "import leftpad from 'leftpad'\nfunction h (req) { leftpad(req.query.s) }\n"
    src = SourceFile.from_bytes("routes/p.js", text.encode())
    assert sinks("routes/p.js", text) == []
    assert not _engine_hits(src, catalog.JS_CATALOG)
    spec = REGISTRY["code_injection"]
    monkeypatch.setitem(
        REGISTRY, "code_injection", dataclasses.replace(spec, sinks=(*spec.sinks, js("leftpad")))
    )
    grown = catalog.build("javascript")
    monkeypatch.setattr(sinks_js, "JS_CATALOG", grown)
    assert sinks("routes/p.js", text) == [("eval", "leftpad", True, 2)]
    assert _engine_hits(src, grown) == [("code_injection", 2, "leftpad")]


def _engine_hits(src: SourceFile, cat: catalog.Catalog) -> list[tuple[str, int, str]]:
    tree = src.ts_tree
    assert tree is not None
    summaries = JsEngine(src.path, src.text, cat).run(tree.root_node)
    return [(h[0], h[1], h[2]) for s in summaries.values() for h in s.get("hits", ())]


def test_engine_reads_key_and_assign_rows() -> None:
    flows = js_flows(
        {
            "routes/a.js": """\
            function h (req) {
              document.body.innerHTML = req.query.a
              return collection.find({ $where: 'this.x == ' + req.query.b })
            }
            """
        }
    )
    assert {(f.claim, f.sink) for f in flows} == {
        ("xss", ".innerHTML"),
        ("nosql_injection", "$where"),
    }


def test_engine_keeps_a_method_row_off_another_packages_import() -> None:
    flows = js_flows(
        {
            "routes/z.js": """\
            import { z } from 'zod'
            const { Sequelize } = require('sequelize')
            function h (req) {
              z.literal('a' + req.query.a)
              Sequelize.literal('b = ' + req.query.b)
            }
            """
        }
    )
    assert [(f.claim, f.sink) for f in flows] == [("sql_injection", "sequelize.Sequelize.literal")]


STORED = """\
const models = require('../models')
async function show (req, res) {
  const user = await models.User.findByPk(req.session.uid)
  const greeting = eval(user.username)
  res.json({ greeting })
}
module.exports = { show }
"""


def test_a_stored_value_at_a_stored_row_is_reviewed_not_confirmed_nor_refuted(
    tmp_path: Path,
) -> None:
    flows = js_flows({"routes/show.js": STORED})
    saved = [f for f in flows if stored(f)]
    assert [(f.claim, f.source_kind, f.sink) for f in saved] == [
        ("code_injection", "database", "eval")
    ]
    facts = Facts(flows=flows)
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes/show.js").write_text(STORED)
    reader = RepoReader(tmp_path)
    found = FlowFinding().check(facts, RuleContext(root=tmp_path, reader=reader))
    assert len(found) == 1 and "stored value" in found[0].title
    assert found[0].severity is Severity.HIGH  # code_injection is critical; one lower
    claim = Claim(kind="code_injection", location=Location(path="routes/show.js", line=4))  # type: ignore[arg-type]
    finding = Finding(title="t", severity=Severity.HIGH, source="llm", claims=[claim])
    result = judge("code_injection", claim, finding, VerifyContext(facts=facts, reader=reader))
    assert result.verdict is Verdict.UNVERIFIABLE
    assert "stored value" in (result.reason or "")


def test_a_stored_value_at_an_ordinary_sink_is_no_finding() -> None:
    text = STORED.replace("eval(user.username)", "models.sequelize.query(user.username)")
    flows = js_flows({"routes/show.js": text})
    assert flows and not [f for f in flows if stored(f)]
