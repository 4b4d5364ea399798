"""Chunks from the program (issue 19): a route's code where it really lives, the setup, the
unescaped output and the configuration, riskiest first, values never sent.

Fixtures are written here, small and self-contained; facts are built by hand so these tests
check summarize.py, not the collectors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.code.reader import RepoReader
from threatmodel.models import (
    AuthStatus,
    Facts,
    Flow,
    Location,
    Route,
    RouteAuth,
    Setting,
    Sink,
)
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
        ],
        # the collectors find the f-string SQL in the DAO the view calls
        sinks=[
            Sink(
                kind="sql",
                call="conn.fetch",
                dynamic=True,
                location=Location(path="app/db.py", line=5),
            )
        ],
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
        sinks=[
            Sink(
                kind="sql", call="execute", dynamic=True, location=Location(path="store.py", line=5)
            )
        ],
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
    # The small setup sections fill the room the route request leaves (one fixed prompt for
    # all), after the routes: unescaped output first, then the application setup, then the
    # configuration; the title names each kind.
    setup = by_kind["component"]
    assert setup.title.startswith("routes in web.py; output in templates/page.html")
    data = setup.data
    assert data.index("route GET /note") < data.index("templates/page.html")
    assert "views/item.ejs" in data and "templates/clean.html" not in data
    assert "settings.py lines 1-5" in data  # DEBUG, and the whole MIDDLEWARE statement
    assert "SESSION_COOKIE_SECURE" in data and "TIME_ZONE" not in data
    assert "SECRET_KEY=<set>" in data and "EMPTY_ONE=<empty>" in data
    assert 'DEBUG: "true"' in data and "POSTGRES_PASSWORD" in data
    order = ["templates/page.html", "settings.py lines 1-5", "SECRET_KEY=<set>"]
    assert [data.index(t) for t in order] == sorted(data.index(t) for t in order)
    # the overview ends the same request: one fixed prompt for the whole small app
    assert [c.kind for c in chunks] == ["component"] and chunks[0].overview
    every = "\n".join(c.data for c in chunks)
    assert "s3cr3t-planted-value-123" not in every and "hunter2planted" not in every


def test_riskiest_first_and_quiet_routes_left_to_the_overview(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "def a():\n    return 1\n", "b.py": "def b(x):\n    return x\n"})
    write(tmp_path, {"c.py": "import os\n\n\ndef c(x):\n    os.system('ls ' + x)\n"})
    post = route("/a", "a.a", "a.py", 1, AuthStatus.AUTHENTICATED, "flask")
    post = post.model_copy(update={"id": "POST /a", "method": "POST"})
    facts = Facts(
        routes=[
            post,
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
    chunks = summarize(facts, RepoReader(tmp_path), 6000)
    (comp,) = [c for c in chunks if c.kind == "component"]
    # the public route with a dangerous call first; the write fills the room its request
    # leaves (no second fixed prompt for it); the GET page with nothing dangerous is only
    # the overview's line (its code is not sent)
    assert comp.routes == ("GET /c", "POST /a") and comp.title == "routes in c.py, a.py (part 1)"
    assert "b.py lines" not in "\n".join(c.data for c in chunks)
    quiet = "with auth authenticated (their declaration lines):\n  GET /b :1 | def b(x):"
    assert quiet in chunks[-1].data


# request.args in FLASK's web.py reaches the SQL in store.py (as the dataflow engine says)
SQL_FLOW = Flow(
    claim="sql_injection",
    source_kind="request",
    source="request.args",
    source_location=Location(path="web.py", line=10),
    sink="sqlite3.Connection.execute",
    sink_location=Location(path="store.py", line=5),
    steps=[Location(path="web.py", line=10), Location(path="store.py", line=5)],
)


def test_flow_chunk_holds_source_steps_and_sink_across_files(tmp_path: Path) -> None:
    files = write(tmp_path, FLASK)
    # resting on a call the engine could not resolve: open, not proof, so its code is quoted
    # (a proved route is quoted by its points: test_chunks_proved.py)
    flow = SQL_FLOW.model_copy(update={"unresolved": ["store.open_db"]})
    decided = flow.model_copy(update={"source_kind": "constant", "broken_by": "constant"})
    facts = Facts(
        routes=[route("/note", "web.note", "web.py", 8, AuthStatus.PUBLIC, "flask")],
        flows=[flow, decided],
    )
    chunks = summarize(facts, RepoReader(tmp_path), 6000, files=files)
    (comp,) = [c for c in chunks if c.kind == "component"]
    assert (
        "flow sql_injection: request.args line 10 reaches "
        "sqlite3.Connection.execute at store.py:5 (unbroken)"
    ) in comp.data
    assert "constant value" not in comp.data  # a value the engine proved constant is not sent
    assert "store.py lines 4-5" in comp.data  # the sink's function, in another file


def test_a_flow_no_route_holds_is_shown_by_its_sink_file(tmp_path: Path) -> None:
    files = write(tmp_path, FLASK)
    # the engine's flow from find_note's parameter: no route's code holds its source
    where = Location(path="store.py", line=4)
    flow = SQL_FLOW.model_copy(update={"source": "q", "source_location": where, "steps": []})
    test = Location(path="tests/test_store.py", line=3)
    in_test = flow.model_copy(update={"source_location": test, "sink_location": test})
    chunks = summarize(Facts(flows=[flow, in_test]), RepoReader(tmp_path), 6000, files=files)
    (comp,) = [c for c in chunks if c.kind == "component"]  # the test's flow is not sent
    assert comp.title.startswith("routes in store.py")
    assert "flow outside any known route: flow sql_injection" in comp.data
    assert "--- flow sql_injection: store.py lines 4-5" in comp.data


def test_code_shown_in_one_request_is_named_in_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("threatmodel.summarize.MAX_SOLO", 0)  # packed, as in a large app
    helper = "def helper(x):\n" + "".join(f"    x = x + {i}\n" for i in range(30))
    mods = {"h.py": helper + "    return x\n"}
    body = "".join(f"    v{i} = {i}\n" for i in range(30))
    # each its own function: a byte-identical copy is named, another version of one function
    # quoted by its changes (chunk_versions.py)
    for n in range(12):
        mods[f"m{n}.py"] = f"import os\nfrom h import helper\n\n\ndef v{n}(x):\n{body}".replace(
            "v0 = 0", f"v0 = {n}"
        )
        mods[f"m{n}.py"] += "    os.system(helper(x))\n"
    write(tmp_path, mods)
    facts = Facts(
        routes=[
            route(f"/m{n}", f"v{n}", f"m{n}.py", 5, AuthStatus.PUBLIC, "flask") for n in range(12)
        ],
        sinks=[
            Sink(kind="command", call="os.system", dynamic=True, location=Location(path=p, line=36))
            for p in (f"m{n}.py" for n in range(12))
        ],
    )
    comps = [c for c in summarize(facts, RepoReader(tmp_path), 1000) if c.kind == "component"]
    assert len(comps) > 1
    head = "--- called helper: h.py lines 1-32"
    full = [c for c in comps if head + "\n" in c.data]
    named = [c for c in comps if f"({head}, in another request)" in c.data]
    assert len(full) == 1 and named  # the helper's code is paid for once


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
    r = r.model_copy(update={"id": "POST /poll/{id}", "method": "POST"})  # a write: code shown
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


SPA = {
    "web/app.routing.ts": (
        "import { RouterModule, type Routes } from '@angular/router'\n"
        "import { AdminGuard } from './guards'\n\n"
        "const routes: Routes = [\n"
        "  {\n    path: 'administration',\n    component: AdminComponent,\n"
        "    canActivate: [AdminGuard]\n  },\n"
        "  {\n    matcher: secretMatcher,\n    component: SaleComponent\n  }\n]\n\n"
        "export function secretMatcher (url: any) {\n"
        "  return url[0].toString() === 'hidden-sale' ? { consumed: url } : null\n}\n"
    ),
    # the same table kept as an exercise's data: it imports no router and runs nowhere
    "data/fixes/routing_1.ts": "const routes: Routes = [\n  { path: 'administration' }\n]\n",
    "chain/Vault.sol": (
        "pragma solidity ^0.8.0;\ncontract Vault {\n  mapping(address => uint) b;\n"
        "  function withdraw(uint a) public {\n"
        '    (bool ok, ) = msg.sender.call{value: a}("");\n    b[msg.sender] -= a;\n  }\n}\n'
    ),
    # a variant of the same contract: shown once, from the file named after it
    "data/fixes/vault_2.sol": "pragma solidity ^0.8.0;\ncontract Vault {\n}\n",
}


def test_browser_routes_and_contracts_reach_the_application_chunk(tmp_path: Path) -> None:
    files = write(tmp_path, SPA)
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "application")
    # each route's path and guard, and the matcher function that decides a hidden page
    assert "--- client-side route: web/app.routing.ts lines 6-11\n6|  path: 'administration'," in (
        data
    )
    # (the indentation every line of an excerpt shares is cut)
    assert "8|  canActivate: [AdminGuard]" in data and "11|  matcher: secretMatcher," in data
    assert "17|  return url[0].toString() === 'hidden-sale'" in data
    assert "data/fixes/routing_1.ts" not in data  # no router imported: data, not the app
    assert "--- contract: chain/Vault.sol lines 1-8" in data
    assert "msg.sender.call{value: a}" in data
    assert "vault_2.sol" not in data


def test_rest_resources_generated_from_models_and_their_hooks_are_setup(tmp_path: Path) -> None:
    server = (
        "const finale = require('finale-rest')\n\n"
        "function start (app, seq, models) {\n"
        "  finale.initialize({ app, sequelize: seq })\n"
        "  for (const { name, model } of models) {\n"
        "    const resource = finale.resource({ model, endpoints: [`/api/${name}s`] })\n"
        "    if (name === 'User') {\n"
        "      resource.create.send.before((req, res, context) => {\n"
        "        return context.continue\n      })\n    }\n  }\n}\n"
    )
    files = write(tmp_path, {"server.js": server})
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "application")
    assert "4|finale.initialize({ app, sequelize: seq })" in data
    assert "8|resource.create.send.before((req, res, context) => {" in data


def test_a_request_hook_and_the_loader_it_calls_are_setup(tmp_path: Path) -> None:
    # every guard reads ``g.member``: where it comes from is the hook and the loader
    app = (
        "from flask import Flask, g, request\n\nimport members\n\napp = Flask(__name__)\n\n\n"
        "@app.before_request\ndef load_member():\n"
        "    g.member = members.from_cookie(request.cookies.get('m'))\n"
    )
    loader = "import json\n\n\ndef from_cookie(raw):\n    return json.loads(raw or '{}')\n"
    files = write(tmp_path, {"app.py": app, "members.py": loader})
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "application")
    assert "--- request hook: app.py lines 8-10" in data
    assert "5|    return json.loads(raw or '{}')" in data


def test_a_quiet_guarded_route_is_one_line_and_its_guard(tmp_path: Path) -> None:
    """A page that renders a template behind a decorator: the guard's code is what there is
    to judge (shown once), the handler's body is not sent. Quiet routes of one file behind
    one guard are one line, an entry each (chunk_join.Joiner.joined_quiet)."""
    write(
        tmp_path,
        {
            "views.py": (
                "def login_needed(f):\n    def inner(request):\n"
                "        if request.user.ok:\n            return f(request)\n"
                "        return None\n    return inner\n\n\n"
                "@login_needed\ndef page(request):\n    banner = 'welcome'\n"
                "    return render(request, 'page.html', {'banner': banner})\n\n\n"
                "@login_needed\ndef other(request):\n    return render(request, 'other.html')\n"
            ),
            "c.py": "import os\n\n\ndef c(x):\n    os.system('ls ' + x)\n",
        },
    )
    facts = Facts(
        routes=[
            route("/page", "views.page", "views.py", 10, AuthStatus.AUTHENTICATED, "flask"),
            route("/other", "views.other", "views.py", 16, AuthStatus.AUTHENTICATED, "flask"),
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
    every = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000))
    assert "routes in views.py with only their guard to read: GET /other :16 other; " in every
    assert "; GET /page :10 page" in every
    assert "handler views.page" not in every
    assert every.count("--- decorator login_needed: views.py lines 1-6") == 1
    assert "banner = 'welcome'" not in every  # the quiet body stays home


def test_a_route_registered_again_names_the_later_line(tmp_path: Path) -> None:
    write(tmp_path, {"server.js": "app.get('/m', serve)\nx()\napp.get('/m', serve)\n"})
    m = route("/m", "serve", "server.js", 1, AuthStatus.PUBLIC, "express")
    m = m.model_copy(update={"registered_again": [Location(path="server.js", line=3)]})
    chunks = summarize(Facts(routes=[m]), RepoReader(tmp_path), 6000)
    every = "\n".join(c.data for c in chunks)
    assert "GET /m registered again at server.js:3 | app.get('/m', serve)" in every


def test_the_express_apps_creation_is_application_setup(tmp_path: Path) -> None:
    # where helmet or app.disable('x-powered-by') would go: the model sees it is absent
    files = {
        "server.js": (
            "var express = require('express')\nvar path = require('path')\n\n"
            "var app = express();\n\nconsole.log(path.sep)\n"
            "app.use(express.static('public'))\n"
        )
    }
    write(tmp_path, files)
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=list(files))
    data = "\n".join(c.data for c in chunks)
    assert "4|var app = express();" in data and "console.log" not in data
    assert "7|app.use(express.static('public'))" in data


SIGNUP = {
    "accounts/forms.py": (
        "from django import forms\n"  # 1
        "from django.contrib.auth.models import User\n"  # 2
        "\n"  # 3
        "class SignupForm(forms.ModelForm):\n"  # 4
        "    class Meta:\n"  # 5
        "        model = User\n"  # 6
        "        exclude = ['groups', 'last_login']\n"  # 7
        "\n"  # 8
        "class SearchForm(forms.Form):\n"  # 9
        "    q = forms.CharField()\n"  # 10
    ),
    "accounts/views.py": (
        "from accounts.forms import SignupForm, SearchForm\n"  # 1
        "\n"  # 2
        "def signup(request):\n"  # 3
        "    form = SignupForm(data=request.POST)\n"  # 4
        "    if form.is_valid():\n"  # 5
        "        form.save()\n"  # 6
        "    SearchForm(request.GET).is_valid()\n"  # 7
        "    return None\n"  # 8
    ),
}


def test_a_model_forms_meta_is_shown_with_the_view_that_saves_it(tmp_path: Path) -> None:
    # which fields the request may set (mass assignment) is the Meta's fields / exclude
    files = write(tmp_path, SIGNUP)
    facts = Facts(
        routes=[
            route("/signup", "accounts.views.signup", "accounts/views.py", 3,
                  AuthStatus.PUBLIC, "django")
        ]
    )  # fmt: skip
    data = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000, files=files))
    assert "--- called SignupForm: accounts/forms.py lines 5-7" in data
    assert "SearchForm: accounts/forms.py" not in data  # a plain form names no model fields


def test_a_copy_of_shown_code_is_named_not_quoted_again(tmp_path: Path) -> None:
    """A module copied into a second folder (an app's ``bad/`` and ``good/`` versions): the
    copy's excerpt names the code already shown, at the copy's own place; a version that
    differs by one line is quoted by that line (chunk_versions.py)."""
    body = "".join(f"    v{i} = x + {i}\n" for i in range(8)) + "    os.system(v0)\n"
    same = f"import os\n\n\ndef v(x):\n{body}"
    write(tmp_path, {"bad/m.py": same, "good/m.py": same, "fix/m.py": same.replace("+ 3", "- 3")})
    dirs = ("bad", "good", "fix")
    routes = [route("/m", f"{d}.m.v", f"{d}/m.py", 4, AuthStatus.PUBLIC, "flask") for d in dirs]
    routes = [r.model_copy(update={"id": f"GET /m #{n}"}) for n, r in enumerate(routes, 1)]
    facts = Facts(
        routes=routes,
        sinks=[
            Sink(kind="command", call="os.system", dynamic=True, location=Location(path=p, line=13))
            for p in ("bad/m.py", "good/m.py", "fix/m.py")
        ],
    )
    data = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000))
    assert "--- handler: bad/m.py lines 4-13" in data
    assert "(--- handler: good/m.py lines 4-13: the same code as bad/m.py lines 4-13)" in data
    changed = "--- handler (bad/m.py lines 4-13 above, except these lines): fix/m.py lines 4-13"
    assert f"{changed}\n8|    v3 = x - 3\n" in data
    assert "5|    v0 = x + 0" not in data.split(changed)[1]


def test_a_one_line_setting_is_said_on_its_setting_line(tmp_path: Path) -> None:
    """A setting whose statement is one line carries its code on the setting's line; a
    setting at several places, or a statement over several lines, keeps its excerpt."""
    files = write(
        tmp_path,
        {
            "app.py": (
                "from flask import Flask\n\napp = Flask(__name__)\n"  # 1-3
                "app.config.update(\n    DEBUG=True,\n)\n"  # 4-6
                "\n\n@app.route('/')\ndef home():\n    return 'hi'\n"  # 7-11
                "\n\napp.run(debug=True, port=5000)\n"  # 12-14
            )
        },
    )
    debug = [
        Setting(
            key="debug", value="true", framework="flask", location=Location(path="app.py", line=n)
        )
        for n in (5, 14)
    ]
    facts = Facts(
        routes=[route("/", "app.home", "app.py", 9, AuthStatus.PUBLIC, "flask")], settings=debug
    )
    data = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000, files=files))
    assert "setting debug = true (flask) at app.py:5, 14\n" in data  # two places: excerpts
    assert "--- application setup: app.py lines 14-14" in data
    one = facts.model_copy(update={"settings": facts.settings[1:]})
    data = "\n".join(c.data for c in summarize(one, RepoReader(tmp_path), 6000, files=files))
    assert "setting debug = true (flask) at app.py:14 | app.run(debug=True, port=5000)" in data
    assert "application setup: app.py lines 14-14" not in data
