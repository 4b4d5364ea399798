"""Only input that can start a redirect's URL makes it an open redirect (``urlhead``).

Input after a ``?`` or ``#`` (whatever configured text comes first), after a local path or
after a fixed host cannot change where the browser goes, including when the URL is built
in a variable or a helper first. The request's own path, read where a route matched
(a route handler, a class view's ``post``, a Django ``process_exception`` hook, a view
decorator's wrapper), is a path of the site; read in an error handler or a middleware's
``__call__`` (which also run for ``//evil.example``) it stays input, and the request
object handed to a helper keeps its attributes' names. ``redirect(request.args["next"])``
stays one. The JavaScript engine builds templates and ``+`` the same way
(``new URL(`/marketplace/${x}`, req.url)``).
"""

from __future__ import annotations

import textwrap

from js_support import js_flows

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves


def _confirmed(path: str, code: str) -> set[str]:
    """The functions whose open redirect flow is proven."""
    text = textwrap.dedent(code)
    got = dataflow.extract(SourceFile.from_bytes(path, text.encode()))
    lines = text.splitlines()
    out = set()
    for f in dataflow.flows({path: got} if got else {}):
        if f.claim == "open_redirect" and proves(f):
            above = [
                x
                for x in lines[: f.sink_location.line]
                if x.lstrip().startswith(("def ", "async def "))
            ]
            out.add(above[-1].split("(")[0].split("def ")[1])
    return out


QUERY = """
from urllib.parse import quote, urlparse

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse


def login_next(request):
    return HttpResponseRedirect(f"{settings.LOGIN_URL}?next={quote(request.GET['n'])}")


def product_query(request):
    pid = request.POST.get("p")
    return HttpResponseRedirect(reverse("endpoint") + f"?product={pid}")


def _referer_qs(request):
    parsed = urlparse(request.headers.get("Referer", ""))
    if parsed.query:
        return "?" + parsed.query
    return ""


def keep_filters(request):
    url = reverse("checks")
    url += _referer_qs(request)
    return redirect(url)


def local_path(request):
    url = "/items/" + request.GET["id"]
    return redirect(url)


def fragment(request):
    return redirect(settings.HOME + "#" + request.GET["tab"])


def config_then_input(request):
    return redirect(settings.HOME + request.GET["rest"])


def slash_then_input(request):
    return redirect("/" + request.GET["rest"])


def whole(request):
    return redirect(request.GET["next"])


def referer(request):
    return redirect(request.headers.get("Referer"))
"""


def test_input_after_a_query_mark_or_a_local_path_cannot_move_the_browser() -> None:
    assert _confirmed("views.py", QUERY) == {
        "config_then_input",  # the configured start may be "" or end anywhere
        "slash_then_input",  # "/" + "/evil.example" is "//evil.example"
        "whole",
        "referer",
    }


OWN_PATH = """
from functools import wraps

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from flask import Flask, request as flask_request, redirect as flask_redirect

app = Flask(__name__)


class MaintenanceMiddleware:
    def process_exception(self, request, exception):
        return HttpResponseRedirect(request.path_info)

    def __call__(self, request):
        return HttpResponseRedirect(request.get_full_path())


def _unsign(request, key):
    if key not in request.session:
        return None
    return request.session[key]


def sudo(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # the request object handed to a helper keeps its attributes' names
        ours = _unsign(request, "code")
        if ours and ours == request.POST["code"]:
            return redirect(request.path)
        if "back" in request.GET:
            return redirect(request.GET["back"])
        return view(request, *args, **kwargs)

    return wrapper


class EditView:
    def post(self, request):
        url = request.path
        if "more" in request.POST:
            url += "?" + request.POST["more"]
        return redirect(url)

    def render_error(self, request):
        return redirect(request.path_info)


@app.route("/items/<int:item>")
def item(item):
    return flask_redirect(flask_request.full_path)


@app.errorhandler(404)
def missing(e):
    return flask_redirect(flask_request.path)


@app.route("/go")
def go():
    return flask_redirect(flask_request.args["next"])
"""


