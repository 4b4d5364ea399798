"""Python ``facts.sinks`` come from the claim catalog's matches (``dataflow.sink_facts``).

Adding a sink is one catalog row: the row that makes the engine follow a call also lists
the call as a sink fact, with ``dynamic`` saying whether its dangerous value is provably
constant.
"""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.claims import REGISTRY
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow, Sink

APP = """\
import os
import subprocess
import requests
from flask import Flask, redirect, request, url_for

app = Flask(__name__)


class Jobs:
    def run(self, name):
        subprocess.run(["tar", "-xf", name])
        subprocess.run("tar -xf " + name, shell=True)


@app.route("/go")
def go():
    os.remove(os.path.join("/tmp", "fixed.txt"))
    requests.get(url=request.args["u"], timeout=3)
    requests.request("GET", request.args["v"])
    if request.args.get("x"):
        return redirect(url_for("home"))
    return redirect(request.args["next"])
"""


def _extract(files: dict[str, str]) -> dict[str, object]:
    out = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            out[path] = got
    return out


def _by_line(sinks: list[Sink]) -> dict[int, Sink]:
    return {s.location.line: s for s in sinks}


def test_sink_facts_are_the_catalog_matches() -> None:
    sinks = _by_line(dataflow.sink_facts(_extract({"web/app.py": APP})))
    assert sinks[11].kind == "command" and not sinks[11].dynamic  # argv, fixed program
    assert sinks[12].kind == "command" and sinks[12].dynamic
    assert sinks[12].handler == "web.app.Jobs.run" and sinks[12].handler_line == 10
    assert sinks[17] == Sink(
        kind="file",
        call="os.remove",
        dynamic=False,  # a path built from constants only
        location=sinks[17].location,
        handler="web.app.go",
        handler_line=16,
    )
    assert sinks[18].kind == "http_request" and sinks[18].dynamic  # the URL by keyword
    assert sinks[19].kind == "http_request" and sinks[19].dynamic  # the URL second
    assert sinks[21].kind == "redirect" and not sinks[21].dynamic  # url_for of a constant
    assert sinks[22].call == "flask.redirect" and sinks[22].dynamic
    assert set(sinks) == {11, 12, 17, 18, 19, 21, 22}


def test_a_url_passed_by_keyword_or_second_is_followed() -> None:
    flows: list[Flow] = dataflow.flows(_extract({"web/app.py": APP}))
    ssrf = {f.sink_location.line for f in flows if f.claim == "ssrf" and proves(f)}
    assert ssrf == {18, 19}


def test_every_sink_fact_kind_is_declared_once() -> None:
    facts = [s.sink_fact for s in REGISTRY.values() if s.sink_fact]
    assert len(facts) == len(set(facts))
    assert set(facts) == {
        *("sql", "command", "eval", "deserialize", "http_request", "redirect", "template"),
        "file",
    }
