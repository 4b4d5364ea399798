"""Methods reached through ``self`` and a search loop's allow-list (issue 18).

A FastAPI-style controller calls ``self.svc.export(...)`` where ``svc`` is a property built
from a service class of another module; the service builds a renderer and calls its
``render``, which checks the name with ``self.kind_of(name)``: a search loop over the
installed formats that raises when nothing matched. The name is then checked on every way
to the file it serves. Without the loop's raise (or with a pool the caller chose) the flow
stays; a method the engine cannot resolve leaves the flow for review, not confirmed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves, unbroken
from threatmodel.models import Claim, Facts, Finding, Flow, Location, Severity, Verdict
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext

RENDER = """
import os
from pathlib import Path


class Renderer:
    def __init__(self, out: Path) -> None:
        self.out = out

    @property
    def formats(self) -> dict[str, list[str]]:
        return {"text": os.listdir("/srv/formats"), "raw": ["raw"]}

    def kind_of(self, name: str) -> str:
        found = None
        for key, names in self.formats.items():
            if name in names:
                found = key
                break
        if found is None:
            raise ValueError(name)
        return found

    def render(self, name: str) -> Path:
        kind = self.kind_of(name)
        return self._write(name, kind)

    def _write(self, name: str, kind: str) -> Path:
        return self.out / name
"""

SERVICE = """
from pathlib import Path

from app.render import Renderer


class Service:
    def export(self, folder: Path, name: str) -> Path:
        return Renderer(folder).render(name)
"""

ROUTES = """
from functools import cached_property

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.service import Service

router = APIRouter()


class Base:
    @cached_property
    def svc(self) -> Service:
        return Service()


class Exports(Base):
    @router.get("/things/{key}/exports")
    def export(self, key: str, name: str):
        path = self.svc.export("/tmp/out", name)
        return FileResponse(path)
"""


def _flows(files: dict[str, str]) -> list[Flow]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    return dataflow.flows(extracts)


def _paths(files: dict[str, str]) -> list[Flow]:
    return [
        f
        for f in _flows(files)
        if f.claim == "path_traversal" and f.source_kind == "request" and f.source_location.line
    ]


def _app(render: str = RENDER, service: str = SERVICE, routes: str = ROUTES) -> dict[str, str]:
    return {"app/render.py": render, "app/service.py": service, "app/routes.py": routes}


def test_a_search_loop_check_reached_through_self_attributes_breaks_the_flow() -> None:
    flows = _paths(_app())
    assert flows, "the request value still reaches the sink (as a broken flow)"
    assert not [f for f in flows if proves(f)]
    assert all(f.broken_by for f in flows if f.sink_location.path == "app/routes.py")


@pytest.mark.parametrize(
    "render",
    [
        # no raise after the loop: a name that matched nothing goes on
        RENDER.replace("        if found is None:\n            raise ValueError(name)\n", ""),
        # the loop may also end without a break: ``found`` says nothing of the name
        RENDER.replace("                break\n", ""),
        # the pool is the caller's
        RENDER.replace("self.formats.items()", "{'x': [name]}.items()"),
    ],
)
def test_without_the_proof_the_flow_stays(render: str) -> None:
    flows = _paths(_app(render=render))
    assert [f for f in flows if proves(f) and f.sink_location.path == "app/routes.py"]


def test_an_overridden_method_is_not_resolved_to_the_base_one() -> None:
    # a subclass's render checks nothing: the object may be either class
    render = RENDER + (
        "\n\nclass Loose(Renderer):\n    def kind_of(self, name: str) -> str:\n"
        "        return 'text'\n"
    )
    flows = _paths(_app(render=render))
    assert [f for f in flows if unbroken(f) and f.sink_location.path == "app/routes.py"]


def test_a_repository_method_link_cannot_resolve_leaves_the_flow_for_review() -> None:
    # ``self.svc.export`` names a method the service class (all of whose bases are the
    # repository's) does not define: the flow is not proof, and names the call
    service = SERVICE.replace("def export(", "def export_all(")
    flows = [f for f in _paths(_app(service=service)) if f.sink_location.path == "app/routes.py"]
    assert flows and all(unbroken(f) and not proves(f) for f in flows)
    assert any("Exports.svc.export" in c for f in flows for c in f.unresolved)


def test_a_library_base_method_is_passed_through_as_before() -> None:
    # ``self.svc`` of a class built on a library base: its unknown method is the library's
    service = SERVICE.replace(
        "class Service:", "import requests\n\n\nclass Service(requests.Session):"
    )
    service = service.replace("def export(", "def export_all(")
    flows = [f for f in _paths(_app(service=service)) if f.sink_location.path == "app/routes.py"]
    assert [f for f in flows if proves(f)]


BASE = """
from flask import request

