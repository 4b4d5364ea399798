"""The code shown for a JS route's middleware: its definition where the route's file or an
import holds it, and, for one a factory call made (``limiter = rateLimiter({...})``), the
factory whose returned function runs on every request."""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.excerpts import CodeIndex

ROUTES = """\
const express = require('express')
const rateLimiter = require('../lib/limit')
const { needUser } = require('../lib/auth')
const limiter = rateLimiter({ max: 5 })
const router = express.Router()
router.post('/login', limiter, needUser, (req, res) => res.end())
module.exports = router
"""
LIMIT = """\
const hits = new Map()
const rateLimiter = (options) => (req, res, next) => {
  const ip = req.headers['x-forwarded-for'] || req.ip
  next()
}
module.exports = rateLimiter
"""
AUTH = "function needUser(req, res, next) { next() }\nmodule.exports = { needUser }\n"


def test_a_middleware_a_factory_made_shows_the_factory(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "routes" / "login.js").write_text(ROUTES)
    (tmp_path / "lib" / "limit.js").write_text(LIMIT)
    (tmp_path / "lib" / "auth.js").write_text(AUTH)
    refs = CodeIndex(RepoReader(tmp_path)).guard_definitions("routes/login.js", 6)
    got = {(r.label, r.path, r.start, r.end) for r in refs}
    assert ("middleware limiter", "routes/login.js", 4, 4) in got
    assert ("made by rateLimiter", "lib/limit.js", 2, 5) in got
    assert ("middleware needUser", "lib/auth.js", 1, 1) in got
