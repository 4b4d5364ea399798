"""Checks made only while a flag stored in a model row has a value (stored_flag.py).

``if not row.disable_secret: <check>`` runs the check in a fresh deployment when the model
declares ``BooleanField(default=False)``; the route's status is the check's under that
default, with the flag named, and ``unknown`` when no model declares it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect import collect_facts
from threatmodel.models import Route

VIEW = """
from django.http import HttpResponse

from app.models import Site_Settings


def ignore(msg):
    return HttpResponse(msg, status=201)


def hook(request, key=None):
    site = Site_Settings.objects.get()
    if not site.enable_hook:
        return ignore("disabled")
    if {test}:
        if not site.hook_secret:
            return ignore("no secret")
        if key != site.hook_secret:
            return ignore("wrong secret")
    return HttpResponse("done")
"""
MODEL = """
from django.db import models


class Site_Settings(models.Model):
    enable_hook = models.BooleanField(default=True)
    {field} = models.BooleanField(default={default})
    hook_secret = models.CharField(max_length=64)
"""
URLS = """
from django.urls import re_path

from app import views

urlpatterns = [re_path(r"^hook/(?P<key>[\\w-]+)$", views.hook)]
"""


def _route(root: Path, test: str, model: str | None) -> Route:
    (root / "app").mkdir()
    (root / "app" / "views.py").write_text(VIEW.replace("{test}", test))
    (root / "app" / "urls.py").write_text(URLS)
    (root / "settings.py").write_text('ROOT_URLCONF = "app.urls"\n')
    (root / "manage.py").write_text("import django\n")
    if model is not None:
        (root / "app" / "models.py").write_text(model)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    routes = collect_facts(root, files, cache=None, jobs=1).facts.routes
    (route,) = [r for r in routes if r.path == "/hook/{key}"]
    return route


@pytest.mark.parametrize(
    ("test", "field", "default", "status"),
    [
        # on unless someone turns the stored switch on
        ("not site.disable_secret", "disable_secret", "False", "authenticated"),
        ("not site.disable_secret", "disable_secret", "True", "public"),
        ("site.require_secret", "require_secret", "True", "authenticated"),
        ("site.require_secret", "require_secret", "False", "public"),
    ],
)
def test_declared_default_decides(
    tmp_path: Path, test: str, field: str, default: str, status: str
) -> None:
    model = MODEL.replace("{field}", field).replace("{default}", default)
    route = _route(tmp_path, test, model)
    assert route.auth.status.value == status
    assert f"Site_Settings.{field}" in (route.auth.mechanism or "")
    (setting,) = route.auth.settings
    assert setting.default == default
    assert {str(v.value) for v in setting.states.values()} == {"authenticated", "public"}
    assert any(e.path == "app/models.py" for e in route.auth.evidence)


def test_undeclared_flag_is_unknown(tmp_path: Path) -> None:
    route = _route(tmp_path, "not site.disable_secret", None)
    assert route.auth.status.value == "unknown"
    assert "set outside the repository" in (route.auth.mechanism or "")


def test_flag_not_read_from_a_row_stays_conditional(tmp_path: Path) -> None:
    """A plain local (not a model row) is no stored flag: still a check on some paths."""
    model = MODEL.replace("{field}", "disable_secret").replace("{default}", "False")
    route = _route(tmp_path, "not request.GET.get('skip')", model)
    assert route.auth.status.value == "unknown"
    assert route.auth.mechanism == "auth check on some paths only"


def test_a_shared_secret_check_is_named_and_no_cookie_session(tmp_path: Path) -> None:
    """The check compares what the caller sent with a stored secret: the mechanism names the
    gate, so CSRF (which rides a cookie session) is not read into the route."""
    from threatmodel.verify.csrf_missing import header_auth

    model = MODEL.replace("{field}", "disable_secret").replace("{default}", "False")
    route = _route(tmp_path, "not site.disable_secret", model)
    assert route.auth.status.value == "authenticated"
    assert (route.auth.mechanism or "").startswith("check in the handler (shared_secret) while")
    assert header_auth(route)
