"""By-design public writes (issue 18): first-run gates and capability URLs.

Small repositories written for these tests: a setup wizard that writes only while the app
is not yet set up, and callbacks addressed by a UUID-typed path parameter. Neither is a
confirmed "changes data without authentication"; each is kept for review with its reason.
A handler that merely reads the same words, or a path parameter that is not a UUID, stays
confirmed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_precision import by_rule, scan
from threatmodel.collect.handler_gates import set_up_test
from threatmodel.models import Finding, Verdict

SETUP = """from flask import Flask, request, redirect, session
import sqlite3

app = Flask(__name__)


def db():
    return sqlite3.connect("app.db")


def is_setup():
    return db().execute("SELECT 1 FROM config WHERE key = 'setup'").fetchone() is not None


@app.route("/setup", methods=["GET", "POST"])
def setup():
    if not is_setup():
        if request.method == "POST":
            db().execute("INSERT INTO users (name) VALUES (?)", (request.form["name"],))
            db().execute("INSERT INTO config (key) VALUES ('setup')")
            return redirect("/")
        return "the setup form"
    return redirect("/")


@app.route("/install", methods=["POST"])
def install():
    if is_setup():
        return "already installed", 403
    db().execute("INSERT INTO users (name) VALUES (?)", (request.form["name"],))
    return "ok"


@app.route("/notes", methods=["POST"])
def notes():
    if is_setup():
        db().execute("INSERT INTO notes (body) VALUES (?)", (request.form["body"],))
    return "ok"
"""

DJANGO_VIEWS = """from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from app.models import Notification


@csrf_exempt
def status(request, code):
    notification = Notification.objects.get(code=code)
    notification.error = request.POST["error"]
    notification.save()
    return HttpResponse()


@csrf_exempt
def by_number(request, number):
    notification = Notification.objects.get(pk=number)
    notification.error = request.POST["error"]
    notification.save()
    return HttpResponse()
"""

DJANGO_URLS = """from django.urls import path

from app import views

urlpatterns = [
    path(
        "notifications/<uuid:code>/status",
        views.status,
    ),
    path("numbered/<int:number>/status", views.by_number),
]
"""

DJANGO_SETTINGS = """MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "app.urls"
"""


def _route(findings: list[Finding], path: str) -> Finding:
    found = [f for f in findings if f.claims[0].route and f.claims[0].route.path == path]
    assert found, [f.title for f in findings]
    return found[0]


def test_a_write_gated_on_first_run_state_is_for_review(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app.py": SETUP})
    tm101 = by_rule(report, "TM101")
    for path in ("/setup", "/install"):
        f = _route(tm101, path)
        assert f.verdict is Verdict.UNVERIFIABLE, (f.title, f.verdict)
        assert f.severity.value == "medium"
        assert "not yet set up" in (f.reason or "")
    # writing only once set up is a steady-state write: still confirmed
    notes = _route(tm101, "/notes")
    assert notes.verdict is Verdict.CONFIRMED and notes.severity.value == "high"


def test_the_set_up_state_reads_through_negations() -> None:
    def state(src: str) -> bool | None:
        return set_up_test(ast.parse(src, mode="eval").body)

    assert state("config.is_setup()") is True
    assert state("not config.is_setup()") is False
    assert state("is_setup() is False") is False
    assert state("settings.SETUP_COMPLETE") is True
    assert state("needs_install()") is False
    assert state("not isInstalled()") is False
    assert state("user.is_authenticated") is None
    assert state("request.user.is_configured") is None  # one caller's state, not the app's
    assert state("is_setup(user)") is None  # a predicate of an argument, not of the app


def test_a_uuid_keyed_callback_is_a_capability_url(tmp_path: Path) -> None:
    files = {
        "manage.py": "import django\n",
        "app/__init__.py": "",
        "app/settings.py": DJANGO_SETTINGS,
        "app/models.py": "from django.db import models\n\nclass Notification(models.Model):\n"
        "    code = models.UUIDField()\n    error = models.TextField()\n",
        "app/views.py": DJANGO_VIEWS,
        "app/urls.py": DJANGO_URLS,
    }
    report = scan(tmp_path, files)
    tm101 = by_rule(report, "TM101")
    cap = _route(tm101, "/notifications/{code}/status")
    assert cap.verdict is Verdict.UNVERIFIABLE, (cap.title, cap.verdict)
    assert "capability URL" in (cap.reason or "") and cap.severity.value == "low"
    numbered = _route(tm101, "/numbered/{number}/status")
    assert numbered.severity.value == "high" and "capability" not in (numbered.reason or "")


FASTAPI = """from uuid import UUID

from fastapi import FastAPI
from pydantic import BaseModel

from app.db import session, Ping

app = FastAPI()


class Body(BaseModel):
    status: str


@app.post("/ping/{key}")
def ping(key: UUID, body: Body):
    row = session.get(Ping, key)
    row.status = body.status
    session.add(row)
    session.commit()
    return {}


@app.post("/pong/{key}")
def pong(key: str, body: Body):
    row = session.get(Ping, key)
    row.status = body.status
    session.add(row)
    session.commit()
    return {}
"""


def test_a_fastapi_uuid_parameter_is_a_capability_key(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app/main.py": FASTAPI, "app/db.py": "session = None\nPing = 1\n"})
    tm101 = by_rule(report, "TM101")
    assert "capability URL" in (_route(tm101, "/ping/{key}").reason or "")
    assert "capability" not in (_route(tm101, "/pong/{key}").reason or "")
