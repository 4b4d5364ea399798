"""Redirect targets Python code puts together from a URL's parts: a query, params or
fragment that ``urlunparse`` / ``urlunsplit`` writes after its ``?``, ``;`` or ``#``
cannot choose the host (the scheme, host and path still can), and Django's host check
works the same from its standalone packages."""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves

HEAD = """
from urllib.parse import urlparse, urlunparse, urlencode, parse_qs, urlunsplit
from flask import Flask, request, redirect
from safe_redirect_url import url_has_allowed_host_and_scheme
from is_safe_url import is_safe_url
app = Flask(__name__)
"""


def redirect_lines(body: str) -> set[int]:
    """The lines (of ``body``, from 1) where a proved open redirect ends."""
    text = HEAD + textwrap.dedent(body)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    offset = HEAD.count("\n")
    flows = dataflow.flows({"app.py": extract}) if extract else []
    found = [x for x in flows if x.claim == "open_redirect" and proves(x)]
    return {x.sink_location.line - offset for x in found}


def test_the_query_of_a_url_put_back_together_does_not_choose_its_host() -> None:
    body = """
    def add_query(url, **kwargs):
        scheme, netloc, path, params, query, fragment = urlparse(url)
        q = urlencode({**parse_qs(query), **kwargs})
        return urlunparse((scheme, netloc, path, params, q, fragment))

    @app.route("/a")
    def a():
        return redirect(add_query("https://example.com/done", error=request.args.get("e")))

    @app.route("/b")
    def b():
        return redirect(urlunparse(("https", request.args.get("h"), "/", "", "", "")))

    @app.route("/c")
    def c():
        return redirect(urlunsplit(("", "", request.args.get("p"), "", "")))

    @app.route("/d")
    def d():
        return redirect(add_query(request.args.get("next"), error="x"))
    """
    assert redirect_lines(body) == {13, 17, 21}


def test_djangos_host_check_from_its_standalone_packages() -> None:
    body = """
    @app.route("/a")
    def a():
        nxt = request.args.get("next")
        if not url_has_allowed_host_and_scheme(nxt, {"example.com"}):
            return redirect("/")
        return redirect(nxt)

    @app.route("/b")
    def b():
        nxt = request.args.get("next")
        return redirect(nxt if is_safe_url(nxt, {"example.com"}) else "/")

    @app.route("/c")
    def c():
        return redirect(request.args.get("next"))
    """
    assert redirect_lines(body) == {16}


def test_starlettes_url_for_is_this_sites_origin_whatever_its_parameters() -> None:
    text = """
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
app = FastAPI()

@app.get("/a/{slug}")
async def a(request: Request, slug: str):
    return RedirectResponse(str(request.url_for("b", slug=slug)))

@app.get("/c")
async def c(request: Request, next: str):
    return RedirectResponse(next)
"""
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    flows = dataflow.flows({"app.py": extract}) if extract else []
    assert {x.sink_location.line for x in flows if x.claim == "open_redirect" and proves(x)} == {12}


def test_query_parameters_set_on_a_starlette_url_do_not_choose_its_host() -> None:
    text = """
from fastapi import FastAPI, Request
from fastapi.datastructures import URL
from fastapi.responses import RedirectResponse
app = FastAPI()

@app.get("/a")
async def a(request: Request):
    url = URL("https://checkout.example.com/c").include_query_params(**request.query_params)
    return RedirectResponse(url)

@app.get("/b")
async def b(request: Request, to: str):
    return RedirectResponse(URL(to).include_query_params(a="1"))
"""
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    flows = dataflow.flows({"app.py": extract}) if extract else []
    assert {x.sink_location.line for x in flows if x.claim == "open_redirect" and proves(x)} == {14}
