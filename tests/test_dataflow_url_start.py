"""Only input that can start a redirect's URL makes it an open redirect (``urlhead``).

Input after a ``?`` or ``#`` (whatever configured text comes first), after a local path or
after a fixed host cannot change where the browser goes, including when the URL is built
in a variable or a helper first. The request's own path, read where a route matched
(a route handler, a Django ``process_exception`` hook, a view decorator's wrapper), is a
path of the site; read in an error handler or a middleware's ``__call__`` (which also run
for ``//evil.example``) it stays input. ``redirect(request.args["next"])`` stays one.
"""

from __future__ import annotations

import textwrap

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
            above = [x for x in lines[: f.sink_location.line] if x.lstrip().startswith("def ")]
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


def sudo(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if "code" in request.POST:
            return redirect(request.path)
        return view(request, *args, **kwargs)

    return wrapper


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
    assert _confirmed("app.py", OWN_PATH) == {"__call__", "missing", "go"}
