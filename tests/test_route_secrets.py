"""Route findings on well-built apps (issue 16/17 follow-up): a URL capture matched against a
stored key is a capability URL, and a CSRF-exempt view that hands over to an API-key-guarded
view is not ridden by cookies.

A small Django app written for these tests, with each safe shape beside its vulnerable twin:
- ``/ping/<slug:ping_key>/<slug:name>/fail`` (the key from an ``include()`` prefix) looks
  its project up by ``project__ping_key=ping_key``: the key is the credential, kept for
  review as a capability URL; ``/tag/<slug:name>/bump`` looks up by ``slug=name``, which
  anyone can guess: still a confirmed unauthenticated write.
- ``/api/items/<uuid:code>`` is ``csrf_exempt`` and each branch returns a view decorated
  with an API-key check (one also tests the item's project itself): no cookie rides it.
  ``/form/<uuid:code>`` is ``csrf_exempt`` and ``login_required`` (the cookie session):
  still confirmed.
- Flask: ``/feeds/<feed_key>/mark`` finds its feed by ``filter_by(access_key=feed_key)``
  (a capability URL), ``/feeds/<name>/touch`` by ``filter_by(name=name)`` (confirmed).
- ``/form/<sha1:key>`` (API key) has the same shape as ``/form/<uuid:code>`` (cookie): each
  claim is judged on its own route.
"""

from __future__ import annotations

from pathlib import Path

from tests.test_precision import by_rule, scan
from threatmodel.models import Finding, Verdict

SETTINGS = """MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "app.urls"
"""

MODELS = """from django.db import models


class Project(models.Model):
    ping_key = models.CharField(max_length=64, unique=True)


class Item(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    slug = models.SlugField()
    code = models.UUIDField()
    hits = models.IntegerField(default=0)
"""

DECORATORS = """from functools import wraps

from django.http import JsonResponse

from app.models import Project


def api_key_required(f):
    @wraps(f)
    def wrapper(request, *args, **kwds):
        api_key = request.headers.get("X-Api-Key", "")
        project = Project.objects.filter(api_key=api_key).first()
        if project is None:
            return JsonResponse({"error": "wrong api key"}, status=401)
        request.project = project
        return f(request, *args, **kwds)

    return wrapper
"""

VIEWS = """from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from app.decorators import api_key_required
from app.models import Item


@csrf_exempt
def ping(request, ping_key, name):
    item = Item.objects.get(slug=name, project__ping_key=ping_key)
    item.hits += 1
    item.save()
    return HttpResponse("OK")


@csrf_exempt
def bump(request, name):
    item = Item.objects.get(slug=name)
    item.hits += 1
    item.save()
    return HttpResponse("OK")


@api_key_required
def get_item(request, code):
    item = Item.objects.get(code=code)
    if item.project_id != request.project.id:
        return HttpResponseForbidden()
    return JsonResponse({"hits": item.hits})


@api_key_required
def delete_item(request, code):
    item = Item.objects.get(code=code, project=request.project)
    item.delete()
    return JsonResponse({})


@csrf_exempt
def single(request, code):
    if request.method == "DELETE":
        return delete_item(request, code)
    return get_item(request, code)


@csrf_exempt
@api_key_required
def by_key(request, key):
    for item in Item.objects.filter(project=request.project):
        if str(item.code) == key:
            return JsonResponse({"hits": item.hits})
    return HttpResponse(status=404)


@csrf_exempt
@login_required
def form(request, code):
    item = Item.objects.get(code=code, project__owner=request.user)
    item.hits = 0
    item.save()
    return HttpResponse("reset")
"""

URLS = """from django.urls import include, path, register_converter

from app import views


class SHA1Converter:
    regex = "[a-f0-9]{40}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(SHA1Converter, "sha1")

slug_urls = [
    path("fail", views.ping),
]

urlpatterns = [
    path("ping/<slug:ping_key>/<slug:name>/", include(slug_urls)),
    path("tag/<slug:name>/bump", views.bump),
    path("api/items/<uuid:code>", views.single),
    path("form/<uuid:code>", views.form),
    path("form/<sha1:key>", views.by_key),
]
"""

FILES = {
    "manage.py": "import django\n",
    "app/__init__.py": "",
    "app/settings.py": SETTINGS,
    "app/models.py": MODELS,
    "app/decorators.py": DECORATORS,
    "app/views.py": VIEWS,
    "app/urls.py": URLS,
}


def _route(findings: list[Finding], path: str) -> Finding:
    found = [f for f in findings if f.claims[0].route and f.claims[0].route.path == path]
    assert found, (path, [f.title for f in findings])
    return found[0]


def test_a_capture_matched_against_a_stored_key_is_a_capability_url(tmp_path: Path) -> None:
    tm101 = by_rule(scan(tmp_path, FILES), "TM101")
    ping = _route(tm101, "/ping/{ping_key}/{name}/fail")
    assert ping.verdict is Verdict.UNVERIFIABLE, (ping.title, ping.verdict)
    assert ping.severity.value == "low" and "{ping_key}" in (ping.reason or "")
    bump = _route(tm101, "/tag/{name}/bump")  # a slug anyone can guess: no credential
    assert bump.verdict is Verdict.CONFIRMED, (bump.title, bump.reason)
    assert "capability" not in (bump.reason or "")


def test_csrf_exempt_views_are_judged_by_how_they_authenticate(tmp_path: Path) -> None:
    report = scan(tmp_path, FILES)
    routes = {r.path: r for r in report.facts.routes}
    assert "api_key" in (routes["/api/items/{code}"].auth.mechanism or "")
    tm107 = by_rule(report, "TM107")
    api = _route(tm107, "/api/items/{code}")
    assert api.verdict is Verdict.REFUTED, (api.verdict, api.reason)
    keyed = _route(tm107, "/form/{key}")  # same shape as /form/{code}, its own guard
    assert keyed.verdict is Verdict.REFUTED, (keyed.verdict, keyed.notes)
    cookie = _route(tm107, "/form/{code}")  # a login_required view under a cookie session
    assert cookie.verdict is Verdict.CONFIRMED, (cookie.verdict, cookie.reason)


FLASK = """from flask import Flask

from app.models import Feed, db

app = Flask(__name__)


@app.route("/feeds/<feed_key>/mark", methods=["POST"])
def mark(feed_key):
    feed = Feed.query.filter_by(access_key=feed_key).first_or_404()
    feed.stale = True
    db.session.commit()
    return "ok"


@app.route("/feeds/<name>/touch", methods=["POST"])
def touch(name):
    feed = Feed.query.filter_by(name=name).first_or_404()
    feed.stale = True
    db.session.commit()
    return "ok"
"""


def test_a_flask_capture_matched_against_a_stored_key_is_a_capability_url(
    tmp_path: Path,
) -> None:
    files = {"app/__init__.py": "", "app/main.py": FLASK, "app/models.py": "Feed = db = None\n"}
    tm101 = by_rule(scan(tmp_path, files), "TM101")
    mark = _route(tm101, "/feeds/{feed_key}/mark")
    assert mark.verdict is not Verdict.CONFIRMED, (mark.title, mark.reason)
    assert "{feed_key}" in (mark.reason or "")
    touch = _route(tm101, "/feeds/{name}/touch")
    assert touch.verdict is Verdict.CONFIRMED, (touch.title, touch.reason)
