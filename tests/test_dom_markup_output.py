"""Markup a page's script builds from data and hands to jQuery reaches the output chunk.

``$(el).append(`<pre>${text}</pre>`)`` parses its argument as HTML: a stored value in it is
DOM XSS, with no ``innerHTML`` or ``|safe`` anywhere (a ninth-round miss: a GraphQL app's
pastes page). A jQuery call given an element or a plain string is not output.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.models import Facts
from threatmodel.summarize import summarize

PAGE = """\
<ul id="notes"></ul>
<script>
  fetch('/api/notes').then(r => r.json()).then(rows => {
    for (const row of rows) {
      $("#notes").append(
        `<li>
          <b>${row.title}</b>
        </li>`
      )
      $("#count").text(rows.length)
      $("#last").html('<i>' + row.author + '</i>')
    }
  })
</script>
"""

QUIET = """\
<div id="box"></div>
<script>
  const item = document.createElement("li")
  $("#box").append(item)
  $("#box").text("done")
</script>
"""


def _output(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / f"templates/{name}").write_text(text)
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=[f"templates/{name}"])
    return "\n".join(c.data for c in chunks if c.kind != "cross")


def test_jquery_given_built_markup_is_output(tmp_path: Path) -> None:
    data = _output(tmp_path, "notes.html", PAGE)
    assert "--- unescaped output: templates/notes.html lines 2-14" in data
    assert "7|          <b>${row.title}</b>" in data


def test_jquery_given_an_element_or_text_is_not(tmp_path: Path) -> None:
    assert "unescaped output" not in _output(tmp_path, "box.html", QUIET)
