"""Route parameters judged by their URL converter and their enforced type (dataflow.urlparams):
a single path segment cannot carry a path; an int, a UUID or a slug carries no payload."""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow

FLASK = """from flask import Flask, send_file
import os, subprocess
app = Flask(__name__)
BASE = "/srv/files"


@app.route("/files/<name>")
def one_segment(name):
    return send_file(os.path.join(BASE, name))


@app.route("/raw/<path:rest>")
def any_path(rest):
    return send_file(os.path.join(BASE, rest))


@app.route("/run/<name>")
def segment_into_a_shell(name):
    subprocess.run("convert " + name, shell=True)


@app.route("/items/<int:item_id>")
def numbered(item_id):
    subprocess.run(f"echo {item_id}", shell=True)
"""

FASTAPI = """from uuid import UUID
from fastapi import APIRouter
from fastapi.responses import FileResponse
import subprocess
router = APIRouter()


@router.get("/media/{user_id}/{file_name}")
def media(user_id: UUID, file_name: str):
    return FileResponse(f"/data/{user_id}/{file_name}")


@router.get("/docs/{doc:path}")
def docs(doc: str):
    return FileResponse("/data/docs/" + doc)


@router.get("/convert")
def convert(width: int, name: str):
    subprocess.run(f"convert -w {width} x.png", shell=True)
    subprocess.run(f"convert {name}", shell=True)
"""


def flows(text: str) -> list[Flow]:
    got = dataflow.extract(SourceFile.from_bytes("app.py", textwrap.dedent(text).encode()))
    return dataflow.flows({"app.py": got} if got else {})


def proven_lines(found: list[Flow], kind: str) -> set[int]:
    return {f.sink_location.line for f in found if f.claim == kind and proves(f)}


def test_a_flask_segment_cannot_traverse_but_a_path_converter_can() -> None:
    found = flows(FLASK)
    assert proven_lines(found, "path_traversal") == {14}  # <path:rest>
    broken = next(f for f in found if f.sink_location.line == 9 and f.source_kind == "request")
    assert "one URL path segment" in (broken.broken_by or "")
    # a segment is still text: it reaches a shell as input
    assert 19 in proven_lines(found, "command_injection")
    # <int:...> holds a number: nothing to inject
    assert 24 not in proven_lines(found, "command_injection")


def test_fastapi_types_and_path_parameters() -> None:
    found = flows(FASTAPI)
    assert proven_lines(found, "path_traversal") == {15}  # {doc:path}
    commands = proven_lines(found, "command_injection")
    assert 20 not in commands  # width: int is checked by FastAPI
    assert 21 in commands  # a str query parameter is request text


def test_a_file_read_gives_the_files_content_not_the_callers_input() -> None:
    found = flows(
        """from flask import Flask, request, render_template_string
app = Flask(__name__)


@app.route("/page")
def page():
    name = request.args["name"]
    text = open("/srv/pages/" + name).read()
    return render_template_string(text)
"""
    )
    assert proven_lines(found, "path_traversal") == {8}  # the path is still the caller's
    assert not proven_lines(found, "template_injection")


def test_an_upload_saved_then_read_back_is_still_the_callers() -> None:
    found = flows(
        """from flask import Flask, request
import yaml
app = Flask(__name__)


@app.route("/import", methods=["POST"])
def import_yaml():
    f = request.files["file"]
    path = "/tmp/upload.yaml"
    f.save(path)
    with open(path) as fh:
        data = fh.read()
    return str(yaml.load(data))
"""
    )
    assert proven_lines(found, "insecure_deserialization") == {13}


PATHS = """from flask import Flask, request, redirect
import os
app = Flask(__name__)


@app.route("/fixed", methods=["POST"])
@app.route("/also-fixed")
def fixed():
    os.system("echo " + request.path)


@app.route("/one/<name>")
def variable(name):
    os.system("echo " + request.path)


@app.route("/query")
def with_query():
    os.system("echo " + request.full_path)


@app.errorhandler(404)
def missing(e):
    return redirect(request.path)


def helper():
    os.system("echo " + request.path)


@app.route("/kw")
def keywords(**kw):
    os.system("echo " + request.path)
"""


def test_request_path_is_fixed_only_where_every_route_is_a_fixed_path() -> None:
    # the router matched "/fixed" or "/also-fixed" exactly before ``fixed`` ran; a
    # variable part, the query string, an error handler (any path), a plain function and
    # a handler given keyword parameters (a blueprint prefix's variables) stay input
    flows = [
        f
        for f in dataflow.flows(
            {"app.py": dataflow.extract(SourceFile.from_bytes("app.py", PATHS.encode()))}
        )
        if proves(f)
    ]
    lines = PATHS.splitlines()
    where = {lines[f.sink_location.line - 1].strip() for f in flows}
    functions = set()
    for f in flows:
        above = [x for x in lines[: f.sink_location.line] if x.startswith("def ")]
        functions.add(above[-1].split("(")[0][4:])
    assert functions == {"variable", "with_query", "missing", "helper", "keywords"}
    assert "return redirect(request.path)" in where
