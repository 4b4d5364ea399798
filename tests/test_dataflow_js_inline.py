"""A view's inline ``<script>`` is browser code the JS engine reads in place (lines kept):
what the page's ``XMLHttpRequest`` gets from the app's API is stored data, and set as
``innerHTML`` it is a stored XSS to review. Template tags inside a script are constants;
a script with ``src`` or a data ``type`` is no code."""

from __future__ import annotations

from pathlib import Path

from js_support import collect

from threatmodel.code.inline import script_source
from threatmodel.code.source import SourceFile
from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.rules.flow_finding import stored

VIEW = """\
<% include ../common/head %>
<table id='people'></table>
<script src="/assets/lib.js"></script>
<script type="application/json" id="seed">{"a": "<%- seed %>"}</script>
<script type="text/javascript">
    var isAdmin = <%= admin %>;
    function show(people) {
        var table = document.getElementById('people');
        for (var i = 0; i < people.length; i++) {
            var cell = table.insertRow(i).insertCell(0);
            cell.innerHTML = people[i].name;
            cell.title = people[i].email;
        }
    }
    function load() {
        var xhr = new XMLHttpRequest();
        xhr.onreadystatechange = function () {
            if (xhr.readyState == 4) {
                show(JSON.parse(xhr.responseText).people);
            }
        };
        xhr.open("GET", "/api/people", true);
        xhr.send();
    }
    load();
</script>
"""


def test_a_views_script_is_cut_out_in_place() -> None:
    src = SourceFile.from_bytes("views/people.ejs", VIEW.encode())
    script = script_source(src)
    assert script is not None and script.language == "javascript"
    lines = script.text.splitlines()
    assert len(lines) == len(VIEW.splitlines())
    assert lines[5].strip().startswith("var isAdmin = null")  # the tag, a constant
    assert (
        "lib.js" not in script.text and "seed" not in script.text and "include" not in script.text
    )
    assert lines[10].strip() == "cell.innerHTML = people[i].name;"


def test_api_data_set_as_inner_html_in_a_view_is_a_stored_xss(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views/people.ejs").write_text(VIEW)
    facts = collect(tmp_path, JsFlowsCollector())
    found = [f for f in facts.flows if f.claim == "xss"]
    assert [(f.sink_location.path, f.sink_location.line, f.source) for f in found] == [
        ("views/people.ejs", 11, "XMLHttpRequest.response")
    ]
    assert stored(found[0])  # reviewed as a stored value, never confirmed as request input


def test_a_view_without_scripts_is_not_read() -> None:
    src = SourceFile.from_bytes("views/plain.ejs", b"<p><%= name %></p>\n")
    assert script_source(src) is None
