"""A handler's URL parameters are request input wherever its route is declared.

The engine marks a parameter as request input only on a function that carries a route
decorator; a handler a route *table* names (Django ``urlpatterns``, Flask ``add_url_rule``,
a class view's verb methods) got nothing for its captures (seventh round, lead's repro).
Link binds each capture to its handler by the converter the route fact records
(``models.Route.params``, ``dataflow.routeparams``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.code.collector import link_order
from threatmodel.code.urlpattern import pattern_converters, regex_converters
from threatmodel.collect.flows_python import GATE
from threatmodel.collect.registry import all_collectors
from threatmodel.config import Settings
from threatmodel.models import Facts
from threatmodel.scan import ScanOptions, collect_repo_facts

DJANGO_VIEWS = """\
from django.db import connection
from django.http import HttpResponse
from django.views import View


def detail(request, name):
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM t WHERE n = '{name}'")
    return HttpResponse("ok")


def by_pk(request, pk):
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM t WHERE id = {pk}")
    return HttpResponse("ok")


def by_word(request, word):
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM t WHERE w = '{word}'")
    return HttpResponse("ok")


def anything(request, rest):
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM t WHERE r = '{rest}'")
    return HttpResponse("ok")


def listing(request, name=None):
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM t WHERE n = '{name}'")
    return HttpResponse("ok")


def read_file(request, fname):
    with open("/srv/files/" + fname) as fh:
        return HttpResponse(fh.read(), content_type="text/plain")


class Detail(View):
    def get(self, request, slug2):
        with connection.cursor() as cur:
            cur.execute(f"SELECT * FROM t WHERE n = '{slug2}'")
        return HttpResponse("ok")
"""

DJANGO_URLS = """\
from django.urls import include, path, re_path
from . import views

urlpatterns = [
    path("d/<str:name>/", views.detail),
    path("e/<str:slug2>/", views.Detail.as_view()),
    re_path(r"^n/(?P<pk>[0-9]+)/$", views.by_pk),
    re_path(r"^w/(?P<word>[-\\w]+)/$", views.by_word),
    re_path(r"^a/(?P<rest>.+)$", views.anything),
    path("list/", views.listing),
    path("f/<fname>/", views.read_file),
    path("org/<org>/", include("app.org_urls")),
]
"""

ORG_VIEWS = """\
from django.db import connection
from django.http import HttpResponse


def members(request, org):
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM m WHERE org = '%s'" % org)
    return HttpResponse("ok")
"""

ORG_URLS = """\
from django.urls import path
from . import org_views

urlpatterns = [path("members/", org_views.members)]
"""

FLASK_VIEWS = """\
import sqlite3
from flask.views import MethodView


class UserAPI(MethodView):
    def get(self, user_id):
        con = sqlite3.connect("x.db")
        return str(con.execute(f"SELECT * FROM users WHERE id = {user_id}").fetchall())


def show(name):
    con = sqlite3.connect("x.db")
    return str(con.execute(f"SELECT * FROM shows WHERE n = '{name}'").fetchall())
"""

FLASK_APP = """\
import sqlite3
from flask import Flask
from flask.views import MethodView
from app.views import UserAPI, show

app = Flask(__name__)


class ItemAPI(MethodView):
    def get(self, item_id):
        con = sqlite3.connect("x.db")
        return str(con.execute(f"SELECT * FROM items WHERE id = {item_id}").fetchall())


class CountAPI(MethodView):
    def get(self, count):
        con = sqlite3.connect("x.db")
        return str(con.execute(f"SELECT * FROM c LIMIT {count}").fetchall())


@app.route("/deco/<name>")
def deco(name):
    con = sqlite3.connect("x.db")
    return str(con.execute(f"SELECT * FROM d WHERE n = '{name}'").fetchall())


