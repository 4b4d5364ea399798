"""XSS needs an HTML page that carries the input: a file served by path, a response made
non-HTML (or an attachment) after it was built, and a library's value computed from the
request object are not that page; the plain reflections stay findings."""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves

FLASK = """
from flask import Flask, request, make_response, send_file, send_from_directory
app = Flask(__name__)
"""
DJANGO = """
from django.http import HttpResponse
from django.middleware import csrf
from django.utils.safestring import mark_safe
"""


def xss_lines(head: str, body: str) -> set[int]:
    """The lines (of ``body``, from 1) where a proved XSS flow ends."""
    text = head + textwrap.dedent(body)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", text.encode()))
    offset = head.count("\n")
    flows = dataflow.flows({"app.py": extract}) if extract else []
    return {x.sink_location.line - offset for x in flows if x.claim == "xss" and proves(x)}


def test_a_file_served_by_path_is_the_files_bytes_not_the_path() -> None:
    body = """
    @app.route('/a/<path:name>')
    def a(name):
        return send_file(name)
    @app.route('/b/<name>')
    def b(name):
        return send_from_directory('/srv', name)
    @app.route('/c')
    def c():
        t = request.args.get('t')
        return send_file(build(t), as_attachment=True, download_name=f"{t}.csv")
    @app.route('/d')
    def d():
        return "<p>" + request.args["q"]
    """
    assert xss_lines(FLASK, body) == {14}


def test_a_response_made_plain_text_or_an_attachment_after_it_was_built() -> None:
    flask = """
    @app.route('/a')
    def a():
        r = make_response("IP " + request.headers.get("X-Real-IP"))
        r.mimetype = "text/plain"
        return r
    @app.route('/b')
    def b():
        r = make_response("<p>" + request.args["q"])
        r.headers["Content-Type"] = "application/json"
        return r
    @app.route('/c')
    def c():
        r = make_response("<p>" + request.args["q"])
        r.headers["X-Frame-Options"] = "DENY"
        return r
    """
    assert xss_lines(FLASK, flask) == {14, 16}  # the sink and the returned page
    django = """
    def a(request):
        r = HttpResponse(request.GET["q"])
        r["Content-Disposition"] = "attachment; filename=x.txt"
        return r
    def b(request):
        return HttpResponse(request.GET["q"], content_type="text")
    def c(request):
        return HttpResponse(request.GET["q"], headers={"Content-Disposition": "attachment"})
    def d(request):
        r = HttpResponse(request.GET["q"])
        r["Content-Disposition"] = "inline"
        return r
    def e(request):
        return HttpResponse(request.GET["q"], content_type="image/svg+xml")
    def f(request):
        return HttpResponse(request.GET["q"])
    """
    assert xss_lines(DJANGO, django) == {11, 15, 17}


def test_a_library_value_computed_from_the_request_object_is_not_its_text() -> None:
    body = """
    def a(request):
        return HttpResponse(csrf.get_token(request))
    def b(request):
        return mark_safe(request.GET["q"])
    def c(request):
        data = request.body.decode()
        return HttpResponse(data)
    """
    assert xss_lines(DJANGO, body) == {5, 8}
    # a method of the request reads its text: still input when a library call follows
    flask = """
    import base64
    @app.route('/j', methods=['POST'])
    def j():
        v = base64.b64decode(request.get_data())
        return "<p>" + v.decode()
    """
    assert xss_lines(FLASK, flask) == {6}


def test_a_request_method_read_keeps_the_guard_met_before() -> None:
    # ``request.get_full_path()`` checked, then used: the check holds for the read
    text = """
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme
    def ok(url):
        return url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    def v(request):
        if ok(request.get_full_path()):
            return redirect(request.get_full_path())
        return redirect('/')
    """
    extract = dataflow.extract(SourceFile.from_bytes("v.py", textwrap.dedent(text).encode()))
    flows = dataflow.flows({"v.py": extract}) if extract else []
    got = [x for x in flows if x.claim == "open_redirect" and x.source == "request.get_full_path"]
    assert got and not any(proves(x) for x in got)


def test_format_html_escapes_its_arguments_not_its_format() -> None:
    body = """
    from django.utils.html import format_html, conditional_escape
    from django.urls import reverse
    def a(request):
        return mark_safe(format_html('<b>{}</b>', request.GET["q"]))
    def b(request):
        return mark_safe(format_html(request.GET["fmt"], 1))
    def c(request):
        u = reverse("item", args=[request.GET["q"]])
        return mark_safe(f'<a href="{u}">{conditional_escape(request.GET["n"])}</a>')
    """
    assert xss_lines(DJANGO, body) == {7}


REGISTRY = """
from flask import send_from_directory
class Png:
    def asset(self, name):
        return send_from_directory('/tmp', name)
SHARES = {"png": Png}
def pick(kind):
    return SHARES.get(kind)
def uploader():
    return SHARES["png"]()
"""
ECHO = """
class Echo:
    def asset(self, name):
        return '<p>' + name
"""
APP = """
from flask import Flask
from shares import pick, uploader
app = Flask(__name__)
@app.route('/a/<k>/<path:p>')
def a(k, p):
    cls = pick(k)
    s = cls()
    return s.asset(p)
@app.route('/b/<path:p>')
def b(p):
    return uploader().asset(p)
"""


def registry_flows(extra: dict[str, str]) -> list[tuple[int, bool, bool]]:
    files = {"app.py": textwrap.dedent(APP), "shares.py": REGISTRY, **extra}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, text.encode()))
        if got:
            extracts[path] = got
    flows = [x for x in dataflow.flows(extracts) if x.claim == "xss"]
    return sorted((x.sink_location.line, x.broken_by is None, proves(x)) for x in flows)


def test_a_method_of_an_object_a_repository_function_made_is_the_repositorys() -> None:
    # ``cls = pick(kind); cls().asset(p)``: which class is the registry's choice, so every
    # ``asset`` the repository's classes define is read; none reflects the path here
    assert registry_flows({}) == [(9, False, False), (12, False, False)]
    # one that does: a finding to review (the class that runs is not known), not proof
    got = registry_flows({"echo.py": ECHO})
    assert got == [(9, False, False), (9, True, False), (12, False, False), (12, True, False)]


def test_a_value_every_registry_class_returns_alike_is_proof() -> None:
    # every ``asset`` the repository defines reflects the path: whichever class the
    # registry picks, the flow holds
    echo_all = {
        "shares.py": REGISTRY.replace(
            "return send_from_directory('/tmp', name)", "return '<b>' + name"
        ),
        "echo.py": ECHO,
    }
    assert registry_flows(echo_all) == [(9, True, True), (12, True, True)]


def test_a_content_type_set_in_one_branch_leaves_the_other_a_page() -> None:
    body = """
    def a(request):
        r = HttpResponse(request.GET["q"])
        if request.GET.get("raw"):
            r["Content-Type"] = "text/plain"
        return r
    def b(request):
        r = HttpResponse(request.GET["q"])
        r["Content-Type"] = "text/plain"
        return r
    """
    assert xss_lines(DJANGO, body) == {3}


def test_a_query_value_read_with_a_numeric_type_is_a_number() -> None:
    # werkzeug converts ``request.args.get(name, default, type=int)`` before returning it
    body = """
    @app.route('/a')
    def a():
        page = request.args.get('page', 1, type=int)
        return listing(page)
    @app.route('/b')
    def b():
        size = request.args.get('size', type=float)
        return "<p>%s</p>" % size
    @app.route('/c')
    def c():
        return "<p>" + request.args.get('q', type=str)
    """
    assert xss_lines(FLASK, body) == {12}
