"""Chunks from the program (issue 19): a route's code where it really lives, the setup, the
unescaped output and the configuration, riskiest first, values never sent.

Fixtures are written here, small and self-contained; facts are built by hand so these tests
check summarize.py, not the collectors.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.models import AuthStatus, Facts, Location, Route, RouteAuth, Setting, Sink
from threatmodel.summarize import summarize

AIOHTTP = {
    "app/routes.py": (
        "from app import views\n\n\ndef setup_routes(app):\n"
        '    app.router.add_get("/", views.index)\n'
        '    app.router.add_get("/poll/{id}", views.poll)\n'
    ),
    "app/views.py": (
        "from app import db\n\n\nasync def index(request):\n    return {}\n\n\n"
        "async def poll(request):\n    qid = request.match_info['id']\n"
        "    return await db.get_question(request.app['db'], qid)\n"
    ),
    "app/db.py": (
        "ALLOWED = ['a', 'b']\n\n\n"
        "async def get_question(conn, qid):\n"
        "    return await conn.fetch(f'SELECT * FROM question WHERE id = {qid}')\n"
    ),
}
FLASK = {
    "web.py": (
        "from flask import Flask, request\nfrom store import find_note\n\napp = Flask(__name__)\n"
        "app.config['SESSION_COOKIE_SECURE'] = False\n\n\n"
        "@app.get('/note')\ndef note():\n    return find_note(request.args['q'])\n"
    ),
    "store.py": (
        "import sqlite3\n\n\ndef find_note(q):\n"
        "    return sqlite3.connect('x').execute('SELECT * FROM n WHERE b = ' + q)\n"
    ),
    "settings.py": (
        "DEBUG = True\nMIDDLEWARE = [\n    'django.middleware.security.SecurityMiddleware',\n"
        "    'django.contrib.sessions.middleware.SessionMiddleware',\n]\nTIME_ZONE = 'UTC'\n"
    ),
    "templates/page.html": "<h1>{{ title }}</h1>\n<p>{{ body|safe }}</p>\n",
    "templates/clean.html": "<p>{{ body }}</p>\n",
    "views/item.ejs": "<div><%- item.html %></div>\n",
    ".env": "SECRET_KEY=s3cr3t-planted-value-123\nEMPTY_ONE=\n",
    "docker-compose.yml": (
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter2planted\n"
        '      DEBUG: "true"\n'
    ),
}


def write(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return sorted(files)


def route(path: str, handler: str, loc: str, line: int, status: AuthStatus, fw: str) -> Route:
    return Route(
        id=f"GET {path}",
        method="GET",
        path=path,
        framework=fw,
        handler=handler,
        location=Location(path=loc, line=line),
        auth=RouteAuth(status=status),
    )


def test_route_table_chunk_holds_the_view_and_the_dao(tmp_path: Path) -> None:
    files = write(tmp_path, AIOHTTP)
    facts = Facts(
        routes=[
            route("/", "views.index", "app/routes.py", 5, AuthStatus.PUBLIC, "aiohttp"),
            route("/poll/{id}", "views.poll", "app/routes.py", 6, AuthStatus.PUBLIC, "aiohttp"),
        ]
    )
    (chunk, *_) = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    data = chunk.data
    # the view in views.py, not only the route table's line ...
    assert "--- handler views.poll: app/views.py lines 8-10" in data
    # ... the repository function it calls, with its SQL, and the value that function reads
    assert "--- called db.get_question: app/db.py lines 4-5" in data
    assert "SELECT * FROM question" in data
    assert "--- constant ALLOWED: app/db.py lines 1-1" not in data  # not read by the code


def test_setup_output_and_configuration_chunks(tmp_path: Path) -> None:
    files = write(tmp_path, FLASK)
    facts = Facts(
        routes=[route("/note", "web.note", "web.py", 8, AuthStatus.PUBLIC, "flask")],
        settings=[
            Setting(
                key="debug",
                value="true",
                framework="django",
                location=Location(path="settings.py", line=1),
            )
        ],
    )
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    by_kind = {c.kind: c for c in chunks}
    assert "--- called find_note: store.py lines 4-5" in by_kind["component"].data
    app = by_kind["application"].data
    assert "settings.py lines 1-5" in app  # DEBUG, and the whole MIDDLEWARE statement
    assert "SESSION_COOKIE_SECURE" in app and "TIME_ZONE" not in app
    out = by_kind["output"].data
    assert "templates/page.html" in out and "views/item.ejs" in out
    assert "templates/clean.html" not in out
    conf = by_kind["configuration"].data
    assert "SECRET_KEY=<set>" in conf and "EMPTY_ONE=<empty>" in conf
    assert 'DEBUG: "true"' in conf and "POSTGRES_PASSWORD" in conf
    every = "\n".join(c.data for c in chunks)
    assert "s3cr3t-planted-value-123" not in every and "hunter2planted" not in every


def test_riskiest_component_first_and_small_ones_share_a_request(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "def a():\n    return 1\n", "b.py": "def b(x):\n    return x\n"})
    write(tmp_path, {"c.py": "import os\n\n\ndef c(x):\n    os.system('ls ' + x)\n"})
    facts = Facts(
        routes=[
            route("/a", "a.a", "a.py", 1, AuthStatus.AUTHENTICATED, "flask"),
            route("/b", "b.b", "b.py", 1, AuthStatus.AUTHENTICATED, "flask"),
            route("/c", "c.c", "c.py", 4, AuthStatus.PUBLIC, "flask"),
        ],
        sinks=[
            Sink(
                kind="command",
                call="os.system",
                dynamic=True,
                location=Location(path="c.py", line=5),
            )
        ],
    )
    risky, shared = [
        c for c in summarize(facts, RepoReader(tmp_path), 6000) if c.kind == "component"
    ]
    # the public route with a dangerous call first, in a request of its own; the small
    # components without one share the next
    assert risky.routes == ("GET /c",) and risky.title == "routes in c.py (part 1)"
    assert shared.routes == ("GET /a", "GET /b") and shared.title == "routes in a.py, b.py (part 1)"


def test_flow_hook_adds_the_engines_excerpts(tmp_path: Path) -> None:
    from threatmodel.excerpts import CodeRef

    files = write(tmp_path, FLASK)
    facts = Facts(routes=[route("/note", "web.note", "web.py", 8, AuthStatus.PUBLIC, "flask")])
    seen: list[str] = []

    def flows(r: Route) -> list[CodeRef]:
        seen.append(r.id)
        return [CodeRef("settings.py", 6, 6, "flow sink")]

    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files, flows=flows)
    assert seen == ["GET /note"]
    assert "--- flow sink: settings.py lines 6-6" in chunks[0].data


def test_route_table_in_a_nested_package_root(tmp_path: Path) -> None:
    # demos/polls is the package root: routes.py imports `pkg.views`, not `demos.polls.pkg...`
    files = write(
        tmp_path,
        {
            "demos/polls/pkg/__init__.py": "",
            "demos/polls/pkg/routes.py": (
                "from pkg.views import poll\n\n\ndef setup(app):\n"
                '    app.router.add_get("/poll/{id}", poll)\n'
            ),
            "demos/polls/pkg/views.py": (
                "async def poll(request):\n    return request.match_info['id']\n"
            ),
        },
    )
    r = route(
        "/poll/{id}",
        "demos.polls.pkg.routes.poll",
        "demos/polls/pkg/routes.py",
        5,
        AuthStatus.PUBLIC,
        "aiohttp",
    )
    (chunk, *_) = summarize(Facts(routes=[r]), RepoReader(tmp_path), 6000, files=files)
    assert ": demos/polls/pkg/views.py lines 1-2" in chunk.data


def test_configuration_never_shows_a_multi_line_key(tmp_path: Path) -> None:
    blob = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7plantedKEYbody"
    files = write(
        tmp_path,
        {
            "config.yaml": (
                "tls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n"
                f"    {blob}\n    -----END PRIVATE KEY-----\n  port: 8443\n"
            )
        },
    )
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    text = "\n".join(c.data for c in chunks)
    assert "config.yaml" in text and "port: 8443" in text
    assert blob not in text and "plantedKEYbody" not in text
