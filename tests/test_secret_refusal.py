"""A handler that stops when the caller's value does not equal a shared secret is guarded.

Webhooks answer 200 even when they refuse (so the sender stops retrying): what turns the
caller away is that the handler ends before it does anything. Under a setting that can turn
the check off, the route's status is the deployment's to decide (unknown). A secret carried
in the path (``/hook/{secret}``) is a secret link.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect import collect_facts

APP = """import os
from flask import Flask, request
from app.store import save, settings

app = Flask(__name__)
HOOK_SECRET = os.environ["HOOK_SECRET"]


@app.route("/hook", methods=["POST"])
def hook():
    if request.args.get("key") != HOOK_SECRET:
        return "ignored", 200
    save(request.json)
    return "ok"


@app.route("/hook2", methods=["POST"])
def hook2():
    if settings.jira_secret == request.args.get("key"):
        save(request.json)
        return "ok"
    else:
        return "ignored"


@app.route("/optional", methods=["POST"])
def optional():
    if not settings.disable_secret:
        if request.args.get("key") != settings.webhook_secret:
            return "ignored"
    save(request.json)
    return "ok"


@app.route("/named", methods=["POST"])
def named():
    if request.args.get("name") != settings.owner_name:
        return "ignored"
    save(request.json)
    return "ok"


@app.route("/link/<secret>", methods=["POST"])
def link(secret):
    save(request.json)
    return "ok"
"""


@pytest.fixture(scope="module")
def statuses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root: Path = tmp_path_factory.mktemp("hooks")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "store.py").write_text("settings = object()\ndef save(x):\n    pass\n")
    (root / "app" / "main.py").write_text(APP)
    files = ["app/__init__.py", "app/store.py", "app/main.py"]
    facts = collect_facts(root, files, cache=None, jobs=1).facts
    return {r.path: r.auth.status.value for r in facts.routes}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/hook", "authenticated"),  # != the secret: ends before the write
        ("/hook2", "authenticated"),  # == the secret: the work; else it ends
        ("/optional", "unknown"),  # a setting can turn the check off
        ("/named", "public"),  # not a secret
        ("/link/{secret}", "authenticated"),  # the secret is in the link
    ],
)
def test_shared_secret_checks(statuses: dict[str, str], path: str, status: str) -> None:
    assert statuses[path] == status
