"""Sink facts: which calls are dangerous and when their input is dynamic.

Python's are the claim catalog's matches (``dataflow.sink_facts``), JS's the JS sinks
collector's; Python JWT misuse is the JWT collector's settings.
"""

from __future__ import annotations

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.collect.jwt_python import PythonJwtCollector
from threatmodel.collect.sinks_js import JsSinksCollector

PY = """
import os, subprocess, requests, jwt, yaml
from sqlalchemy import text

BASE = "SELECT * FROM t"

def handler(request, cur, uid):
    cur.execute("SELECT * FROM t WHERE id = ?", (uid,))
    cur.execute(f"SELECT * FROM t WHERE id = {uid}")
    q = "SELECT * FROM t WHERE name = '%s'" % request.args["n"]
    cur.execute(q)
    cur.execute("SELECT * FROM t WHERE a = {}".format(uid))
    cur.execute(BASE)
    cur.execute(text(f"DELETE FROM t WHERE id = {uid}"))
    subprocess.run(["ls", uid])
    subprocess.run("ls " + uid, shell=True)
    os.system("uptime")
    requests.get(request.args["u"])
    yaml.load(request.data, Loader=yaml.SafeLoader)
    yaml.load(request.data)
    jwt.decode(request.headers["a"], verify=False)
    jwt.decode(request.headers["a"], "k3y", algorithms=["none", "HS256"])
"""

JS = """
const { exec } = require("child_process");
function h(req, res) {
  db.query(`SELECT * FROM t WHERE id = ${req.params.id}`);
  db.query("SELECT * FROM t WHERE id = ?", [req.params.id]);
  const sql = "SELECT * FROM t WHERE n = '" + req.query.n + "'";
  db.query(sql);
  exec("ls " + req.query.dir);
  res.redirect("/home");
  col.find({ $where: `this.a == ${req.query.a}` });
  jwt.verify(token, "short", { algorithms: ["none"] });
  const re = /x/; re.exec("abc");
}
"""


def sinks_of(extract: dict) -> list[tuple[str, str, bool, int]]:
    return [(k, c, d, line) for k, c, d, line, *_ in extract["sinks"]]


def test_python_sinks_tell_built_queries_from_parameterised_ones() -> None:
    extract = dataflow.extract(SourceFile.from_bytes("h.py", PY.encode()))
    sinks = sorted(dataflow.sink_facts({"h.py": extract}), key=lambda s: s.location.line)
    got = [(s.kind, s.call, s.dynamic, s.location.line) for s in sinks]
    sql = [(c, d, line) for k, c, d, line in got if k == "sql"]
    assert sql == [
        ("cur.execute", False, 8),  # the query is a constant, the value a parameter
        ("cur.execute", True, 9),
        ("cur.execute", True, 11),
        ("cur.execute", True, 12),
        ("cur.execute", False, 13),  # a module constant
        ("sqlalchemy.text", True, 14),  # one fact per call line and kind
    ]
    cmd = [(d, line) for k, c, d, line in got if k == "command"]
    assert cmd == [(False, 15), (True, 16), (False, 17)]
    assert ("http_request", "requests.get", True, 18) in got
    deser = [(d, line) for k, _, d, line in got if k == "deserialize"]
    assert deser == [(False, 19), (True, 20)]  # SafeLoader: safe as called
    assert {(s.handler, s.handler_line) for s in sinks} == {("h.handler", 7)}


def test_python_jwt_misuse_becomes_settings() -> None:
    data = PythonJwtCollector().extract(SourceFile.from_bytes("h.py", PY.encode()))
    assert ["jwt.verify", "false", "pyjwt", 21] in data["settings"]
    assert ["jwt.algorithms", "none,HS256", "pyjwt", 22] in data["settings"]
    assert ["jwt.secret", "literal-short", "pyjwt", 22] in data["settings"]


def test_js_sinks_and_jwt_settings() -> None:
    data = JsSinksCollector().extract(SourceFile.from_bytes("routes/h.js", JS.encode()))
    got = sinks_of(data)
    assert ("sql", "db.query", True, 4) in got
    assert ("sql", "db.query", False, 5) in got
    assert ("sql", "db.query", True, 7) in got
    assert ("command", "exec", True, 8) in got
    assert ("redirect", "res.redirect", False, 9) in got
    assert ("sql", "$where", True, 10) in got
    assert not any(c == "re.exec" for _, c, _, _ in got)
    # given a key, jsonwebtoken refuses an unsigned token: ``none`` listed is no weakness
    # there, the short literal key is
    assert not any(s[0] == "jwt.algorithms" for s in data["settings"])
    assert ["jwt.secret", "literal-short", 11] in data["settings"]
    assert all(s[4] == "h" for s in data["sinks"])  # enclosing function recorded


def test_a_decode_imported_from_jwt_is_jwt_decode() -> None:
    # ``from jwt import decode`` (a GraphQL app's token helper); a repository's own
    # ``decode`` (relative import) is not PyJWT's
    code = (
        "from jwt import decode\n"
        "from jwt import decode as unpack\n"
        "from .codec import decode as mine\n"
        "def who(token):\n"
        "    return decode(token, options={'verify_signature': False})['sub']\n"
        "def who2(token):\n"
        "    return unpack(token, 'k', algorithms=['HS256'])\n"
        "def who3(token):\n"
        "    return mine(token, options={'verify_signature': False})\n"
    )
    data = PythonJwtCollector().extract(SourceFile.from_bytes("t.py", code.encode()))
    verify = [row for row in data["settings"] if row[0] == "jwt.verify"]
    assert verify == [["jwt.verify", "false", "pyjwt", 5], ["jwt.verify", "true", "pyjwt", 7]]


JWT_BY_NAME = """
const jwt = require("jsonwebtoken");
const options = { issuer: "me", algorithms: ["HS256", "none"] };
function h(req, res) {
  return jwt.verify(req.headers.authorization, null, options);
}
function strict(req, res) {
  const options = { algorithms: ["HS256"] };
  return jwt.verify(req.headers.authorization, "", options);
}
function keyed(req, res) {
  return jwt.verify(req.headers.authorization, process.env.KEY, options);
}
"""


def test_js_jwt_options_held_in_a_name() -> None:
    data = JsSinksCollector().extract(SourceFile.from_bytes("a.js", JWT_BY_NAME.encode()))
    algs = [s for s in data["settings"] if s[0] == "jwt.algorithms"]
    # the module's options object, with no key (the function's own options, declared nearer,
    # accept no none; given a key, jsonwebtoken refuses an unsigned token)
    assert algs == [["jwt.algorithms", "HS256,none", 5]]
