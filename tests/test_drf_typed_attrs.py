"""A DRF view's class attributes count however they are written: a typed mixin
(``permission_classes: Sequence[...] = (IsAuthenticated,)``) guards its views like an
untyped one."""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect import collect_facts

VIEWS = """
from typing import Sequence

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView


class AuthMixin:
    permission_classes: Sequence[type] = (IsAuthenticated,)


class MeApi(AuthMixin, APIView):
    def get(self, request):
        return None


class OpenApi(APIView):
    def get(self, request):
        return None
"""
URLS = """
from django.urls import path

from app.views import MeApi, OpenApi

urlpatterns = [path("me/", MeApi.as_view()), path("open/", OpenApi.as_view())]
"""
SETTINGS = 'INSTALLED_APPS = ["rest_framework"]\nMIDDLEWARE = []\nROOT_URLCONF = "app.urls"\n'


def test_a_typed_permission_classes_attribute_guards(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/views.py": VIEWS, "app/urls.py": URLS}
    files["app/settings.py"] = SETTINGS
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    facts = collect_facts(tmp_path, sorted(files), cache=None, jobs=1).facts
    status = {r.id: r.auth.status.value for r in facts.routes}
    assert status == {"GET /me/": "authenticated", "GET /open/": "public"}
