"""The JavaScript / TypeScript dataflow engine: sources, propagation, sinks, breaks, link."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.collect.flows_js import root_aliases
from threatmodel.dataflow.proof import proves
from threatmodel.models import (
    AuthStatus,
    Claim,
    Facts,
    Finding,
    Flow,
    Location,
    Route,
    RouteAuth,
    Severity,
    Sink,
    Verdict,
)
from threatmodel.rules.injectable_sink import InjectableSinkInHandler
from threatmodel.rules.interface import RuleContext
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext


def run(files: dict[str, str]) -> list[Flow]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract_js(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got is not None:
            extracts[path] = got
    return dataflow.flows(extracts, root_aliases(extracts))


def proven(flows: list[Flow]) -> set[tuple[str, int]]:
    return {(f.claim, f.sink_location.line) for f in flows if proves(f)}


def express(body: str) -> dict[str, str]:
    head = "const { exec } = require('child_process')\nconst db = require('./db')\n"
    head += "module.exports = (req, res) => {\n"
    return {"app.js": head + textwrap.indent(textwrap.dedent(body), "  ") + "}\n"}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("db.query(`SELECT * FROM t WHERE a = '${req.query.a}'`)", "sql_injection"),
        ("db.query('SELECT * FROM t WHERE a = ' + req.body.a)", "sql_injection"),
        ("exec('ls ' + req.query.dir)", "command_injection"),
        ("eval(req.body.code)", "code_injection"),
        ("users.find({ $where: `this.a == '${req.query.a}'` })", "nosql_injection"),
        ("users.findOne(req.body)", "nosql_injection"),
        ("users.findOne({ name: req.body.name })", "nosql_injection"),
        ("res.redirect(req.query.next)", "open_redirect"),
        ("res.sendFile(req.params.file)", "path_traversal"),
        ("res.send('<p>' + req.query.name + '</p>')", "xss"),
    ],
)
def test_each_kind_is_found(code: str, kind: str) -> None:
    assert (kind, 4) in proven(run(express(code)))


@pytest.mark.parametrize(
    "code",
    [
        "db.query('SELECT * FROM t WHERE a = ?', [req.query.a])",
        "db.query(`SELECT * FROM t WHERE a = ${parseInt(req.query.a)}`)",
        "users.findOne({ name: String(req.body.name) + '' })",
        "users.findOne({ _id: req.params.id })",  # a route parameter is a string
        "User.findOne({ where: { email: req.body.email } })",  # Sequelize
        "res.redirect('/profile?tab=' + req.query.tab)",
        "res.redirect(`https://example.com/a/${req.query.a}`)",
        "res.send({ name: req.query.name })",  # JSON
        "res.sendFile(req.params.file, { root: 'public' })",
        "handler.execute({ data: req.body })",  # an options object, not SQL
        "exec('ls ' + req.session.dir)",  # the session is not what the client sent
        # Node's crypto objects have an ``update`` too: a digest of the body, no query
        "require('crypto').createHmac('sha256', k).update(req.body).digest('hex')",
        "require('crypto').createHash('sha256').update(req.body.a).update(req.body).digest()",
        "users.update(JSON.stringify(req.body))",  # a string is no query document
    ],
)
def test_safe_variants_are_not_found(code: str) -> None:
    assert proven(run(express(code))) == set()


def test_propagation_through_destructuring_templates_arrays_and_spread() -> None:
    flows = run(
        express(
            """\
            const { q } = req.query
            const parts = ['SELECT', q]
            const opts = { ...{ where: parts.join(' ') } }
            db.query(opts.where)
            """
        )
    )
    assert ("sql_injection", 7) in proven(flows)


def test_constant_branch_and_overwrite_and_guard() -> None:
    flows = run(
        express(
            """\
            let name = req.query.name
            if (1 + 1 === 3) { exec(name) }
            name = 'fixed'
            exec(name)
            const file = req.query.file
            if (!file.includes('/')) { res.sendFile(file) }
            """
        )
    )
    assert proven(flows) == set()
    guarded = [f for f in flows if f.claim == "path_traversal"]
    assert guarded and all(f.broken_by for f in guarded)


def test_interprocedural_through_require_and_classes() -> None:
    files = {
        "lib/dao.js": """\
            function Dao(db) {
              const col = db.collection('a')
              this.byThreshold = (user, threshold) => {
                const crit = () => ({ $where: `this.stocks > '${threshold}'` })
                return col.find(crit())
              }
            }
            module.exports = { Dao }
        """,
        "lib/util.ts": "export function wrap (s: string) { return `x ${s}` }\n"
        "export function fixed (s: string) { return 'n' }\n",
        "routes/r.js": """\
            const { Dao } = require('../lib/dao')
            import { wrap, fixed } from '@/lib/util'
            const { exec } = require('child_process')
            function Handler(db) {
              const dao = new Dao(db)
              this.show = (req, res) => {
                dao.byThreshold(1, req.query.t)
                exec(wrap(req.body.a))
                exec(fixed(req.body.b))
              }
            }
        """,
    }
    got = {(f.claim, f.sink_location.path, f.sink_location.line) for f in run(files) if proves(f)}
    assert ("nosql_injection", "lib/dao.js", 4) in got
    assert ("command_injection", "routes/r.js", 8) in got
    assert ("command_injection", "routes/r.js", 9) not in got


def test_framework_sources() -> None:
    files = {
        "app/api/x/route.ts": """\
            import { exec } from 'node:child_process'
            export async function POST(request: Request) {
              const body = await request.json()
              exec(body.cmd)
              const url = new URL(request.url)
              exec(url.searchParams.get('c'))
            }
        """,
        "app/actions.ts": """\
            'use server'
            import { exec } from 'child_process'
            export async function run(cmd: string) { exec(cmd) }
            async function helper(cmd: string) { exec(cmd) }
        """,
        "src/c.controller.ts": """\
            import { exec } from 'child_process'
            export class C {
              @Post() run(@Body() dto: Dto, @Query('q') q: string) { exec(dto.cmd + q) }
            }
        """,
        "koa.js": "const cp = require('child_process')\n"
        "router.get('/', async (ctx) => { cp.execSync(ctx.request.body.c + ctx.query.d) })\n",
        "page.ts": "const el = document.getElementById('a')\nel.innerHTML = location.hash\n",
    }
    got = {(f.sink_location.path, f.sink_location.line) for f in run(files) if proves(f)}
    assert got == {
        ("app/api/x/route.ts", 4),
        ("app/api/x/route.ts", 6),
        ("app/actions.ts", 3),
        ("src/c.controller.ts", 3),
        ("koa.js", 2),
        ("page.ts", 2),
    }


def test_redirect_to_own_origin_is_broken() -> None:
    flows = run(
        {
            "middleware.ts": """\
                export function middleware(req: NextRequest) {
                  return NextResponse.redirect(new URL('/login', req.url))
                }
            """
        }
    )
    assert proven(flows) == set()


def _facts(tmp_path: Path, files: dict[str, str]) -> VerifyContext:
    for path, text in files.items():
        (tmp_path / path).write_text(text)
    return VerifyContext(facts=Facts(flows=run(files)), reader=RepoReader(tmp_path))


def _judge(ctx: VerifyContext, kind: str, line: int) -> Verdict:
    claim = Claim(kind=kind, location=Location(path="app.js", line=line))  # type: ignore[arg-type]
    finding = Finding(
        title="t", severity=Severity.HIGH, stride=[], source="external", claims=[claim]
    )
    return judge(kind, claim, finding, ctx).verdict


def test_verify_decides_js_claims_from_flows(tmp_path: Path) -> None:
    ctx = _facts(
        tmp_path,
        express(
            """\
            db.query(`SELECT * FROM t WHERE a = '${req.query.a}'`)
            db.query('SELECT 1')
            exec('ls ' + Number(req.query.n))
            """
        ),
    )
    assert _judge(ctx, "sql_injection", 4) is Verdict.CONFIRMED
    assert _judge(ctx, "sql_injection", 5) is Verdict.REFUTED
    assert _judge(ctx, "command_injection", 6) is Verdict.REFUTED


def test_tm111_leaves_followed_sinks_to_the_flows(tmp_path: Path) -> None:
    ctx = _facts(tmp_path, express("db.query('SELECT ' + Number(req.query.n))\n"))
    route = Route(
        id="GET /x",
        method="GET",
        path="/x",
        framework="express",
        handler="x",
        location=Location(path="app.js", line=3),
        auth=RouteAuth(status=AuthStatus.PUBLIC),
    )
    sink = Sink(
        kind="sql",
        call="db.query",
        location=Location(path="app.js", line=4),
        dynamic=True,
        handler="x",
    )
    rule_ctx = RuleContext(root=tmp_path, reader=ctx.reader)
    rule = InjectableSinkInHandler()
    assert rule.check(Facts(routes=[route], sinks=[sink]), rule_ctx)  # no flow: ``dynamic``
    # the engine followed the call and the number breaks the flow: TM111 says nothing
    assert rule.check(Facts(routes=[route], sinks=[sink], flows=ctx.facts.flows), rule_ctx) == []


XML = """\
const xpath = require('xpath')
const libxml = require('libxmljs')
const loose = { noent: false }
module.exports = {
  find: (req, res) => {
    const opts = { noent: true, dtdload: true }
    const doc = libxml.parseXml(req.body.xml, opts)
    const hit = xpath.evaluate("//a[b='" + req.params.b + "']", doc, null, 0, null)
    const all = xpath.select('//a/b', doc)
    res.json([hit, all, libxml.parseXml(req.body.xml, loose)])
  },
  later: (req, res) => {
    let o = { noent: false }
    o = { noent: true }
    res.json(libxml.parseXml(req.body.xml, o))
  },
}
"""


def test_xml_options_held_in_a_name_and_the_xpath_package() -> None:
    flows = run({"xml.js": XML})
    assert {k for k in proven(flows)} == {("xxe", 7), ("xpath_injection", 8)}
    # options the engine cannot pin (assigned twice) neither confirm nor refute
    assert not any(f.sink_location.line == 15 for f in flows)
    # options declared without noent refute a claim there
    assert any(f.sink_location.line == 10 and not proves(f) for f in flows)


def test_a_template_of_constants_is_a_constant() -> None:
    code = "const kind = 'public'\n"
    code += "users.find({ $where: `this.kind == '${kind}' && this.n < ${3}` })\n"
    flows = run(express(code))
    assert [(f.claim, f.source_kind) for f in flows if f.sink_location.line == 5] == [
        ("nosql_injection", "constant")
    ]


def test_nest_route_parameter_and_command_objects_are_no_query() -> None:
    """A NestJS ``@Param`` is a path segment (a string): no Mongo operator rides in it, as
    with Express's ``req.params``; a name bound by ``const`` to an object built from input
    (a command handed to ``execute``) is no SQL statement, one bound to text is."""
    files = {
        "src/items.controller.ts": """\
            export class ItemsController {
              @Delete(':id') drop(@Param('id') id: string) { return this.items.deleteOne(id) }
              @Post() find(@Body() dto: Dto) { return this.items.deleteOne(dto) }
              @Get(':id') one(@Param('id') id: string) {
                const cmd = LoadItemCommand.create({ id })
                return this.loadItem.execute(cmd)
              }
              @Get() list(@Query('q') q: string) {
                const sql = 'select * from items where name = ' + q
                return this.conn.execute(sql)
              }
            }
        """,
    }
    got = {(f.claim, f.sink_location.line) for f in run(files) if proves(f)}
    assert got == {("nosql_injection", 3), ("sql_injection", 10)}


def test_nest_parse_pipes_make_a_typed_value() -> None:
    """``@Param('id', ParseIntPipe)`` / ``new ParseUUIDPipe()``: Nest hands the handler a
    number or a UUID (or answers 400), so no statement can be spelled through it; a plain
    ``@Query`` string still can."""
    files = {
        "src/rows.controller.ts": """\
            export class RowsController {
              @Get(':id') one(@Param('id', ParseIntPipe) id: number) {
                return this.conn.query('select * from rows where id = ' + id)
              }
              @Get(':key') byKey(@Param('key', new ParseUUIDPipe()) key: string) {
                return this.conn.query(`select * from rows where key = '${key}'`)
              }
              @Get() find(@Query('name') name: string) {
                return this.conn.query('select * from rows where name = ' + name)
              }
            }
        """,
    }
    got = {(f.claim, f.sink_location.line) for f in run(files) if proves(f)}
    assert got == {("sql_injection", 9)}