def test_the_request_own_path_is_a_local_url_only_where_a_route_matched() -> None:
    assert _confirmed("app.py", OWN_PATH) == {
        "__call__",
        "render_error",  # a helper method: called from anywhere
        "wrapper",
        "missing",
        "go",
    }
    text = textwrap.dedent(OWN_PATH)
    got = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    lines = text.splitlines()
    sinks = {
        lines[f.sink_location.line - 1].strip()
        for f in dataflow.flows({"app.py": got} if got else {})
        if f.claim == "open_redirect" and proves(f)
    }
    assert "return redirect(request.path)" not in sinks
    assert 'return redirect(request.GET["back"])' in sinks


def _js_confirmed(files: dict[str, str]) -> set[tuple[str, int]]:
    return {
        (f.sink_location.path, f.sink_location.line)
        for f in js_flows(files)
        if f.claim == "open_redirect" and proves(f)
    }


PARSE_TS = """
import { NextRequest } from "next/server";
export const parse = (req: NextRequest) => {
  const path = req.nextUrl.pathname;
  const searchParams = req.nextUrl.searchParams.toString();
  const searchParamsObj = Object.fromEntries(req.nextUrl.searchParams);
  const searchParamsString = searchParams.length > 0 ? `?${searchParams}` : "";
  return { path, searchParamsObj, searchParamsString };
};
"""

REDIRECTS_TS = """
export const marketplace = (path: string, params: Record<string, string>) => {
  if (path === "/programs/marketplace") {
    if (params.category) {
      return `/marketplace/c/${params.category.toLowerCase()}`;
    }
    return "/marketplace/all";
  }
  return null;
};
"""

MIDDLEWARE_TS = """
import { NextRequest, NextResponse } from "next/server";
import { parse } from "./lib/parse";
import { marketplace } from "./lib/redirects";
export async function middleware(req: NextRequest) {
  const { path, searchParamsObj, searchParamsString } = parse(req);
  if (marketplace(path, searchParamsObj)) {
    const to = `${marketplace(path, searchParamsObj)}${searchParamsString}`;
    return NextResponse.redirect(new URL(to, req.url));
  }
  if (searchParamsObj.to) {
    return NextResponse.redirect(new URL(searchParamsObj.to, req.url));
  }
  return NextResponse.redirect(new URL(`/login?next=${path}`, req.url));
}
"""


def test_js_pieces_after_a_local_path_or_a_query_mark_are_built_safe_across_files() -> None:
    # a helper returning "/marketplace/..." and a query string built as "?..." in another
    # file: neither piece can start the URL; ``searchParams.get("to")`` can
    got = _js_confirmed(
        {"lib/parse.ts": PARSE_TS, "lib/redirects.ts": REDIRECTS_TS, "middleware.ts": MIDDLEWARE_TS}
    )
    assert got == {("middleware.ts", 12)}


EXPRESS = """
const express = require("express");
const app = express();
app.get("/a", (req, res) => { res.redirect(process.env.BASE + "?q=" + req.query.q); });
app.get("/b", (req, res) => { const u = `${process.env.BASE}#${req.query.t}`; res.redirect(u); });
app.get("/c", (req, res) => { res.redirect(req.query.url); });
app.get("/d", (req, res) => { res.redirect(process.env.BASE + req.query.q); });
"""


def test_js_input_after_a_configured_start_and_a_query_mark_is_no_redirect() -> None:
    assert _js_confirmed({"app.js": EXPRESS}) == {("app.js", 6), ("app.js", 7)}


VALIDATORS = """
from urllib.parse import urljoin, urlparse

from flask import request


def is_safe_url(target):
    ref_url = urlparse(request.host_url)
    test_url = urlparse(urljoin(request.host_url, target))
    return test_url.scheme in ("http", "https") and ref_url.netloc == test_url.netloc


def same_as_itself(target):
    a = urlparse(target)
    b = urlparse(target)
    return a.netloc == b.netloc
"""

