"""Which routes are quiet, and what a request spends (issue 19): a route is quiet when its
handler does nothing with what the caller sent and calls nothing dangerous with a value an
attacker sets; a call that only ever takes constants (``redirect('login')``) is no reason to
quote a handler, nor a line of the route; the request object handed to the framework is not
request data; a small remainder rides in the last request instead of paying a fixed prompt
of its own.

Fixtures are written here; facts are built by hand so these tests check summarize.py.
"""

from __future__ import annotations

from pathlib import Path

from conftest import without_overview
from test_chunks_program import route, write

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.chunk_pack import Packer, Section
from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_focus import live_lines, request_branches
from threatmodel.models import AuthStatus, Facts, Flow, Location, Sink
from threatmodel.summarize import summarize

VIEWS = (
    "from django.shortcuts import redirect, render\n"  # 1
    "\n"  # 2
    "\n"  # 3
    "def lesson(request):\n"  # 4
    "    if request.user.is_authenticated:\n"  # 5
    '        return render(request, "lesson.html")\n'  # 6
    '    return redirect("login")\n'  # 7
    "\n"  # 8
    "\n"  # 9
    "def vault(request):\n"  # 10
    '    host = request.headers.get("X-Host", "")\n'  # 11
    '    if host == "admin.internal":\n'  # 12
    '        return render(request, "vault.html", {"key": "k"})\n'  # 13
    '    return render(request, "vault.html")\n'  # 14
    "\n"  # 15
    "def find(request):\n"  # 16
    '    q = request.GET["q"]\n'  # 17
    "    if Items.exists(q):\n"  # 18
    '        return render(request, "item.html")\n'  # 19
    '    return redirect("home")\n'  # 20
)


def constant_redirect(line: int) -> Flow:
    return Flow(
        claim="open_redirect",
        source_kind="constant",
        source="'login'",
        source_location=Location(path="views.py", line=line),
        sink="django.shortcuts.redirect",
        sink_location=Location(path="views.py", line=line),
    )


def views_facts() -> Facts:
    return Facts(
        routes=[
            route("/lesson", "views.lesson", "views.py", 4, AuthStatus.PUBLIC, "django"),
            route("/vault", "views.vault", "views.py", 10, AuthStatus.PUBLIC, "django"),
        ],
        sinks=[
            Sink(
                kind="redirect",
                call="django.shortcuts.redirect",
                dynamic=False,
                location=Location(path="views.py", line=7),
            )
        ],
        flows=[constant_redirect(7)],
    )


def components(tmp_path: Path, facts: Facts, budget: int = 6000) -> list[str]:
    files = write(tmp_path, {"views.py": VIEWS})
    chunks = summarize(facts, RepoReader(tmp_path), budget, files=files)
    return [without_overview(c) for c in chunks if c.kind == "component"]


def test_a_branch_on_a_header_is_acting_on_request_data() -> None:
    lines = VIEWS.splitlines()
    assert request_branches(lines[9:14], 10) == {12}
    # the method and the logged-in user are the server's, not the caller's
    assert request_branches(lines[3:7], 4) == set()


def test_a_page_with_only_a_constant_redirect_is_quiet(tmp_path: Path) -> None:
    (data,) = components(tmp_path, views_facts())
    # /vault decides on a header it reads: its code is the model's to judge
    assert '12|    if host == "admin.internal":' in data
    # /lesson renders a page or redirects to a constant: neither its code nor the call
    assert "/lesson" not in data and "redirect django.shortcuts.redirect" not in data


def test_a_constant_call_in_quoted_code_is_not_named(tmp_path: Path) -> None:
    facts = views_facts()
    facts.routes.append(route("/find", "views.find", "views.py", 16, AuthStatus.PUBLIC, "django"))
    facts.sinks.append(
        Sink(
            kind="redirect",
            call="django.shortcuts.redirect",
            dynamic=False,
            location=Location(path="views.py", line=20),
        )
    )
    facts.flows.append(constant_redirect(20))
    (data,) = components(tmp_path, facts)
    # /find hands the request's value to a lookup: its code is quoted, and with it the
    # constant redirect, which is no fact line of its own
    assert "18|    if Items.exists(q):" in data and '20|    return redirect("home")' in data
    assert "views.py:20" not in data and "dangerous calls" not in data


def test_the_request_object_handed_on_is_not_request_data() -> None:
    handler = (
        ["def page(request):"]
        + ['    if request.method == "POST":', '        q = request.POST["q"]']
        + ["        found = lookup(q)"]
        + [f"        x{i} = {i}" for i in range(6)]
        + ['        return render(request, "found.html", {"found": found})']
        + [f"    y{i} = {i}" for i in range(6)]
        + ['    return render(request, "page.html")']
    )
    live = live_lines(handler, 1, anchors=set())
    assert {1, 2, 3, 4, 11} <= live
    assert 18 not in live  # `render(request, "page.html")`: the object, not its data


