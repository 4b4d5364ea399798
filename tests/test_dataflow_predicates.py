"""A repository's own yes/no function guarding a branch (``checks.holds``, ``pending``).

``utils.safe_for_redirect(url)`` returns what Django's ``url_has_allowed_host_and_scheme``
answers; a view of another module redirects only where it held (``if ok(x): redirect(x)``)
or leaves where it did not (``if not ok(x): x = default``). The flow is broken there, for
the kind the wrapped check proves and no other; a function that returns true on some way
that proves nothing, or whose result the caller does not test, leaves the flow. The
predicate is found when the code imports it from a folder below the repository's root
(``pyroots``; of two such folders, the importer's own), and through a mixin's method.
Django's ``reverse()`` builds a path of the site.

A plain yes/no check whose tests the engine has no rule for (every ``return`` a literal
``True`` or ``False``, a test reading the parameter) still decides on the value: a flow past
it names it (``Flow.unread_checks``) and is no proof; a function returning anything else is
not such a check.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.checks import decided_params
from threatmodel.dataflow.proof import proves
from threatmodel.models import Claim, Facts, Finding, Flow, Severity, Verdict
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext

UTILS = """
from django.utils.http import url_has_allowed_host_and_scheme


def safe_for_redirect(url):
    return url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def local_and_short(url, limit=200):
    return len(url) < limit and safe_for_redirect(url)


def permissive(url):
    if url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return True
    return url.startswith("x")


def safe_or_none(url):
    if url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return None
"""

VIEW_IF = """
from django.http import HttpResponse
from django.shortcuts import redirect
from utilities.request import {name}


def go(request):
    url = request.GET.get("next")
    if url and {name}(url):
        return redirect(url)
    return redirect("/")
"""

VIEW_NOT = """
from django.shortcuts import redirect
from utilities import request as req


def go(request):
    url = request.GET.get("next")
    if not req.{name}(url):
        url = "/"
    return redirect(url)
"""

VIEW_XSS = """
from django.http import HttpResponse
from utilities.request import safe_for_redirect


def go(request):
    url = request.GET.get("next")
    if safe_for_redirect(url):
        return HttpResponse(url)
    return HttpResponse("no")
"""


MIXIN = """
from utilities.request import safe_for_redirect


class ReturnURLMixin:
    def get_return_url(self, request):
        url = request.GET.get("return_url")
        if url and safe_for_redirect(url):
            return url
        return "/"
"""

VIEW_MIXIN = """
from django.shortcuts import redirect
from utilities.views import ReturnURLMixin


class Edit(ReturnURLMixin):
    def post(self, request):
        return redirect(self.get_return_url(request))