app.add_url_rule("/users/<user_id>", view_func=UserAPI.as_view("users"))
app.add_url_rule("/items/<item_id>", view_func=ItemAPI.as_view("items"))
app.add_url_rule("/count/<int:count>", view_func=CountAPI.as_view("count"))
app.add_url_rule("/show/<name>", view_func=show)
"""


def _facts(root: Path, files: dict[str, str]) -> Facts:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    options = ScanOptions(jobs=1, use_cache=False)
    return collect_repo_facts(root, Settings(provider=None, cache_dir=root / ".c"), options).facts


def _sql(facts: Facts) -> dict[str, list[str | None]]:
    """SQL-injection flows from a URL parameter: parameter name -> how each is broken."""
    out: dict[str, list[str | None]] = {}
    for f in facts.flows:
        if f.claim == "sql_injection" and f.source.startswith("parameter "):
            out.setdefault(f.source.removeprefix("parameter "), []).append(f.broken_by)
    return out


@pytest.fixture(scope="module")
def django(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    root = tmp_path_factory.mktemp("dj")
    files = {
        "manage.py": "import django\n",
        "app/__init__.py": "",
        "app/views.py": DJANGO_VIEWS,
        "app/urls.py": DJANGO_URLS,
        "app/org_views.py": ORG_VIEWS,
        "app/org_urls.py": ORG_URLS,
    }
    return _facts(root, files)


@pytest.fixture(scope="module")
def flask(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    root = tmp_path_factory.mktemp("fl")
    files = {"app/__init__.py": "", "app/views.py": FLASK_VIEWS, "app/main.py": FLASK_APP}
    return _facts(root, files)


def test_a_django_function_view_and_a_class_view_take_their_captures_as_input(
    django: Facts,
) -> None:
    sql = _sql(django)
    assert sql["name"] == [None]  # path("d/<str:name>/", views.detail)
    assert sql["slug2"] == [None]  # views.Detail.as_view(): Detail.get's parameter
    assert sql["rest"] == [None]  # re_path group ``.+``: any text
    assert sql["org"] == [None]  # captured by the include's prefix


def test_a_capture_whose_pattern_admits_no_payload_makes_no_flow(django: Facts) -> None:
    sql = _sql(django)
    assert "pk" not in sql  # (?P<pk>[0-9]+)
    assert "word" not in sql  # (?P<word>[-\w]+)
    assert "name" in sql and len(sql["name"]) == 1  # listing()'s name is no capture


def test_a_default_segment_cannot_traverse(django: Facts) -> None:
    reads = [f for f in django.flows if f.claim == "path_traversal" and "fname" in f.source]
    assert reads and all(f.broken_by for f in reads)


def test_the_route_fact_records_each_capture_s_converter(django: Facts) -> None:
    params = {r.path: r.params for r in django.routes}
    assert params["/d/{name}/"] == {"name": "str"}
    assert params["/n/{pk}/"] == {"pk": "scalar"}
    assert params["/a/{rest}"] == {"rest": "path"}
    assert params["/org/{org}/members/"] == {"org": ""}
    assert params["/list/"] == {}


def test_flask_class_views_and_view_functions_named_by_add_url_rule(flask: Facts) -> None:
    sql = _sql(flask)
    assert sql["user_id"] == [None]  # MethodView imported from another module
    assert sql["item_id"] == [None]  # MethodView of the same module
    assert sql["name"] == [None, None]  # add_url_rule(view_func=show) and @app.route
    assert "count" not in sql  # <int:count>


def test_the_decorated_handler_s_flow_is_not_doubled(flask: Facts) -> None:
    line = next(i for i, t in enumerate(FLASK_APP.splitlines(), 1) if "FROM d WHERE" in t)
    deco = [
        f
        for f in flask.flows
        if f.claim == "sql_injection" and f.sink_location.line == line and f.broken_by is None
    ]
    assert len(deco) == 1 and deco[0].source_location.path == "app/main.py"


def test_an_imported_view_class_is_its_own_module_s_with_its_methods(flask: Facts) -> None:
    users = [r for r in flask.routes if r.path == "/users/{user_id}"]
    assert [(r.method, r.handler) for r in users] == [("GET", "app.views.UserAPI")]
    shows = [r.handler for r in flask.routes if r.path == "/show/{name}"]
    assert shows == ["app.views.show"]


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        (r"^d/(?P<pk>[0-9]+)/$", "scalar"),
        (r"^(?P<pk>\d{4})/$", "scalar"),
        (r"^(?P<pk>[-\w]+)/$", "scalar"),
        (r"^(?P<pk>[a-zA-Z0-9_-]+)/$", "scalar"),
        (r"^(?P<pk>[^/]+)/$", ""),
        (r"^(?P<pk>[\w.]+)/$", ""),
        (r"^(?P<pk>[^.]+)/$", "path"),
        (r"^(?P<pk>.+)$", "path"),
        (r"^(?P<pk>[\w/]+)$", "path"),
        (r"^(?P<pk>\S+)$", "path"),
    ],
)
def test_a_regex_group_is_read_for_what_it_can_match(pattern: str, want: str) -> None:
    assert regex_converters(pattern) == {"pk": want}


def test_an_angle_pattern_names_its_converters() -> None:
    assert pattern_converters("/a/<int:id>/<name>/<path:p>") == {
        "id": "int",
        "name": "",
        "p": "path",
    }


RESTX_APP = """\
import sqlite3
from flask import Flask
from flask_restx import Api, Namespace, Resource

