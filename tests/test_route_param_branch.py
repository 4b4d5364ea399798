"""A check under ``if <param> is not None:`` is made on the route whose pattern always
captures that parameter (calls.param_calls), and not on the one that never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect import collect_facts

VIEWS = """
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from app.models import Product


def check_product(user, product, perm):
    if not user.has_perm(perm, product):
        raise PermissionDenied


def bulk(request, pid=None):
    if {test}:
        product = get_object_or_404(Product, id=pid)
        check_product(request.user, product, "edit")
    return JsonResponse({"ok": True})
"""
URLS = """
from django.urls import path

from app import views

urlpatterns = [
    path("bulk", views.bulk),
    path("product/<int:pid>/bulk", views.bulk),
    path("product/<int:other>/bulk2", views.bulk),
]
"""


@pytest.mark.parametrize("test", ["pid is not None", "pid"])
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/product/{pid}/bulk", "restricted"),  # the pattern always captures pid
        ("/bulk", "public"),  # never: the check is skipped
        ("/product/{other}/bulk2", "public"),  # captures something else
    ],
)
def test_branch_on_a_captured_parameter(tmp_path: Path, test: str, path: str, status: str) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(VIEWS.replace("{test}", test))
    (tmp_path / "app" / "urls.py").write_text(URLS)
    (tmp_path / "app" / "models.py").write_text("class Product:\n    pass\n")
    files = ["app/models.py", "app/urls.py", "app/views.py"]
    routes = {r.path: r for r in collect_facts(tmp_path, files, cache=None, jobs=1).facts.routes}
    auth = routes[path].auth
    assert auth.status.value == status
    if status == "restricted":
        assert auth.mechanism == "call check_product()"
        assert [e.start_line for e in auth.evidence] == [17]
