"""Objects a package's factory made (``db = pgp(url)``) are the package's: a catalog row
names their methods (``pg-promise.one``), wherever the file declares them, and what they
read is stored data. A module whose ``module.exports`` is one function is that function
when a caller calls what ``require`` gave."""

from __future__ import annotations

from js_support import js_flows

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
