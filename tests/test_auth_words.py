"""Auth words are matched on identifier words, not inside other words.

"oauth" holds "auth": an OAuth token exchange that checks a domain list, or an OAuth
callback that needs its ``state`` parameter, was read as a login check. ``isAuthenticated``
and ``current_user`` still say auth, in Python and in an Express middleware.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from js_support import by_route, collect

from threatmodel.code.vocab import says, word_text
from threatmodel.collect import collect_facts
from threatmodel.frameworks._python.tokens import token_lookup
from threatmodel.frameworks.express.routes import ExpressCollector

FIXTURE = Path(__file__).parent / "fixtures" / "python" / "auth_words"


def _routes(tmp_path: Path) -> dict[str, str]:
    return {k: v[0] for k, v in _auth(tmp_path).items()}


def _auth(tmp_path: Path) -> dict[str, tuple[str, str]]:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    facts = collect_facts(root, ["app.py"], cache=None, jobs=1).facts
    return {
        f"{r.method} {r.path}": (r.auth.status.value, r.auth.mechanism or "") for r in facts.routes
    }


def test_an_oauth_name_is_not_an_auth_word() -> None:
    words = ("auth", "user", "api_key", "is_staff")
    assert not says(word_text("ENABLE_OAUTH_LOGIN oauth_allowed_domains OAuth2Form"), words)
    assert says(word_text("isAuthenticated"), words)
    assert says(word_text("HTTP_AUTHORIZATION"), words)
    assert says(word_text("request.user"), words)
    assert says(word_text("apiKey"), words) and says(word_text("x-api-key"), words)
    assert says(word_text("isStaff"), words)


def test_oauth_checks_are_no_login(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert routes["POST /oauth/{provider}/exchange"] == "public"
    assert routes["GET /oauthCallback"] == "public"


def test_real_login_checks_stay(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert routes["GET /me"] == "authenticated"
    assert routes["GET /check"] == "authenticated"


def test_a_bearer_token_check_is_a_login_not_a_webhook_signature(tmp_path: Path) -> None:
    # ``verify_signature`` is the JWT's own option, no webhook's signature
    status, mechanism = _auth(tmp_path)["GET /orders"]
    assert status == "authenticated"
    assert "webhook_signature" not in mechanism


OAUTH_MW = """\
const express = require('express')
const app = express()
function oauthStateCheck(req, res, next) {
  if (!req.query.oauthState) {
    return res.status(401).send('missing state')
  }
  next()
}
function needUser(req, res, next) {
  if (!req.currentUser) {
    return res.status(401).send('sign in')
  }
  next()
}
app.get('/oauth/return', oauthStateCheck, (req, res) => res.end())
app.get('/profile', needUser, (req, res) => res.end())
"""


def test_an_express_check_of_an_oauth_value_is_no_login(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text(OAUTH_MW)
    routes = by_route(collect(tmp_path, ExpressCollector()))
    assert routes[("GET", "/oauth/return")].auth.status.value != "authenticated"
    assert routes[("GET", "/profile")].auth.status.value == "authenticated"


def test_a_reset_key_decrypted_by_the_server_is_a_secret_link(tmp_path: Path) -> None:
    routes = _auth(tmp_path)
    status, mechanism = routes["PUT /reset"]
    assert status == "authenticated" and mechanism.startswith("url_token: reset_key")
    # decoding base64 checks nothing: the key is only read
    assert routes["PUT /reset-unchecked"][0] == "public"


def test_a_decode_that_verifies_nothing_is_no_token_lookup() -> None:
    def lookup(body: str) -> tuple[str, int] | None:
        fn = ast.parse(body).body[0]
        assert isinstance(fn, ast.FunctionDef)
        return token_lookup(fn.body, frozenset({"form"}))

    checked = "def f(form):\n    claims = jwt.decode(form.token, KEY, algorithms=['HS256'])\n"
    assert lookup(checked) == ("token", 2)
    unchecked = checked.replace("KEY, algorithms=['HS256']", "options={'verify_signature': False}")
    assert lookup(unchecked) is None
