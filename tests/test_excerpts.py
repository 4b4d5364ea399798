"""CodeIndex.python_function resolves the view a Django route names, not the URLconf line.

A Django route's location is its ``path(...)`` line in ``urls.py``; the code an attacker
cares about (and the LLM must see) is the view: a function, a class-based view's class, or
a viewset's action method, named by the route's dotted ``handler``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.code.reader import RepoReader
from threatmodel.config import resolve_settings
from threatmodel.excerpts import CodeIndex, CodeRef
from threatmodel.models import Facts
from threatmodel.scan import ScanOptions, collect_repo_facts

DJANGO = Path(__file__).parent / "fixtures" / "python" / "django_app"


def _def_line(path: Path, head: str) -> int:
    """1-based line of the first line of ``path`` that starts with ``head`` (stripped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(head))


@pytest.mark.parametrize(
    ("handler", "head", "label"),
    [
        ("shop.views.index", "def index(", "a function view"),
        ("shop.views.Dashboard", "class Dashboard(", "a class-based view: the class"),
        ("shop.views.OrderViewSet.cancel", "@action(", "a viewset's own action, decorated"),
        ("shop.views.OrderViewSet.list", "class OrderViewSet(", "an inherited action: the class"),
    ],
)
def test_django_handler_resolves_to_its_view(handler: str, head: str, label: str) -> None:
    ref = CodeIndex(RepoReader(DJANGO)).python_function(handler, near="shop/urls.py")
    assert ref is not None, label
    assert ref.path == "shop/views.py"
    assert ref.start == _def_line(DJANGO / "shop" / "views.py", head), label
    assert ref.end > ref.start or head.startswith("def ")


def test_every_collected_django_route_resolves_to_views_py() -> None:
    facts = collect_repo_facts(
        DJANGO, resolve_settings(DJANGO), ScanOptions(use_cache=False, jobs=1)
    ).facts
    index = CodeIndex(RepoReader(DJANGO))
    routes = [r for r in facts.routes if r.handler.startswith("shop.views.")]
    assert len(routes) >= 10
    for r in routes:
        ref = index.python_function(r.handler, near=r.location.path)
        assert ref is not None, r.id
        assert ref.path == "shop/views.py", r.id
        assert r.location.path.endswith("urls.py")


def test_modules_named_from_a_subfolder_resolve_through_near(tmp_path: Path) -> None:
    """manage.py in ``src/``: modules are named from there, not from the repository root.
    With a second copy side by side (``other/``), the one whose folder holds the routing file
    is the handler."""
    shutil.copytree(DJANGO, tmp_path / "src")
    shutil.copytree(DJANGO, tmp_path / "other")
    index = CodeIndex(RepoReader(tmp_path))
    for near in ("src/shop/urls.py", "other/shop/urls.py"):
        ref = index.python_function("shop.views.account", near=near)
        assert ref is not None
        assert ref.path == near.replace("urls.py", "views.py")
    folder = near.split("/")[0]
    assert ref.start == _def_line(tmp_path / folder / "shop" / "views.py", "@login_required")


def test_unknown_names_resolve_to_nothing() -> None:
    index = CodeIndex(RepoReader(DJANGO))
    assert index.python_function("shop.views.missing", near="shop/urls.py") is None
    assert index.python_function("django.contrib.admin.site", near="project/urls.py") is None
    assert index.python_function("views", near="shop/urls.py") is None


def test_an_excerpt_is_headed_by_the_label_it_is_asked_with(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text("def f():\n    return 1\n")
    builder = ChunkBuilder(Facts(), RepoReader(tmp_path))
    first = builder.excerpt(CodeRef("h.py", 1, 2, "handler GET /a"))
    again = builder.excerpt(CodeRef("h.py", 1, 2, "helper of a flow"))
    assert first.splitlines()[0] == "--- handler GET /a: h.py lines 1-2"
    assert again.splitlines()[0] == "--- helper of a flow: h.py lines 1-2"
    assert first.splitlines()[1:] == again.splitlines()[1:] == ["1|def f():", "2|    return 1"]


def test_a_required_modules_exported_function_is_an_express_handlers_body(
    tmp_path: Path,
) -> None:
    # `const h = require("../core/h")` is an import, not a factory call: `h.show` is the
    # `module.exports.show = function` of that module (CommonJS), as with `exports.show`.
    (tmp_path / "routes").mkdir()
    (tmp_path / "core").mkdir()
    (tmp_path / "routes/web.js").write_text(
        "var router = require('express').Router()\n"
        "var pages = require('../core/pages')\n"
        "router.post('/show', pages.show)\n"
        "router.post('/list', pages.list)\n"
    )
    (tmp_path / "core/pages.js").write_text(
        "var db = require('../models')\n"
        "module.exports.show = function (req, res) {\n"
        "  res.send('ok')\n"
        "}\n"
        "exports.list = (req, res) => {\n"
        "  res.send('ok')\n"
        "}\n"
    )
    index = CodeIndex(RepoReader(tmp_path))
    show = index.js_member_function("routes/web.js", "pages.show")
    listed = index.js_member_function("routes/web.js", "pages.list")
    assert show is not None and (show.path, show.start, show.end) == ("core/pages.js", 2, 4)
    assert listed is not None and (listed.path, listed.start) == ("core/pages.js", 5)
    assert index.js_member_function("routes/web.js", "pages.missing") is None
