"""Rows scoped to the caller, reached directly or through a registry (rows.py).

A view whose query comes from ``list_notes("view")``, which runs the function registered
under ``"note.list"`` (a permission-scoped filter: nothing for anonymous callers, all for
superusers, else the caller's projects' rows), is ``restricted``. A key nobody registers,
and a plain "my own rows" filter, are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect import collect_facts
from threatmodel.models import Route

FILES = {
    "app/models.py": """\
from django.db import models


class Note(models.Model):
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
""",
    "app/queries.py": """\
try:
    from app.registry import get_filter
except ImportError:
    def get_filter(key): return None

from app.models import Note


def list_notes(permission):
    impl = get_filter("note.list")
    if impl:
        return impl(permission)
    return Note.objects.all()


def list_tags(permission):
    impl = get_filter("tag.list")
    if impl:
        return impl(permission)
    return Note.objects.all()
""",
    "app/registry.py": """\
_REG = {}


def register_filter(key, fn):
    _REG[key] = fn


def get_filter(key):
    return _REG.get(key)
""",
    "app/scoped.py": """\
from crum import get_current_user

from app.models import Note
from app.registry import register_filter


def _resolve_user(user):
    return user if user is not None else get_current_user()


def _notes(permission, user=None):
    user = _resolve_user(user)
    if user is None or user.is_anonymous:
        return Note.objects.none()
    if user.is_superuser:
        return Note.objects.all()
    return Note.objects.filter(project__members=user)


register_filter("note.list", _notes)
""",
    "app/urls.py": """\
from django.urls import path

from app import views

urlpatterns = [
    path("notes", views.notes),
    path("tags", views.tags),
    path("mine", views.mine),
]
""",
    "app/views.py": """\
from django.http import JsonResponse

from app.models import Note
from app.queries import list_notes, list_tags


def notes(request):
    rows = list_notes("view").order_by("id")
    return JsonResponse({"n": rows.count()})


def tags(request):
    rows = list_tags("view")
    return JsonResponse({"n": rows.count()})


def mine(request):
    rows = Note.objects.filter(owner=request.user)
    return JsonResponse({"n": rows.count()})
""",
}


def _routes(root: Path, files: dict[str, str]) -> dict[str, Route]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    facts = collect_facts(root, sorted(files), cache=None, jobs=1).facts
    return {r.path: r for r in facts.routes}


def test_registered_scoped_filter_restricts(tmp_path: Path) -> None:
    routes = _routes(tmp_path, FILES)
    notes = routes["/notes"].auth
    assert notes.status.value == "restricted"
    assert notes.mechanism == "call list_notes() (rows filtered by the caller)"
    assert [(e.path, e.start_line) for e in notes.evidence] == [("app/views.py", 8)]


@pytest.mark.parametrize("path", ["/tags", "/mine"])
def test_unregistered_key_and_own_rows_do_not(tmp_path: Path, path: str) -> None:
    assert _routes(tmp_path, FILES)[path].auth.status.value == "public"


def test_filter_without_a_caller_branch_is_no_scope(tmp_path: Path) -> None:
    """Filtered by the caller alone (no answer that differs by who asks): own rows."""
    files = dict(FILES)
    scoped = files["app/scoped.py"]
    files["app/scoped.py"] = scoped.replace(
        "    if user is None or user.is_anonymous:\n        return Note.objects.none()\n", ""
    ).replace("    if user.is_superuser:\n        return Note.objects.all()\n", "")
    assert files["app/scoped.py"] != scoped
    assert _routes(tmp_path, files)["/notes"].auth.status.value == "public"


def test_registrar_from_another_module_is_not_paired(tmp_path: Path) -> None:
    """The key is registered with some other registry: the getter never returns it."""
    files = dict(FILES)
    files["app/other.py"] = "def register_filter(key, fn):\n    pass\n"
    files["app/scoped.py"] = files["app/scoped.py"].replace(
        "from app.registry import register_filter", "from app.other import register_filter"
    )
    assert _routes(tmp_path, files)["/notes"].auth.status.value == "public"


MORE_VIEWS = """
from django.http import JsonResponse
from django.views import View

from app.queries import list_notes


def calendar(request):
    if "lead" in request.GET:
        rows = list_notes("view").filter(lead=request.GET["lead"])
    else:
        rows = list_notes("view")
    return JsonResponse({"n": rows.count()})


def one_arm(request):
    if "lead" in request.GET:
        rows = list_notes("view")
    else:
        rows = []
    return JsonResponse({"n": len(rows)})


def exported(request):
    return wrap(request).qs


def wrap(request):
    return list_notes("view").order_by("id")


class NoteDetail(View):
    def get_queryset(self):
        return list_notes("view")

    def get(self, request, pk):
        note = self.get_object()
        return JsonResponse({"id": note.id})
"""
MORE_URLS = """
from django.urls import path

from app import more

urlpatterns = [
    path("calendar", more.calendar),
    path("one_arm", more.one_arm),
    path("exported", more.exported),
    path("note/<int:pk>", more.NoteDetail.as_view()),
]
"""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/calendar", "restricted"),  # every arm of the if/else makes the call
        ("/one_arm", "public"),  # one arm only: some requests get no scoped rows
        ("/exported", "restricted"),  # wrap(request).qs: wrap runs first
        ("/note/{pk}", "restricted"),  # get_object() looks pk up in get_queryset()
    ],
)
def test_calls_on_every_path(tmp_path: Path, path: str, status: str) -> None:
    files = dict(FILES)
    files["app/more.py"] = MORE_VIEWS
    files["app/urls.py"] = MORE_URLS
    routes = _routes(tmp_path, files)
    assert routes[path].auth.status.value == status