ALLOWED = ("a.txt", "b.txt")


class Base:
    def check(self, name):
        if name not in ALLOWED:
            raise ValueError(name)


class View(Base):
    def get(self):
        n = request.args["n"]
        self.check(n)
        return open("/d/" + n).read()
"""


def test_a_check_inherited_from_a_base_class_sanitizes() -> None:
    flows = _paths({"app/views.py": BASE})
    assert flows and not [f for f in flows if proves(f)]
    unchecked = BASE.replace("        self.check(n)\n", "")
    assert [f for f in _paths({"app/views.py": unchecked}) if proves(f)]


def test_a_function_re_exported_by_a_package_is_resolved() -> None:
    files = {
        "pkg/impl.py": "def clean(name):\n    return 'fixed.txt'\n",
        "pkg/__init__.py": "from pkg.impl import clean\n",
        "app/views.py": "from flask import request\nfrom pkg import clean\n\n"
        "@app.route('/x')\ndef view():\n    return open(clean(request.args['n'])).read()\n",
    }
    assert not [f for f in _paths(files) if unbroken(f)]


def test_a_search_loop_with_continue_proves_nothing() -> None:
    render = RENDER.replace(
        "            if name in names:\n",
        "            if not names:\n                continue\n            if name in names:\n",
    )
    flows = _paths(_app(render=render))
    assert [f for f in flows if proves(f) and f.sink_location.path == "app/routes.py"]


def test_the_verifier_keeps_an_unresolved_flow_for_review_naming_the_call(tmp_path: Path) -> None:
    service = SERVICE.replace("def export(", "def export_all(")
    files = _app(service=service)
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text))
    ctx = VerifyContext(facts=Facts(flows=_flows(files)), reader=RepoReader(tmp_path))
    claim = Claim(kind="path_traversal", location=Location(path="app/routes.py", line=22))  # type: ignore[arg-type]
    finding = Finding(title="t", severity=Severity.HIGH, stride=[], source="rule", claims=[claim])
    got = judge("path_traversal", claim, finding, ctx)
    assert got.verdict is Verdict.UNVERIFIABLE
    assert "Exports.svc.export()" in got.reason and "could not resolve" in got.reason
    # resolved, the same route's flow is broken by the check: refuted
    files = _app()
    ctx = VerifyContext(facts=Facts(flows=_flows(files)), reader=RepoReader(tmp_path))
    assert judge("path_traversal", claim, finding, ctx).verdict is Verdict.REFUTED


def test_a_method_of_a_parameter_annotated_with_a_repository_class_is_resolved() -> None:
    checker = (
        "ALLOWED = ('a.txt', 'b.txt')\n\n\nclass Checker:\n    def check(self, name):\n"
        "        if name not in ALLOWED:\n            raise ValueError(name)\n"
    )
    view = (
        "from fastapi import APIRouter, Depends\nfrom fastapi.responses import FileResponse\n"
        "from app.checker import Checker\n\nrouter = APIRouter()\n\n\n"
        "@router.get('/files')\ndef files(name: str, checker: Checker = Depends(Checker)):\n"
        "    checker.check(name)\n    return FileResponse('/srv/' + name)\n"
    )
    files = {"app/checker.py": checker, "app/views.py": view}
    assert _paths(files) and not [f for f in _paths(files) if proves(f)]
    loose = {**files, "app/views.py": view.replace("    checker.check(name)\n", "")}
    assert [f for f in _paths(loose) if proves(f)]