def packed(tmp_path: Path, sizes: list[int], budget: int) -> list[int]:
    """Token counts of the chunks packing sections of about ``sizes`` tokens makes."""
    packer = Packer(ChunkBuilder(Facts(), RepoReader(tmp_path)), budget)
    sections = [(f"f{i}.py", Section(" ".join(["word"] * n))) for i, n in enumerate(sizes)]
    return [c.tokens for c in packer.pack("routes in", "component", sections)]


def test_a_small_tail_rides_in_the_last_request(tmp_path: Path) -> None:
    # 900 + 150: over the budget by less than a quarter of it; a request of its own would
    # cost a fixed prompt (~2k tokens) for 150 tokens of data
    assert len(packed(tmp_path, [900, 150], 1000)) == 1
    # a remainder bigger than that is a request of its own, as is one after a full request
    assert len(packed(tmp_path, [900, 400], 1000)) == 2
    assert len(packed(tmp_path, [900, 900, 150], 1000)) == 2


FORGED = (
    "import store\n"  # 1
    "\n"  # 2
    "\n"  # 3
    "def unsubscribe(request):\n"  # 4
    "    store.forget_expired()\n"  # 5
    '    return render(request, "bye.html")\n'  # 6
    "\n"  # 7
    "\n"  # 8
    "def about(request):\n"  # 9
    "    store.count_visits()\n"  # 10
    '    return render(request, "about.html")\n'  # 11
)
STORE = (
    "def forget_expired():\n"  # 1
    '    db.execute("DELETE FROM subscriptions WHERE expired")\n'  # 2
    "\n"  # 3
    "\n"  # 4
    "def count_visits():\n"  # 5
    '    return db.execute("SELECT count(*) FROM visits")\n'  # 6
)


def test_a_get_whose_handler_writes_is_quoted_a_page_that_reads_is_not(tmp_path: Path) -> None:
    # ``GET /unsubscribe`` deletes through ``import store`` (no request data in it): forged
    # by a link (CSRF), its code is the model's to read; ``GET /about`` only reads
    files = write(tmp_path, {"views.py": FORGED, "store.py": STORE})
    facts = Facts(
        routes=[
            route(
                "/unsubscribe",
                "views.unsubscribe",
                "views.py",
                4,
                AuthStatus.AUTHENTICATED,
                "django",
            ),
            route("/about", "views.about", "views.py", 9, AuthStatus.PUBLIC, "django"),
        ]
    )
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(without_overview(c) for c in chunks if c.kind == "component")
    assert "5|    store.forget_expired()" in data
    assert "10|" not in data and "GET /about" not in data


ENV_VIEWS = (
    "import os\n"  # 1
    "from django.http import JsonResponse\n"  # 2
    "\n"  # 3
    "def info(request):\n"  # 4
    '    return JsonResponse({"env": dict(os.environ)})\n'  # 5
    "\n"  # 6
    "\n"  # 7
    "def region(request):\n"  # 8
    '    return JsonResponse({"region": os.environ.get("REGION")})\n'  # 9
)


def test_a_page_that_returns_the_whole_environment_is_quoted(tmp_path: Path) -> None:
    # the process environment (its secrets) handed to any caller is the model's to judge;
    # one variable of it is a page like any other
    files = write(tmp_path, {"views.py": ENV_VIEWS})
    facts = Facts(
        routes=[
            route("/info", "views.info", "views.py", 4, AuthStatus.PUBLIC, "django"),
            route("/region", "views.region", "views.py", 8, AuthStatus.PUBLIC, "django"),
        ]
    )
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert '5|    return JsonResponse({"env": dict(os.environ)})' in data
    assert "9|" not in data


HEADER_VIEWS = (
    "from fastapi import APIRouter, Response\n"  # 1
    "router = APIRouter()\n"  # 2
    "\n"  # 3
    "def health(response: Response):\n"  # 4
    '    response.headers["X-Powered-By"] = "Python 3.10, FastAPI 0.103"\n'  # 5
    '    return {"ok": True}\n'  # 6
    "\n"  # 7
    "def ping(response: Response):\n"  # 8
    '    response.headers["Cache-Control"] = "no-store"\n'  # 9
    '    return {"ok": True}\n'  # 10
)


def test_a_page_that_names_its_software_in_a_header_is_quoted(tmp_path: Path) -> None:
    # the versions to look exploits up by, written by the handler; another header is not
    files = write(tmp_path, {"views.py": HEADER_VIEWS})
    facts = Facts(
        routes=[
            route("/health", "views.health", "views.py", 4, AuthStatus.PUBLIC, "fastapi"),
            route("/ping", "views.ping", "views.py", 8, AuthStatus.PUBLIC, "fastapi"),
        ]
    )
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "component")
    assert '5|    response.headers["X-Powered-By"] = "Python 3.10, FastAPI 0.103"' in data
    assert "9|" not in data