"""


def _extracts(files: dict[str, str]) -> dict[str, object]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    return extracts


def _flows(view: str, utils: str = UTILS, root: str = "") -> list[Flow]:
    files = {f"{root}utilities/request.py": utils, f"{root}views.py": view}
    return [
        f
        for f in dataflow.flows(_extracts(files))
        if f.source_kind == "request" and f.sink_location.path == f"{root}views.py"
    ]


def _redirects(view: str, utils: str = UTILS, root: str = "") -> list[Flow]:
    return [f for f in _flows(view, utils, root) if f.claim == "open_redirect"]


def test_a_predicate_imported_from_below_the_repository_root_is_found() -> None:
    # ``app/`` is where the code runs from: ``utilities.request`` is ``app/utilities/request.py``
    flows = _redirects(VIEW_IF.format(name="safe_for_redirect"), root="app/")
    assert flows and not [f for f in flows if proves(f)]


@pytest.mark.parametrize("root", ["", "app/"])
def test_a_mixin_method_returning_the_checked_url_or_a_constant_is_safe(root: str) -> None:
    files = {
        f"{root}utilities/request.py": UTILS,
        f"{root}utilities/views.py": MIXIN,
        f"{root}edit.py": VIEW_MIXIN,
    }
    flows = [
        f
        for f in dataflow.flows(_extracts(files))
        if f.claim == "open_redirect" and f.sink_location.path == f"{root}edit.py"
    ]
    assert flows and not [f for f in flows if proves(f)]
    unsafe = files | {
        f"{root}utilities/views.py": MIXIN.replace("if url and safe_", "if url or safe_")
    }
    flows = [
        f
        for f in dataflow.flows(_extracts(unsafe))
        if f.claim == "open_redirect" and f.sink_location.path == f"{root}edit.py"
    ]
    assert [f for f in flows if proves(f)]


def test_a_module_tail_two_files_share_names_the_importers_own_or_neither() -> None:
    """``a/utilities`` and ``b/utilities``: ``a/views.py`` runs with ``a/`` on ``sys.path``
    (its script's folder, or the root its package lives under), so it imports ``a``'s; a
    file under neither folder names neither: no guess."""
    files = {
        "a/utilities/request.py": UTILS,
        "b/utilities/request.py": UTILS.replace("return url_has_allowed", "return url or url_has"),
        "a/views.py": VIEW_IF.format(name="safe_for_redirect"),
        "c/views.py": VIEW_IF.format(name="safe_for_redirect"),
    }
    flows = [f for f in dataflow.flows(_extracts(files)) if f.claim == "open_redirect"]
    proved = {f.sink_location.path for f in flows if proves(f)}
    assert "a/views.py" not in proved, "a's own predicate (b's proves nothing) breaks the flow"
    assert "c/views.py" in proved, "which file Python imports is not known: no guess"


@pytest.mark.parametrize("view", [VIEW_IF, VIEW_NOT])
@pytest.mark.parametrize("name", ["safe_for_redirect", "local_and_short"])
def test_a_repository_predicate_breaks_the_flow_in_its_true_branch(view: str, name: str) -> None:
    flows = _redirects(view.format(name=name))
    assert flows, "the request value still reaches the redirect (as a broken flow)"
    assert not [f for f in flows if proves(f)]
    assert all(f.broken_by == f"{name}()" and f.sanitizers == [f"{name}()"] for f in flows)


def test_a_predicate_that_returns_true_when_unchecked_proves_nothing() -> None:
    flows = _redirects(VIEW_IF.format(name="permissive"))
    assert [f for f in flows if proves(f)]
    assert not any("permissive()" in f.sanitizers for f in flows), "no name for no proof"


def test_a_returned_value_that_is_none_when_unchecked_is_a_predicate() -> None:
    assert not [f for f in _redirects(VIEW_IF.format(name="safe_or_none")) if proves(f)]


def test_the_false_branch_and_an_untested_call_keep_the_flow() -> None:
    inverted = VIEW_IF.format(name="safe_for_redirect").replace("if url and", "if not")
    assert [f for f in _redirects(inverted) if proves(f)]
    untested = VIEW_IF.format(name="safe_for_redirect").replace(
        "if url and safe_for_redirect(url):", "safe_for_redirect(url)\n    if url:"
    )
    assert [f for f in _redirects(untested) if proves(f)]


def test_the_predicate_proves_only_the_kinds_its_check_proves() -> None:
    flows = [f for f in _flows(VIEW_XSS) if f.claim == "xss"]
    assert [f for f in flows if proves(f)], "a same-site URL is still markup"


def test_a_predicate_the_repository_does_not_define_proves_nothing() -> None:
    flows = _redirects(VIEW_IF.format(name="safe_for_redirect"), utils="X = 1\n")
    assert [f for f in flows if proves(f)]


REVERSED = """
from django.http import HttpResponseRedirect
from django.urls import reverse


def go(request):
    obj_id = request.POST.get("id")
    if "_next" in request.POST:
        return HttpResponseRedirect(reverse("view_thing", args=(obj_id,)))
    return HttpResponseRedirect(obj_id)
"""


def test_a_django_reverse_of_request_arguments_is_a_local_path() -> None:
    flows = _redirects(REVERSED)
    assert {f.sink_location.line for f in flows if proves(f)} == {10}
    assert any(f.sink_location.line == 9 and f.broken_by for f in flows)


GENERIC_INIT = """
from .edit import *
"""

GENERIC_EDIT = """
from utilities.views import ReturnURLMixin


class EditView(ReturnURLMixin):
    pass
"""

VIEW_SUBCLASS = """
from django.shortcuts import redirect
from views import generic


class ThingEdit(generic.EditView):
    def post(self, request):
        return redirect(self.get_return_url(request))
"""


@pytest.mark.parametrize("root", ["", "app/"])
def test_a_base_class_a_package_re_exports_with_a_star_import_is_followed(root: str) -> None:
    files = {
        f"{root}utilities/request.py": UTILS,
        f"{root}utilities/views.py": MIXIN,
        f"{root}views/generic/__init__.py": GENERIC_INIT,
        f"{root}views/generic/edit.py": GENERIC_EDIT,
        f"{root}things.py": VIEW_SUBCLASS,
    }

    def proven(files: dict[str, str]) -> list[Flow]:
        return [
            f
            for f in dataflow.flows(_extracts(files))
            if f.claim == "open_redirect"
            and f.sink_location.path == f"{root}things.py"
            and proves(f)
        ]

    assert not proven(files)
    unsafe = MIXIN.replace("if url and safe_", "if url or safe_")
    assert proven(files | {f"{root}utilities/views.py": unsafe})


def test_a_relative_import_in_a_package_init_is_inside_the_package() -> None:
    got = dataflow.extract(
        SourceFile.from_bytes("app/pkg/__init__.py", b"from .x import helper\nfrom .y import *\n")
    )
    assert got is not None
    assert got["imports"] == {"app.pkg.helper": "app.pkg.x.helper"}
    assert got["stars"] == ["app.pkg.y"]


def test_a_tail_another_file_of_the_repository_shares_is_no_guess_outside_both() -> None:
    # the other ``utilities/request.py`` has no extract (no gate let it through), but it
    # is a file of the repository: which one Python imports is known only to a file under
    # one of the two folders (``app/views.py``: ``app``'s), not to one under neither
    files = {
        "app/utilities/request.py": UTILS,
        "app/views.py": VIEW_IF.format(name="safe_for_redirect"),
        "scripts/views.py": VIEW_IF.format(name="safe_for_redirect"),
    }
    extracts = _extracts(files)
    for every in (list(files), [*files, "tools/utilities/request.py"]):
        proved = {
            f.sink_location.path
            for f in dataflow.flows(extracts, files=every)
            if f.claim == "open_redirect" and proves(f)
        }
        assert "app/views.py" not in proved
        assert ("scripts/views.py" in proved) == (len(every) > len(files)), every


def test_a_tail_below_a_package_names_nothing() -> None:
    # ``app/__init__.py`` makes ``app`` a package, imported as ``app.utilities...``: its
    # folder is no ``sys.path`` entry, so ``utilities.request`` is not ``app``'s module
    # (Python would not find it) and its check proves nothing for the importer
    files = {
        "app/utilities/request.py": UTILS,
        "app/views.py": VIEW_IF.format(name="safe_for_redirect"),
    }
    extracts = _extracts(files)
    for every, found in ((list(files), True), ([*files, "app/__init__.py"], False)):
        proved = {
            f.sink_location.path
            for f in dataflow.flows(extracts, files=every)
            if f.claim == "open_redirect" and proves(f)
        }
        assert ("app/views.py" not in proved) == found, every


EDIT_BASE = """
from django.shortcuts import redirect
from utilities.views import ReturnURLMixin


class EditView(ReturnURLMixin):
    def post(self, request):
        return redirect(self.get_return_url(request))


class JournalEdit(EditView):
    def get_return_url(self, request):
        return {ret}
"""


def test_a_method_subclasses_override_is_what_any_of_them_returns() -> None:
    def redirects(ret: str) -> list[Flow]:
        files = {
            "utilities/request.py": UTILS,
            "utilities/views.py": MIXIN,
            "edit.py": EDIT_BASE.format(ret=ret),
        }
        return [
            f
            for f in dataflow.flows(_extracts(files))
            if f.claim == "open_redirect" and f.sink_location.path == "edit.py"
        ]

    # every implementation checks the URL or returns a constant: no way through
    assert not [f for f in redirects('"/journal/"') if f.broken_by is None]
    # one returns the caller's URL as it is: a flow, for review (the object decides)
    open_ = [f for f in redirects('request.GET.get("next")') if f.broken_by is None]
    assert open_ and all(f.unresolved and not proves(f) for f in open_)


HOMEMADE = """
from urllib.parse import urlparse


def stays_here(url):
    url = url.strip()
    for candidate in (url, url.replace("\\\\", "/")):
        if candidate.startswith("///") or urlparse(candidate).netloc:
            return False
    return True


def next_or_home(raw):
    if stays_here(raw):
        return raw
    return "/"


def known(url):
    return len(url) > 3


def flag_only(url):
    if DEBUG:
        return True
    return False


def landing_page(url: str | None) -> bool:
    if not url:
        return False
    parts = urlparse(url)
    if parts.netloc:
        return False
    page = lookup_page(parts.path)
    return page.name in LANDING_PAGES


def typed_flag(url: str) -> bool:
    return DEBUG
"""

VIEW_NEXT = """
from django.shortcuts import redirect
from utilities.request import next_or_home


def go(request):
    return redirect(next_or_home(request.GET.get("next")))
"""


@pytest.mark.parametrize(
    "view",
    [VIEW_IF.format(name="stays_here"), VIEW_NOT.format(name="stays_here"), VIEW_NEXT],
)
def test_a_check_the_engine_cannot_read_leaves_the_flow_for_review(view: str) -> None:
    flows = _redirects(view, utils=HOMEMADE)
    assert flows and all(f.broken_by is None for f in flows), "nothing proven safe"
    assert all(f.unread_checks == ["stays_here()"] for f in flows)
    assert not [f for f in flows if proves(f)], "a check decided: not proof of an attack"


@pytest.mark.parametrize("name", ["known", "flag_only"])
def test_what_is_not_a_yes_no_check_of_the_value_leaves_the_proof(name: str) -> None:
    flows = _redirects(VIEW_IF.format(name=name), utils=HOMEMADE)
    assert [f for f in flows if proves(f)] and not any(f.unread_checks for f in flows)


def test_a_check_declared_bool_may_answer_with_a_comparison() -> None:
    # ``-> bool``: ``return page.name in LANDING_PAGES`` is its yes; still unread
    flows = _redirects(VIEW_IF.format(name="landing_page"), utils=HOMEMADE)
    assert flows and all(f.unread_checks == ["landing_page()"] for f in flows)
    assert not [f for f in flows if proves(f)]
    flows = _redirects(VIEW_IF.format(name="typed_flag"), utils=HOMEMADE)
    assert [f for f in flows if proves(f)], "declared bool, but it never reads url"


def test_decided_params_reads_the_returns_and_the_tests() -> None:
    tree = ast.parse(textwrap.dedent(HOMEMADE))
    fns = {fn.name: fn for fn in tree.body if isinstance(fn, ast.FunctionDef)}
    assert decided_params(fns["stays_here"], ("url",)) == ["url"]
    assert decided_params(fns["next_or_home"], ("raw",)) == [], "returns a value, not yes/no"
    assert decided_params(fns["known"], ("url",)) == []
    assert decided_params(fns["flag_only"], ("url",)) == [], "its tests never read url"


def test_the_verifier_keeps_a_flow_past_an_unread_check_for_review(tmp_path: Path) -> None:
    files = {"utilities/request.py": HOMEMADE, "views.py": VIEW_IF.format(name="stays_here")}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text))
    flows = dataflow.flows(_extracts(files))
    ctx = VerifyContext(facts=Facts(flows=flows), reader=RepoReader(tmp_path))
    sink = next(f.sink_location for f in flows if f.claim == "open_redirect" and not f.broken_by)
    claim = Claim(kind="open_redirect", location=sink)  # type: ignore[arg-type]
    finding = Finding(title="t", severity=Severity.MEDIUM, stride=[], source="rule", claims=[claim])
    got = judge("open_redirect", claim, finding, ctx)
    assert got.verdict is Verdict.UNVERIFIABLE
    assert "stays_here()" in got.reason and "cannot judge" in got.reason


def test_a_file_whose_folder_is_the_base_is_in_it() -> None:
    # ``p.parent.samefile(base)``: the file system resolved ``..`` and links to base itself
    src = textwrap.dedent(
        """
        from pathlib import Path
        from fastapi import APIRouter
        router = APIRouter()
        BASE = Path("/srv/results")

        def in_dir(file: Path, directory: Path) -> bool:
            return file.is_file() and file.parent.samefile(directory)

        @router.get("/helper")
        def helper(name: str):
            fn = (BASE / name).with_suffix(".json")
            if not in_dir(fn, BASE):
                raise ValueError("no")
            return open(fn).read()

        @router.get("/inline")
        def inline(name: str):
            fn = BASE / name
            if not fn.parent.samefile(BASE):
                raise ValueError("no")
            return open(fn).read()

        @router.get("/unchecked")
        def unchecked(name: str):
            return open(BASE / name).read()
        """
    )
    extract = dataflow.extract(SourceFile.from_bytes("app.py", src.encode()))
    assert extract is not None
    flows = [x for x in dataflow.flows({"app.py": extract}) if x.claim == "path_traversal"]
    assert {x.sink_location.line: proves(x) for x in flows} == {15: False, 22: False, 26: True}
