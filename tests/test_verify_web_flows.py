"""xss, ssrf and open_redirect claims are decided by flows, like sql and command injection.

The line verifier answers only where no flow of the engine touches the cited line. A URL
whose constant start fixes scheme and host (or a local path) is no SSRF / open redirect,
and a returned redirect response is no HTML page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.models import Claim, Facts, Finding, Location, Severity, Verdict
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext, all_verifiers

APP = """\
from flask import Flask, request, redirect, make_response, url_for
from html import escape
import requests

app = Flask(__name__)


@app.route("/a")
def a():
    requests.get(request.args["u"])
    requests.get("https://api.example.com/v1/" + request.args["p"])
    return redirect(request.args["next"])


@app.route("/b")
def b():
    flag = 1
    requests.post(url=f"https://hooks.example.com/{request.args['h']}")
    return redirect(url_for("home"))


@app.route("/c")
def c():
    return make_response("<p>" + request.args["q"] + "</p>")


@app.route("/d")
def d():
    return make_response("<p>" + escape(request.args["q"]) + "</p>")


def fetch(url):
    return requests.get(url)


@app.route("/e")
def e():
    return redirect("/items/" + request.args["i"])
"""


@pytest.fixture
def ctx(tmp_path: Path) -> VerifyContext:
    (tmp_path / "app.py").write_text(APP)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", APP.encode()))
    assert extract is not None
    facts = Facts(flows=dataflow.flows({"app.py": extract}))
    return VerifyContext(facts=facts, reader=RepoReader(tmp_path))


def _verdict(ctx: VerifyContext, kind: str, line: int) -> tuple[Verdict, str]:
    claim = Claim(kind=kind, location=Location(path="app.py", line=line))  # type: ignore[arg-type]
    finding = Finding(
        title="t", severity=Severity.HIGH, stride=[], source="external", claims=[claim]
    )
    got = all_verifiers()[kind].verify(claim, finding, ctx)
    assert got == judge(kind, claim, finding, ctx)  # the registered verifier reads flows
    return got.verdict, got.reason


@pytest.mark.parametrize(("kind", "line"), [("ssrf", 10), ("open_redirect", 12), ("xss", 24)])
def test_request_value_reaching_the_sink_is_confirmed_by_its_flow(
    ctx: VerifyContext, kind: str, line: int
) -> None:
    verdict, reason = _verdict(ctx, kind, line)
    assert verdict is Verdict.CONFIRMED
    assert reason.startswith("request.args (line ") and f"at line {line}" in reason


@pytest.mark.parametrize(
    ("kind", "line", "why"),
    [
        ("ssrf", 11, "scheme and host are fixed"),
        ("ssrf", 18, "scheme and host are fixed"),  # the URL by keyword, an f-string
        ("open_redirect", 19, "receives a constant value"),
        ("open_redirect", 38, "scheme and host are fixed"),  # a local path first
        ("xss", 29, "made safe by html.escape"),
    ],
)
def test_broken_flows_refute_with_the_break(
    ctx: VerifyContext, kind: str, line: int, why: str
) -> None:
    verdict, reason = _verdict(ctx, kind, line)
    assert verdict is Verdict.REFUTED
    assert why in reason


def test_a_returned_redirect_is_no_html_page(ctx: VerifyContext) -> None:
    assert not [f for f in ctx.facts.flows if f.claim == "xss" and f.sink_location.line == 12]


def test_the_line_verifier_answers_where_no_flow_touches_the_line(ctx: VerifyContext) -> None:
    # line 17 holds no call: the line verifier reads the calls near it (its own wording)
    verdict, reason = _verdict(ctx, "ssrf", 17)
    assert verdict is Verdict.REFUTED and "always requests host https://hooks" in reason
    # a helper's parameter: no flow reaches it from a source; the line verifier cannot say
    verdict, reason = _verdict(ctx, "ssrf", 33)
    assert verdict is Verdict.UNVERIFIABLE and "not traceable" in reason


def test_a_django_file_template_rendered_to_a_string_is_escaped(tmp_path: Path) -> None:
    code = (
        "from django.http import HttpResponse\n"
        "from django.template.loader import render_to_string\n\n\n"
        "def signup(request):\n"
        "    name = request.POST['name']\n"
        "    rendered = render_to_string('ok.html', {'name': name})\n"
        "    return HttpResponse(rendered)\n"
    )
    extract = dataflow.extract(SourceFile.from_bytes("views.py", code.encode()))
    flows = dataflow.flows({"views.py": extract})
    xss = [f for f in flows if f.claim == "xss" and f.sink_location.line == 8]
    assert xss and all(f.broken_by == "django.template.loader.render_to_string" for f in xss)
