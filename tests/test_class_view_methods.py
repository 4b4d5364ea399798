"""A class-based view's GET route is its ``get`` method, not its ``post``.

Django REST framework's ``APIView`` answers each method with the method of that name; the
route collector lists one route per method, each with its own decorator. The GET route of
a view whose ``get`` only reads and whose ``post`` (signed in) creates a row does not change
data: TM101 must not cite the ``post``'s write for the public GET. The LLM is shown each
method route's own method under the class head, not the whole class cut at the excerpt's
length (which lost a ``put`` after a long ``get``).
"""

from __future__ import annotations

from pathlib import Path

from tests.test_precision import by_rule, scan
from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.code.reader import RepoReader
from threatmodel.excerpts import CodeIndex
from threatmodel.models import Facts

VIEWS = """from functools import wraps

from rest_framework.response import Response
from rest_framework.views import APIView

from app.models import Order


def signed_in(func):
    @wraps(func)
    def inner(*args, **kwargs):
        request = args[1]
        if "HTTP_AUTHORIZATION" not in request.META:
            return Response({"message": "sign in"}, status=401)
        return func(*args, **kwargs)

    return inner


class OrderView(APIView):
    def get(self, request, order_id=None):
        return Response({"order": str(Order.objects.get(id=order_id))})

    @signed_in
    def post(self, request, order_id=None):
        Order.objects.create(quantity=request.data["quantity"])
        return Response({"ok": True})


class NoteView(APIView):
    def get(self, request):
        Order.objects.create(quantity=1)
        return Response({"ok": True})
"""

MODELS = """from django.db import models


class Order(models.Model):
    quantity = models.IntegerField()
"""

URLS = """from django.urls import re_path

from app import views

urlpatterns = [
    re_path(r"orders/(?P<order_id>\\d+)$", views.OrderView.as_view()),
    re_path(r"notes$", views.NoteView.as_view()),
]
"""


def test_a_get_route_is_judged_by_its_own_method(tmp_path: Path) -> None:
    files = {
        "manage.py": "import django\n",
        "app/__init__.py": "",
        "app/settings.py": 'ROOT_URLCONF = "app.urls"\nINSTALLED_APPS = ["rest_framework"]\n',
        "app/views.py": VIEWS,
        "app/models.py": MODELS,
        "app/urls.py": URLS,
    }
    tm101 = by_rule(scan(tmp_path, files), "TM101")
    titles = {f.title for f in tm101}
    assert not any("GET /orders/{order_id}" in t for t in titles), titles
    # a GET that itself writes is still reported
    assert any("GET /notes" in t for t in titles), titles


LONG_VIEW = (
    "from rest_framework.views import APIView\n\n\n"
    "class OrderView(APIView):\n"
    "    permission_classes = []\n\n"
    "    def get(self, request):\n" + "        x = 1\n" * 90 + "        return x\n\n"
    "    def put(self, request):\n"
    "        order.status = request.data['status']\n"
    "        return order\n"
)


def test_a_method_route_shows_its_own_method_under_the_class_head(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(LONG_VIEW)
    index = CodeIndex(RepoReader(tmp_path))
    cls = index.python_function("views.OrderView")
    assert cls is not None
    head, put = index.view_method(cls, "PUT") or []
    assert (head.start, head.end) == (4, 6)  # the class line and its attributes
    text = ChunkBuilder(Facts(), RepoReader(tmp_path)).excerpt(put)
    assert "order.status = request.data['status']" in text
    # the whole class cut at the excerpt's length never reached the put
    assert "order.status" not in ChunkBuilder(Facts(), RepoReader(tmp_path)).excerpt(cls)
    assert index.view_method(cls, "DELETE") is None  # not its own: the class
