"""The framework registry: every folder is registered, its modules exist, and the dataflow
engine starts from the request sources the frameworks declare."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest

import threatmodel.frameworks as package
from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.collect.pyweb import FRAMEWORKS as PYWEB
from threatmodel.collect.registry import all_collectors
from threatmodel.frameworks.base import Framework, RequestSources
from threatmodel.frameworks.registry import FRAMEWORKS, request_sources
from threatmodel.models import Flow

PYTHON = request_sources("python")


def test_every_framework_folder_is_registered() -> None:
    folders = {
        p.name
        for p in Path(package.__path__[0]).iterdir()
        if (p / "__init__.py").exists() and not p.name.startswith("_")
    }
    # a folder may declare more than one framework (graphql: Python and JS schemas)
    assert folders == {fw.routes.split(".")[2] for fw in FRAMEWORKS}


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=lambda fw: fw.name)
def test_a_framework_names_modules_that_exist(fw: Framework) -> None:
    for module in (fw.routes, *fw.guards):
        assert importlib.import_module(module).__name__ == module
    assert fw.language in ("python", "javascript", "openapi")


def test_each_framework_is_run_by_its_collector() -> None:
    ids = {c.id for c in all_collectors()}
    assert {fw.collector for fw in FRAMEWORKS} <= ids
    # The Python web collector dispatches to exactly the registry's Python frameworks.
    python = [fw.name for fw in FRAMEWORKS if fw.collector == "pyweb" and fw.language == "python"]
    assert list(PYWEB) == python == ["flask", "fastapi", "django", "aiohttp", "graphql"]


def flows(text: str) -> list[Flow]:
    got = dataflow.extract(SourceFile.from_bytes("app.py", textwrap.dedent(text).encode()))
    return dataflow.flows({"app.py": got} if got else {})


def kinds(text: str) -> set[str]:
    return {f.claim for f in flows(text) if f.source_kind == "request"}


@pytest.mark.parametrize("obj", sorted(PYTHON.objects))
def test_a_declared_request_object_is_a_source(obj: str) -> None:
    module, _, name = obj.rpartition(".")
    code = f"import os\nfrom {module} import {name}\ndef f():\n    os.system({name}.args['d'])\n"
    assert "command_injection" in kinds(code)


@pytest.mark.parametrize("cls", sorted(PYTHON.types))
def test_a_declared_request_type_makes_a_parameter_the_request(cls: str) -> None:
    code = f"import os\ndef view(r: {cls}):\n    os.system(r.GET['d'])\n"
    assert "command_injection" in kinds(code)


@pytest.mark.parametrize("deco", sorted(PYTHON.route_decorators))
def test_a_route_decorator_makes_parameters_input(deco: str) -> None:
    code = f"import os\n@app.{deco}('/x')\ndef view(d):\n    os.system(d)\n"
    assert "command_injection" in kinds(code)
    injected = f"import os\n@app.{deco}('/x')\ndef view(d=Depends(get_d)):\n    os.system(d)\n"
    assert "command_injection" not in kinds(injected)


def test_an_undeclared_object_is_not_a_source() -> None:
    assert not kinds("import os\nfrom mylib import request\ndef f():\n    os.system(request.x)\n")


def test_sources_union() -> None:
    a = RequestSources(objects=frozenset({"a.request"}), types=frozenset({"Req"}))
    b = RequestSources(types=frozenset({"ReqBase"}), injected=frozenset({"Depends"}))
    both = a.union(b)
    assert both.objects == {"a.request"} and both.types == {"Req", "ReqBase"}
    assert both.types_pattern().search("x: ReqBase") and not both.types_pattern().search("Reqs")
    assert both.injects("Depends(get_user)") and not a.injects("Depends(get_user)")
    assert not RequestSources().types_pattern().search("Request")
