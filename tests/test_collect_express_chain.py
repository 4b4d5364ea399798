"""What an Express registration says: which callback of a route is its handler and which are
its guards (a guard taken as a member of a required module; a package's middleware placed
after the app's own callback, which answers, so the middleware never runs and is no
handler), and a middleware's options held in a name."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.frameworks.express.routes import ExpressCollector

GUARD = """\
module.exports = {
  needToken: (req, res, next) => {
    if (!req.headers.authorization) {
      return res.status(401).send({ error: 'token required' })
    }
    next()
  },
}
"""
ROUTES = """\
const express = require('express')
const needToken = require('../guards').needToken
const perms = require('express-jwt-permissions')({ permissionsProperty: 'scopes' })
const items = require('../items')
const router = express.Router()
router.get('/items', needToken, items.list, perms.check(['items:read']))
router.post('/items', items.add)
router.get('/ping', perms.check(['ping']))
module.exports = router
"""
ITEMS = "module.exports = { list: (req, res) => res.json([]), add: (req, res) => res.end() }\n"
APP = """\
const express = require('express')
const app = express()
app.use('/api', require('./routes/items'))
"""


def test_member_required_guard_and_middleware_after_the_handler(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "items.js").write_text(ROUTES)
    (tmp_path / "guards.js").write_text(GUARD)
    (tmp_path / "items.js").write_text(ITEMS)
    (tmp_path / "app.js").write_text(APP)
    routes = by_route(collect(tmp_path, ExpressCollector()))
    listed = routes[("GET", "/api/items")]
    assert listed.handler == "items.list"
    assert listed.auth.status.value == "authenticated"
    assert "needToken" in (listed.auth.mechanism or "")
    assert routes[("POST", "/api/items")].auth.status.value == "public"
    # a route made of a package's middleware alone keeps it as its handler
    assert routes[("GET", "/api/ping")].handler == "perms.check(['ping'])"


CORS = """\
const express = require('express')
const cors = require('cors')
const app = express()
const corsOptions = {
  origin: true,
  credentials: true,
}
app.use(cors(corsOptions))
app.use('/b', cors(makeOptions()))
"""


def test_cors_options_held_in_a_name_are_read_where_written(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(CORS)
    settings = collect(tmp_path, ExpressCollector()).settings
    got = {(s.key, s.value, s.location.line) for s in settings}
    assert ("cors.allow_origins", "reflect", 5) in got
    assert ("cors.allow_credentials", "true", 6) in got
    # options the reader cannot see are not the package's default
    assert ("cors.allow_origins", "dynamic", 9) in got


OAUTH = """\
const express = require('express')
const passport = require('passport')
const { startFlow } = require('./flow')
const router = express.Router()
router.get('/auth/github', startFlow, passport.authenticate('github'))
module.exports = router
"""


def test_a_package_imported_as_such_may_be_the_handler(tmp_path: Path) -> None:
    # passport.authenticate answers (it redirects to the provider): the callback before it
    # is middleware, not the handler
    (tmp_path / "routes.js").write_text(OAUTH)
    (tmp_path / "flow.js").write_text("exports.startFlow = (req, res, next) => next()\n")
    routes = by_route(collect(tmp_path, ExpressCollector()))
    assert routes[("GET", "/auth/github")].handler == "passport.authenticate('github')"
