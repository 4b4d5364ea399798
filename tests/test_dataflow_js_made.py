"""Objects a package's factory made (``db = pgp(url)``) are the package's: a catalog row
names their methods (``pg-promise.one``), wherever the file declares them, and what they
read is stored data. A module whose ``module.exports`` is one function is that function
when a caller calls what ``require`` gave."""

from __future__ import annotations

from pathlib import Path

from js_support import js_flows

from threatmodel.code.reader import RepoReader
from threatmodel.models import Facts
from threatmodel.rules.flow_finding import FlowFinding
from threatmodel.rules.interface import RuleContext

MODEL = """\
var config = require('../config'),
    pgp = require('pg-promise')();
var db = pgp(config.url);

function byName(name) {
    return db.many("SELECT * FROM items WHERE name = '" + name + "'");
}

function login(user) {
    var conn = pgp(config.url);
    return conn.one("SELECT * FROM users WHERE name = '" + user + "'");
}

function counted(items) {
    return items.map(String);
}

module.exports = { byName: byName, login: login, counted: counted };
"""

ROUTES = """\
var express = require('express');
var model = require('../model/items');
var check = require('../model/check');
var router = express.Router();

router.get('/items', function (req, res) {
    model.byName(req.query.name).then(function (rows) { res.json(rows) });
});

router.post('/login', function (req, res) {
    model.login(req.body.user);
    check(req.body.user);
});

router.get('/count', function (req, res) {
    res.json(model.counted(req.query.items));
});
"""

CHECK = """\
var pgp = require('pg-promise')();

function check(user) {
    var db = pgp(process.env.DB);
    return db.none("DELETE FROM sessions WHERE name = '" + user + "'");
}

module.exports = check;
"""


def test_a_factory_made_database_objects_queries_are_sql_sinks() -> None:
    flows = js_flows({"model/items.js": MODEL, "routes/web.js": ROUTES, "model/check.js": CHECK})
    sql = sorted(
        (f.sink, f.sink_location.path, f.sink_location.line)
        for f in flows
        if f.claim == "sql_injection" and f.source_kind == "request"
    )
    assert sql == [
        ("pg-promise.many", "model/items.js", 6),
        ("pg-promise.none", "model/check.js", 5),
        ("pg-promise.one", "model/items.js", 11),
    ]


def test_array_methods_of_the_same_names_are_no_sinks() -> None:
    flows = js_flows({"model/items.js": MODEL, "routes/web.js": ROUTES})
    assert not [f for f in flows if f.sink_location.line == 15]


TWIN_MODEL = """\
var pgp = require('pg-promise')();
var db = pgp(process.env.DB);

function byId(id) {
    var q = "SELECT * FROM items WHERE id = '" + id + "'";
    return db.one(q);
}

function byCode(code) {
    var q = "SELECT * FROM items WHERE code = '" + code + "'";
    return db.one(q);
}

module.exports = { byId: byId, byCode: byCode };
"""

TWIN_ROUTES = """\
var model = require('../model/items');
var router = require('express').Router();

router.get('/id', function (req, res) { model.byId(req.query.id) });
router.get('/code', function (req, res) { model.byCode(req.query.code) });
"""


def test_two_sinks_whose_lines_read_the_same_stay_two_findings(tmp_path: Path) -> None:
    # a fingerprint quotes lines, not their numbers: the second also quotes its source
    files = {"model/items.js": TWIN_MODEL, "routes/items.js": TWIN_ROUTES}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    facts = Facts(flows=js_flows(files))
    ctx = RuleContext(root=tmp_path, reader=RepoReader(tmp_path))
    found = [f for f in FlowFinding().check(facts, ctx) if f.claims[0].kind == "sql_injection"]
    assert sorted(f.claims[0].location.line for f in found if f.claims[0].location) == [6, 11]
    assert len({f.fingerprint for f in found}) == 2
    assert sorted(len(f.evidence) for f in found) == [1, 2]
