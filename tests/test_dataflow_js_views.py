"""Request data rendered by ``res.render(view, locals)``: XSS only where the view prints a
local raw (EJS ``<%- %>``, Handlebars ``{{{ }}}``), found by reading the view at link time;
a local the view escapes, or one it includes as another view, is no flow."""

from __future__ import annotations

from pathlib import Path

from js_support import collect

from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.dataflow.jsviews import raw_outputs, resolve
from threatmodel.models import Flow, Location

HANDLERS = """\
var db = require('../models')

module.exports.search = function (req, res) {
  db.Item.findAll({}).then(items => {
    var out = { items: items, term: req.body.q, note: req.body.note }
    res.render('shop/items', { out: out })
  })
}

module.exports.profile = function (req, res) {
  res.render('shop/profile', { who: req.query.name, part: req.query.part })
}

module.exports.card = function (req, res) {
  res.render('card', { title: req.query.title })
}
"""

ITEMS = """\
<h1>Items</h1>
<p>You searched for <%- out.term %></p>
<p><%= out.note %></p>
<% for (var i = 0; i < out.items.length; i++) { %>
  <td><%- out.items[i].name %></td>
<% } %>
"""

PROFILE = """\
<p>Hello <%= who %></p>
<%- include(part) %>
"""

CARD = "<div>{{{ title }}}</div>\n"


def _flows(tmp_path: Path) -> list[Flow]:
    files = {
        "core/handlers.js": HANDLERS,
        "views/shop/items.ejs": ITEMS,
        "views/shop/profile.ejs": PROFILE,
        "views/card.hbs": CARD,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    facts = collect(tmp_path, JsFlowsCollector())
    return [f for f in facts.flows if f.claim == "xss" and f.broken_by is None]


def test_a_local_the_view_prints_raw_is_xss_at_the_views_line(tmp_path: Path) -> None:
    flows = _flows(tmp_path)
    request = [f for f in flows if f.source_kind == "request"]
    at = sorted((f.sink_location.path, f.sink_location.line, f.source) for f in request)
    assert at == [("views/card.hbs", 1, "req.query"), ("views/shop/items.ejs", 2, "req.body")]
    items = next(f for f in request if f.sink_location.path.endswith("items.ejs"))
    # the proof chain: the request read, the render call, the view's raw output
    assert [(s.path, s.line) for s in items.steps][-2:] == [
        ("core/handlers.js", 6),
        ("views/shop/items.ejs", 2),
    ]
    assert items.sink == "res.render"


def test_a_stored_value_printed_raw_is_a_stored_flow(tmp_path: Path) -> None:
    stored = [f for f in _flows(tmp_path) if f.source_kind == "database"]
    assert [(f.sink_location.path, f.sink_location.line) for f in stored] == [
        ("views/shop/items.ejs", 5)
    ]


def test_escaped_and_included_locals_are_no_flow(tmp_path: Path) -> None:
    flows = _flows(tmp_path)
    assert not [f for f in flows if "profile" in f.sink_location.path]
    assert not [f for f in flows if f.sink_location.path == "core/handlers.js"]


def test_raw_outputs_name_the_printed_paths_not_calls_or_includes() -> None:
    text = "<%- JSON.stringify(data.rows[0]) + ' items' %>\n<%- include('x') %>\n<%-a.b%><%= c %>\n"
    assert raw_outputs(text, "ejs") == [(1, "data.rows"), (3, "a.b")]
    assert raw_outputs("p!= bio\nspan !{user.name}\n", "pug") == [(1, "bio"), (2, "user.name")]
    assert raw_outputs("if a!== b\n  p= a\n", "pug") == []  # a comparison, an escaped output


def test_flows_into_other_sinks_pass_through_untouched(tmp_path: Path) -> None:
    # a package's name may hold "@" (``@angular/...``): only a render's own mark is read
    at = Location(path="src/a.ts", line=3)
    flow = Flow(
        claim="xss",
        source_kind="database",
        source="HttpClient.get",
        source_location=at,
        sink="@angular/platform-browser.DomSanitizer.bypassSecurityTrustHtml",
        sink_location=at,
    )
    assert resolve([flow], tmp_path, []) == [flow]


def test_a_view_outside_a_views_folder_is_found_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "src/templates").mkdir(parents=True)
    (tmp_path / "src/templates/greet.ejs").write_text("<p>\n<%- who %></p>\n")
    (tmp_path / "src/app.js").write_text(
        "module.exports.greet = function (req, res) {\n"
        "  res.render('greet', { who: req.query.who })\n"
        "}\n"
    )
    flows = [f for f in collect(tmp_path, JsFlowsCollector()).flows if f.claim == "xss"]
    assert [(f.sink_location.path, f.sink_location.line) for f in flows] == [
        ("src/templates/greet.ejs", 2)
    ]


