"""Two ways a shell command built from a request was lost (found on an unseen FastAPI app,
Damn-Vulnerable-RESTaurant): a call spelled from a folder below the repository's root
(``from apis.admin.utils import ...`` of ``app/apis/admin/utils.py``) was never followed
for its parameters, and ``subprocess.run(cmd, shell=True)`` was called safe by the catalog
row for ``args=``, a keyword the call does not pass."""

from __future__ import annotations

from tests.test_dataflow import run
from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.models import Flow

HELPER = """\
import subprocess


def disk_usage(parameters):
    command = "df -h " + parameters
    result = subprocess.run(
        command, stdout=subprocess.PIPE, shell=True
    )
    return result.stdout
"""
VIEW = """\
from flask import Flask, request
from apis.admin.utils import disk_usage

app = Flask(__name__)


@app.get("/disk")
def disk():
    return disk_usage(request.args["parameters"])
"""


def _flows(files: dict[str, str]) -> list[Flow]:
    extracts = {p: dataflow.extract(SourceFile.from_bytes(p, t.encode())) for p, t in files.items()}
    return dataflow.flows(extracts, files=[*files, "app/apis/__init__.py"])


def test_a_call_spelled_from_a_sub_root_reaches_its_sink() -> None:
    files = {"app/apis/admin/utils.py": HELPER, "app/apis/admin/views.py": VIEW}
    got = [f for f in _flows(files) if f.claim == "command_injection"]
    assert [
        (f.source_kind, f.sink_location.path, f.sink_location.line, f.broken_by) for f in got
    ] == [("request", "app/apis/admin/utils.py", 6, None)]


def test_a_shell_command_is_not_called_safe_by_an_absent_keyword() -> None:
    flows = run(
        """
        @app.post("/x")
        def view():
            cmd = "df -h " + request.args["p"]
            return subprocess.run(cmd, stdout=subprocess.PIPE, shell=True)
        """
    )
    cmd = [f for f in flows if f.claim == "command_injection"]
    assert cmd and all(f.source_kind == "request" and f.broken_by is None for f in cmd)
    # an argument list without a shell is still the safe call it was
    safe = run(
        """
        @app.post("/x")
        def view():
            return subprocess.run(["df", "-h", request.args["p"]])
        """
    )
    kept = [f for f in safe if f.claim == "command_injection"]
    assert kept and all(f.broken_by for f in kept)