app = Flask(__name__)
api = Api(app, prefix="/api")
ns = Namespace("things")
api.add_namespace(ns, "/things")


@ns.route("/<thing>")
class Thing(Resource):
    def get(self, thing):
        con = sqlite3.connect("x.db")
        return str(con.execute(f"SELECT * FROM things WHERE n = '{thing}'").fetchall())


@ns.route("/n/<int:num>")
class Numbered(Resource):
    def get(self, num):
        con = sqlite3.connect("x.db")
        return str(con.execute(f"SELECT * FROM things LIMIT {num}").fetchall())
"""

DRF_VIEWS = """\
from django.db import connection
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response


class NoteViewSet(viewsets.ViewSet):
    def retrieve(self, request, pk=None):
        with connection.cursor() as cur:
            cur.execute(f"SELECT * FROM notes WHERE id = '{pk}'")
        return Response({})


class TagViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\\d+"

    def retrieve(self, request, pk=None):
        with connection.cursor() as cur:
            cur.execute(f"SELECT * FROM tags WHERE id = '{pk}'")
        return Response({})
"""

DRF_URLS = """\
from django.urls import include, path
from rest_framework.routers import DefaultRouter
from . import views

router = DefaultRouter()
router.register("notes", views.NoteViewSet, basename="note")
router.register("tags", views.TagViewSet, basename="tag")

urlpatterns = [path("api/", include(router.urls))]
"""


def test_a_restx_resource_s_methods_take_their_captures(tmp_path: Path) -> None:
    facts = _facts(tmp_path, {"app.py": RESTX_APP})
    assert _sql(facts) == {"thing": [None]}  # and <int:num> makes none
    assert {r.path: r.params for r in facts.routes}["/api/things/{thing}"] == {"thing": ""}


def test_a_drf_view_set_s_lookup_is_one_segment_unless_its_regex_says_less(
    tmp_path: Path,
) -> None:
    files = {"manage.py": "import django\n", "app/__init__.py": ""}
    facts = _facts(tmp_path, {**files, "app/views.py": DRF_VIEWS, "app/urls.py": DRF_URLS})
    params = {r.path: r.params for r in facts.routes if r.method == "GET"}
    assert params["/api/notes/{pk}/"] == {"pk": ""}
    assert params["/api/tags/{pk}/"] == {"pk": "scalar"}
    assert _sql(facts) == {"pk": [None]}
    (flow,) = [f for f in facts.flows if f.source == "parameter pk"]
    assert "notes" in DRF_VIEWS.splitlines()[flow.sink_location.line - 1]


THIN_VIEW = """\
from flask.views import MethodView
from app.helpers import launch


class Runner(MethodView):
    def get(self, job):
        return launch(job)
"""


def test_a_thin_method_view_hands_its_capture_to_a_sink_elsewhere(tmp_path: Path) -> None:
    helper = "import os\n\n\ndef launch(job):\n    return os.popen('run ' + job).read()\n"
    main = (
        "from flask import Flask\nfrom app.views import Runner\napp = Flask(__name__)\n"
        'app.add_url_rule("/run/<job>", view_func=Runner.as_view("run"))\n'
    )
    files = {"app/__init__.py": "", "app/helpers.py": helper, "app/views.py": THIN_VIEW}
    files["app/main.py"] = main
    # a verb method's ``def get(`` reads as a call of a sink's name: the flows gate lets
    # every class view's file through
    assert GATE.search(THIN_VIEW.replace("MethodView", "Base")) is not None
    facts = _facts(tmp_path, files)
    cmd = [f for f in facts.flows if f.claim == "command_injection" and f.broken_by is None]
    assert [(f.source, f.sink_location.path) for f in cmd] == [("parameter job", "app/helpers.py")]


def test_flows_python_links_right_after_the_python_routes_and_nothing_moves_earlier() -> None:
    collectors = all_collectors()
    ids = [c.id for c in collectors]
    order = [c.id for c in link_order(collectors)]
    assert order.index("flows_python") == order.index("pyweb") + 1
    # every other collector keeps its id-order place relative to the rest
    assert [i for i in order if i != "flows_python"] == [i for i in ids if i != "flows_python"]