def test_koa_and_fastify_render_through_their_own_objects(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views/hello.ejs").write_text("<h1><%- name %></h1>\n")
    (tmp_path / "app.js").write_text(
        "router.get('/k', async (ctx) => {\n"
        "  await ctx.render('hello', { name: ctx.query.name })\n"
        "})\n"
        "fastify.get('/f', (request, reply) => {\n"
        "  reply.view('/views/hello.ejs', { name: request.query.name })\n"
        "})\n"
        "function later (tpl) { tpl.render('hello', { name: 'x' }) }\n"
    )
    flows = [f for f in collect(tmp_path, JsFlowsCollector()).flows if f.claim == "xss"]
    assert sorted((f.steps[-2].line, f.sink_location.path) for f in flows) == [
        (2, "views/hello.ejs"),
        (5, "views/hello.ejs"),
    ]


BADGE = """\
module.exports.badge = function (req, res) {
  res.render('badge.dust', { kind: req.query.kind, label: req.query.label, tip: req.query.tip })
}
"""

BADGE_VIEW = """\
<span>{label}</span>
{@if cond="'{kind}' == 'gold'"}<b>gold</b>{/if}
<i>{tip|s}</i>
"""


def test_a_dust_view_evaluates_its_if_conds_and_prints_s_filtered_references_raw(
    tmp_path: Path,
) -> None:
    # dustjs-helpers' ``@if`` evals its cond with the references substituted: code
    # injection there; ``{tip|s}`` is printed unescaped: XSS; ``{label}`` is escaped
    (tmp_path / "views").mkdir()
    (tmp_path / "views/badge.dust").write_text(BADGE_VIEW)
    (tmp_path / "badge.js").write_text(BADGE)
    facts = collect(tmp_path, JsFlowsCollector())
    found = sorted(
        (f.claim, f.sink_location.path, f.sink_location.line, f.source_location.line)
        for f in facts.flows
        if f.source_kind == "request"
    )
    assert found == [
        ("code_injection", "views/badge.dust", 2, 2),
        ("xss", "views/badge.dust", 3, 2),
    ]


NOTES = """\
var mongoose = require('mongoose')
var Note = mongoose.model('Note')

module.exports.list = function (req, res) {
  Note.find({}).sort('-at').exec(function (err, notes) {
    res.render('notes', { notes: notes })
  })
}
"""

NOTES_VIEW = """\
<% notes.forEach(function (note) { %>
  <li><%= note.title %></li>
  <li><%- note.body %></li>
<% }) %>
<% for (const again of notes) { %><p><%- again.body %></p><% } %>
"""


def test_a_mongoose_querys_rows_printed_raw_through_a_loop_element_are_stored_flows(
    tmp_path: Path,
) -> None:
    # ``exec``'s callback gets the rows (stored data); the view prints ``note.body`` of
    # ``notes.forEach(function (note)``: the list's path, so the flow ends at that line
    (tmp_path / "views").mkdir()
    (tmp_path / "views/notes.ejs").write_text(NOTES_VIEW)
    (tmp_path / "notes.js").write_text(NOTES)
    facts = collect(tmp_path, JsFlowsCollector())
    found = sorted(
        (f.claim, f.source_kind, f.sink_location.path, f.sink_location.line) for f in facts.flows
    )
    assert found == [("xss", "database", "views/notes.ejs", 3)]
    assert raw_outputs(NOTES_VIEW, "ejs") == [(3, "notes.body"), (5, "notes.body")]