LOGIN = """
from flask import Flask, redirect, request

from utils import validators

app = Flask(__name__)


@app.route("/login")
def login():
    nxt = request.args.get("next")
    if validators.is_safe_url(nxt):
        return redirect(nxt)
    return "no"


@app.route("/again")
def again():
    # the same read, tested then used: one value
    if request.args.get("next") and validators.is_safe_url(request.args.get("next")):
        return redirect(request.args.get("next"))
    return "no"


@app.errorhandler(404)
def missing(e):
    # any path reaches an error handler: the tested path is the one redirected to
    if "again" in request.form and validators.is_safe_url(request.path):
        return redirect(request.path)
    return "no"


@app.route("/after")
def after():
    # tested in a branch that does not leave: the read after it is not the tested one
    if validators.is_safe_url(request.args.get("next")):
        print("ok")
    return redirect(request.args.get("next"))


@app.route("/loose")
def loose():
    nxt = request.args.get("next")
    if validators.same_as_itself(nxt):
        return redirect(nxt)
    return "no"
"""


def test_a_host_compared_with_the_request_host_after_urljoin_is_same_origin() -> None:
    # Flask-Login's ``is_safe_url``: the target resolved against this host keeps its netloc
    files = {"utils/validators.py": VALIDATORS, "auth.py": LOGIN}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    lines = textwrap.dedent(LOGIN).splitlines()
    proven = {
        [x for x in lines[: f.sink_location.line] if x.startswith("def ")][-1]
        for f in dataflow.flows(extracts)
        if f.claim == "open_redirect" and f.sink_location.path == "auth.py" and proves(f)
    }
    assert proven == {"def loose():", "def after():"}


CHECK_JS = """
const HOSTS = new Set(["a.example.com"]);
function isAllowed(u) {
  try {
    return HOSTS.has(new URL(u).hostname);
  } catch (e) {
    return false;
  }
}
module.exports = { isAllowed };
"""

GUARDED_JS = """
const express = require("express");
const { isAllowed } = require("./lib/check");
const app = express();
app.get("/a", (req, res) => {
  const u = req.query.u;
  if (u && isAllowed(u)) {
    return res.redirect(u);
  }
  res.send("no");
});
app.get("/b", (req, res) => {
  const u = req.query.u;
  if (!u || !isAllowed(u)) {
    return res.send("no");
  }
  return res.redirect(u);
});
app.get("/c", (req, res) => {
  const u = req.query.u;
  if (u || isAllowed(u)) {
    return res.redirect(u);
  }
  res.send("no");
});
app.get("/d", (req, res) => {
  const u = req.query.u;
  if (u && !u.startsWith("x")) {
    return res.redirect(u);
  }
  res.send("no");
});
"""


def test_js_a_check_among_and_or_operands_guards_its_branch() -> None:
    # true ``a && ok(u)``: ok(u) held; false ``!u || !ok(u)``: ok(u) held; ``u || ok(u)``
    # true proves nothing of ok(u), nor does a prefix test of something else
    got = _js_confirmed({"lib/check.js": CHECK_JS, "app.js": GUARDED_JS})
    assert got == {("app.js", 22), ("app.js", 29)}


ORIGIN = """
import requests
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

router = APIRouter()


@router.get("/sso/done")
async def back_home(request: Request):
    target = str(request.base_url).rstrip("/")
    return RedirectResponse(url=f"{target}/welcome")


@router.get("/sso/next")
async def back_to(request: Request):
    return RedirectResponse(url=request.query_params.get("next", "/"))


@router.get("/sso/ping")
async def ping_self(request: Request):
    requests.get(f"{request.base_url}health")  # the client's Host header picks the server
"""


def test_the_requests_own_origin_keeps_the_browser_on_the_site() -> None:
    # ``request.base_url`` is the origin the browser addressed: a redirect there is no open
    # redirect; a query parameter still is
    assert _confirmed("app/sso.py", ORIGIN) == {"back_to"}


def test_the_requests_own_origin_still_steers_a_server_side_fetch() -> None:
    text = textwrap.dedent(ORIGIN)
    got = dataflow.extract(SourceFile.from_bytes("app/sso.py", text.encode()))
    kinds = {f.claim for f in dataflow.flows({"app/sso.py": got} if got else {}) if proves(f)}
    assert "ssrf" in kinds
