"""Past a test that the request's content type equals one no cross-site page can send
(JSON), what the request carries reaches no victim's browser: no reflected XSS nor open
redirect. A substring test, a form's type, a test on one branch only, or either of two
tests prove nothing."""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves

DJANGO = """
import json
from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST
"""
FLASK = """
from flask import Flask, request, redirect
app = Flask(__name__)
"""


def sink_lines(head: str, body: str, kind: str) -> set[int]:
    """The lines (of ``body``, from 1) where a proved ``kind`` flow ends."""
    text = head + textwrap.dedent(body)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    offset = head.count("\n")
    flows = dataflow.flows({"app.py": extract}) if extract else []
    return {x.sink_location.line - offset for x in flows if x.claim == kind and proves(x)}


def test_a_webhook_that_only_takes_json_reflects_into_no_victims_page() -> None:
    body = """
    def answer(message):
        return HttpResponse(message, status=200)

    @require_POST
    def hook(request, secret=None):
        if request.content_type != "application/json":
            return answer("only application/json supported")
        parsed = json.loads(request.body.decode("utf-8"))
        if parsed.get("event") not in {"a", "b"}:
            return answer(f"unknown event {parsed.get('event')}")
        return answer(secret)

    @require_POST
    def form(request):
        parsed = json.loads(request.body.decode("utf-8"))
        return answer(f"unknown event {parsed.get('event')}")
    """
    assert sink_lines(DJANGO, body, "xss") == {3}
    text = DJANGO + textwrap.dedent(body)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    flows = dataflow.flows({"app.py": extract}) if extract else []
    starts = {x.source_location.line - DJANGO.count("\n") for x in flows if proves(x)}
    assert starts == {15}  # only the handler without the test


def test_what_does_not_prove_the_type_keeps_the_flow() -> None:
    body = """
    def a(request):
        if "application/json" not in request.content_type:
            return HttpResponse("no")
        return HttpResponse(request.body)

    def b(request):
        if request.content_type != "text/plain":
            return HttpResponse("no")
        return HttpResponse(request.body)

    def c(request):
        if request.content_type == "application/json":
            pass
        return HttpResponse(request.body)

    def d(request):
        if request.content_type == "application/json" or request.GET.get("x"):
            return HttpResponse(request.body)
        return HttpResponse("no")

    def e(request):
        if request.META.get("CONTENT_TYPE") != "application/json":
            return HttpResponse("no")
        return HttpResponse(request.body)
    """
    assert sink_lines(DJANGO, body, "xss") == {5, 10, 15, 19}  # e: META is the header


def test_flask_is_json_and_a_header_read_before_the_test() -> None:
    body = """
    @app.route("/a", methods=["POST"])
    def a():
        nxt = request.args.get("next")
        if not request.is_json:
            return "no"
        return redirect(nxt)

    @app.route("/b", methods=["POST"])
    def b():
        if request.headers["Content-Type"] == "application/json":
            return redirect(request.get_json()["next"])
        return redirect(request.args.get("next"))
    """
    assert sink_lines(FLASK, body, "open_redirect") == {13}
