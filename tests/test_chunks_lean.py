"""What a request does not repeat (issue 19): a model that only lists the columns its table
fact already names, a template's markup past the line a flow reaches, a route's own auth
guard re-quoted as application setup. What the model needs to judge stays.

Fixtures are written here; facts are built by hand so these tests check summarize.py.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.excerpt_focus import is_function
from threatmodel.models import (
    AuthStatus,
    Column,
    Facts,
    Flow,
    Location,
    Middleware,
    Route,
    RouteAuth,
    Table,
)
from threatmodel.summarize import summarize


def write(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return sorted(files)


def express_route(path: str, handler: str, loc: str, line: int, method: str = "POST") -> Route:
    return Route(
        id=f"{method} {path}",
        method=method,
        path=path,
        framework="express",
        handler=handler,
        location=Location(path=loc, line=line),
        auth=RouteAuth(status=AuthStatus.AUTHENTICATED),
    )


SHOP = {
    "routes.js": (
        "var h = require('./handler')\n"  # 1
        "router.post('/items', auth.check, h.search)\n"  # 2
        "router.get('/form', auth.check, function (req, res) {\n"  # 3
        "    res.render('form', {mode: req.query.mode})\n"  # 4
        "})\n"  # 5
        "router.get('/about', auth.check, function (req, res) {\n"  # 6
        "    res.render('about')\n"  # 7
        "})\n"  # 8
    ),
    "handler.js": (
        "module.exports.search = function (req, res) {\n"  # 1
        "    db.Item.findAll({where: {name: req.body.name}}).then(items => {\n"  # 2
        "        res.render('items', {items: items})\n"  # 3
        "    })\n"  # 4
        "}\n"  # 5
    ),
    "models/item.js": (
        "module.exports = function (sequelize, DataTypes) {\n"  # 1
        '    var Item = sequelize.define("Item", {\n'  # 2
        "        id: {\n"  # 3
        "            type: DataTypes.INTEGER,\n"  # 4
        "            primaryKey: true\n"  # 5
        "        },\n"  # 6
        "        name: {\n"  # 7
        "            type: DataTypes.STRING\n"  # 8
        "        }\n"  # 9
        "    });\n"  # 10
        "    return Item\n"  # 11
        "}\n"  # 12
    ),
    "models/user.js": (
        "module.exports = function (sequelize, DataTypes) {\n"  # 1
        '    var User = sequelize.define("User", {\n'  # 2
        "        role: {\n"  # 3
        "            type: DataTypes.STRING,\n"  # 4
        "            defaultValue: 'admin'\n"  # 5
        "        }\n"  # 6
        "    });\n"  # 7
        "    return User\n"  # 8
        "}\n"  # 9
    ),
    # 30 lines: the row printed unescaped at 12, markup to the end
    "views/items.ejs": "".join(
        "<% items.forEach(function (it) { %>\n"
        if n == 11
        else "<td><%- it.name %></td>\n"
        if n == 12
        else f"<p>plain markup {n}</p>\n"
        for n in range(1, 31)
    ),
}


def shop_facts() -> Facts:
    row = Location(path="views/items.ejs", line=12)
    read = Location(path="handler.js", line=2)
    stored = Flow(
        claim="xss",
        source="Item.findAll",
        source_kind="database",
        source_location=read,
        sink="res.render",
        sink_location=row,
    )
    return Facts(
        routes=[
            express_route("/items", "h.search", "routes.js", 2),
            express_route("/form", "anonymous", "routes.js", 3, "GET"),
            express_route("/about", "anonymous", "routes.js", 6, "GET"),
        ],
        middleware=[
            Middleware(
                kind="auth",
                name="auth.check",
                scope=scope,
                location=Location(path="routes.js", line=line),
            )
            for scope, line in (("POST /items", 2), ("GET /form", 3), ("GET /about", 6))
        ],
        tables=[
            Table(
                name="Item",
                source="sequelize",
                columns=[Column(name="id", type="INTEGER"), Column(name="name", type="STRING")],
                location=Location(path="models/item.js", line=2),
            ),
            Table(
                name="User",
                source="sequelize",
                columns=[Column(name="role", type="STRING")],
                location=Location(path="models/user.js", line=2),
            ),
        ],
        flows=[stored],
    )


def shop_data(tmp_path: Path, facts: Facts) -> str:
    files = write(tmp_path, SHOP)
    return "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000, files=files))


def test_a_model_of_columns_only_is_not_quoted_its_table_fact_lists_them(tmp_path: Path) -> None:
    data = shop_data(tmp_path, shop_facts())
    assert "table Item (from sequelize" in data and "columns: id INTEGER, name STRING" in data
    assert "model of Item" not in data and "primaryKey: true" not in data


def test_a_model_with_a_default_is_quoted(tmp_path: Path) -> None:
    facts = shop_facts()
    # the handler now names User too: its role column defaults to admin, which no fact says
    write(tmp_path, SHOP)
    handler = (tmp_path / "handler.js").read_text().replace("db.Item", "db.User")
    (tmp_path / "handler.js").write_text(handler)
    files = sorted(SHOP)
    data = "\n".join(c.data for c in summarize(facts, RepoReader(tmp_path), 6000, files=files))
    assert "--- model of User: models/user.js lines 2-7" in data
    assert "5|        defaultValue: 'admin'" in data


def test_a_template_flow_excerpt_ends_a_few_lines_past_its_sink(tmp_path: Path) -> None:
    data = shop_data(tmp_path, shop_facts())
    # the sink's line and three on each side (the loop that prints it), not a window of
    # twenty-five lines from the sink on
    assert "--- flow xss: views/items.ejs lines 9-15" in data
    assert "12|<td><%- it.name %></td>" in data
    assert "plain markup 16" not in data and "plain markup 30" not in data


def test_a_routes_own_auth_guard_is_not_application_setup(tmp_path: Path) -> None:
    data = shop_data(tmp_path, shop_facts())
    # a quiet page behind its guard: its declaration line is the overview's, its body is
    # not re-quoted as setup because the guard is given there
    assert "application setup: routes.js" not in data and "render('about')" not in data
    assert "GET /about :6 | router.get('/about', auth.check, function (req, res) {" in data


def test_a_scoped_middleware_that_is_not_auth_stays_application_setup(tmp_path: Path) -> None:
    facts = shop_facts()
    other = [m.model_copy(update={"kind": "other"}) for m in facts.middleware]
    data = shop_data(tmp_path, facts.model_copy(update={"middleware": other}))
    assert "--- application setup: routes.js lines 2-8" in data
    assert "7|    res.render('about')" in data


def test_an_inline_express_handler_is_a_function_and_its_request_read_is_quoted(
    tmp_path: Path,
) -> None:
    assert is_function(["router.get('/form', auth.check, function (req, res) {"])
    data = shop_data(tmp_path, shop_facts())
    # it hands a request value to the page: not a quiet route left to the overview
    assert "4|    res.render('form', {mode: req.query.mode})" in data


BLUEPRINT = (
    "from flask import Blueprint, request\n"  # 1
    "\n"  # 2
    "notes = Blueprint('notes', __name__)\n"  # 3
    "LIMIT = 20\n"  # 4
    "\n"  # 5
    "\n"  # 6
    "@notes.route('/notes')\n"  # 7
    "def listing():\n"  # 8
    "    return str(LIMIT + len(request.args))\n"  # 9
)


def test_the_blueprint_a_route_is_registered_on_is_not_a_constant_to_quote() -> None:
    from threatmodel.excerpt_calls import constants
    from threatmodel.excerpts import CodeIndex, CodeRef

    class Lines:
        def lines(self, path: str) -> list[str]:
            return BLUEPRINT.splitlines()

    index = CodeIndex(Lines())  # type: ignore[arg-type]
    found = constants(index, [CodeRef("notes.py", 7, 9, "handler")])
    # LIMIT, which the handler reads, is quoted; the blueprint its decorator registers the
    # handler on is the route's own fact, not data the handler depends on
    assert [c.label for c in found] == ["constant LIMIT"]


def test_the_schema_is_counted_as_the_sdks_send_it() -> None:
    import json

    from threatmodel.llm.schema import schema_text, wire_schema

    text = schema_text(wire_schema())
    assert json.loads(text) == wire_schema()
    assert ", " not in text and ": " not in text  # compact, as httpx / openai-python send it


def test_one_sink_reached_by_two_decided_values_is_one_line(tmp_path: Path) -> None:
    from threatmodel.chunk_builder import ChunkBuilder
    from threatmodel.chunk_decided import decided_lines

    write(tmp_path, {"views.py": "def page(request):\n    return render_template('p.html')\n"})
    sink = Location(path="views.py", line=2)
    flows = [
        Flow(
            claim="xss",
            source=kind,
            source_kind=kind,
            source_location=Location(path="views.py", line=1),
            sink="render_template",
            sink_location=sink,
            broken_by="flask.render_template",
        )
        for kind in ("request", "database")
    ]
    b = ChunkBuilder(Facts(flows=flows), RepoReader(tmp_path))
    assert decided_lines(b, flows, "views.py") == [
        "    xss at line 2 | return render_template('p.html'): database value broken by "
        "flask.render_template; request value broken by flask.render_template"
    ]


def test_a_config_files_comment_lines_are_not_sent(tmp_path: Path) -> None:
    from threatmodel.chunk_sections import configuration_text

    text = "# build the app\nFROM python:3.12\n  # run it\nCMD python app.py\n"
    write(tmp_path, {"Dockerfile": text})
    ((_path, shown),) = configuration_text(RepoReader(tmp_path), ["Dockerfile"])
    assert shown.splitlines()[1:] == ["2|FROM python:3.12", "4|CMD python app.py"]


def test_markup_set_to_a_literal_is_not_unescaped_output(tmp_path: Path) -> None:
    from threatmodel.chunk_sections import output_refs
    from threatmodel.excerpts import CodeIndex

    page = (
        "<script>\n"  # 1
        'out.innerHTML = "";\n'  # 2
        "fetch('/api').then(r => r.text()).then(t => {\n"  # 3
        "    out.innerHTML = t;\n"  # 4
        "}).catch(e => { out.innerHTML = 'error'; });\n"  # 5
        "</script>\n"  # 6
    ) + "<p>plain</p>\n" * 20
    write(tmp_path, {"page.html": page, "empty.html": 'x.innerHTML = "";\n'})
    refs = output_refs(CodeIndex(RepoReader(tmp_path)), ["empty.html", "page.html"])
    # the line that prints the fetched text, with its context; nothing for the literal-only
    # file
    assert [(r.path, r.start, r.end) for r in refs] == [("page.html", 1, 7)]


def test_global_middleware_beside_its_quoted_list_is_named_by_its_class() -> None:
    from threatmodel.summary_text import global_text

    at = Location(path="proj/settings.py", line=40)
    facts = Facts(
        middleware=[
            Middleware(
                kind="csrf", name="django.middleware.csrf.CsrfViewMiddleware", scope="global",
                location=at,
            )
        ]
    )  # fmt: skip
    # the overview, where no statement is quoted, keeps the dotted path
    assert global_text(facts) == (
        "global middleware at proj/settings.py:40: csrf django.middleware.csrf.CsrfViewMiddleware"
    )
    assert global_text(facts, quoted=True) == (
        "global middleware at proj/settings.py:40: csrf CsrfViewMiddleware"
    )


def test_a_routes_middleware_line_does_not_repeat_its_auth_guard_or_its_own_id() -> None:
    from threatmodel.summary_text import route_text

    r = express_route("/items", "h.search", "routes.js", 2)
    r = r.model_copy(
        update={
            "auth": RouteAuth(status=AuthStatus.AUTHENTICATED, mechanism="middleware auth.check")
        }
    )
    at = Location(path="routes.js", line=2)
    facts = Facts(
        middleware=[
            Middleware(kind="auth", name="auth.check", scope="POST /items", location=at),
            Middleware(kind="rate_limit", name="limiter", scope="POST /items", location=at),
            Middleware(kind="cors", name="cors", scope="/it", location=at),
        ]
    )
    lines = route_text(r, facts, [], []).splitlines()
    assert lines[1] == "  auth: authenticated via middleware auth.check"
    assert lines[2] == "  middleware: cors cors (/it); rate_limit limiter"


def test_a_code_excerpts_comment_lines_are_not_sent_its_numbers_stay(tmp_path: Path) -> None:
    from threatmodel.chunk_builder import ChunkBuilder
    from threatmodel.excerpts import CodeRef

    write(
        tmp_path,
        {
            "view.py": "def page(q):\n    # look the note up\n    return find(q)  # by id\n",
            "route.js": (
                "function page(req, res) {\n  // the caller's note\n  /* res.send(old)\n"
                "  */\n  res.send(find(req.query.q)) // by id\n}\n"
            ),
        },
    )
    b = ChunkBuilder(Facts(), RepoReader(tmp_path))
    py = b.excerpt(CodeRef("view.py", 1, 3, "handler"))
    assert "look the note up" not in py and "3|    return find(q)  # by id" in py
    js = b.excerpt(CodeRef("route.js", 1, 6, "handler"))
    assert "the caller's note" not in js and "5|  res.send(find(req.query.q)) // by id" in js
    assert "3|  /* res.send(old)" in js  # code switched off is read as such
