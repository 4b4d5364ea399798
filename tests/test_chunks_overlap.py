"""Lines a request already quotes are named, not quoted again, by a later excerpt there."""

from __future__ import annotations

from pathlib import Path

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.chunk_overlap import quoted_lines, without_shown
from threatmodel.chunk_pack import Packer, Section
from threatmodel.code.reader import RepoReader
from threatmodel.excerpts import CodeRef
from threatmodel.models import Facts

EXCERPT = "\n".join(
    [
        "--- unescaped output: views/list.ejs lines 46-56",
        "46|<tr>",
        "47|<% for (row of rows) { %>",
        "49|<td><%- row.name %></td>",
        "50|<td><%- row.code %></td>",
        "51-55| … 5 lines without request data or sinks",
        "56|</tr>",
    ]
)


def test_quoted_lines_reads_the_numbered_lines_not_the_fold_markers() -> None:
    assert quoted_lines(EXCERPT) == ("views/list.ejs", {46, 47, 49, 50, 56})
    assert quoted_lines("route GET /a") is None


def test_lines_shown_above_become_one_marker_per_run() -> None:
    out = without_shown(EXCERPT, {47, 49, 50, 60})
    assert out.split("\n") == [
        "--- unescaped output: views/list.ejs lines 46-56",
        "46|<tr>",
        "(lines 47-50 shown above)",
        "51-55| … 5 lines without request data or sinks",
        "56|</tr>",
    ]
    assert without_shown(EXCERPT, {56}).endswith("\n(line 56 shown above)")


def test_an_excerpt_wholly_above_is_its_head() -> None:
    out = without_shown(EXCERPT, {46, 47, 49, 50, 56})
    assert out == "(--- unescaped output: views/list.ejs lines 46-56, shown above)"


def test_a_request_quotes_an_overlapping_excerpt_once(tmp_path: Path) -> None:
    """Two sections of one request quote overlapping lines of one file (a flow's window and
    the unescaped output inside it): the second names the lines the first shows; a second
    request, whose model has not read them, quotes them again."""
    (tmp_path / "page.html").write_text(
        "".join(f"<p>{{{{ v{i} | safe }}}}</p>\n" for i in range(12))
    )
    b = ChunkBuilder(Facts(), RepoReader(tmp_path))
    first = Section("flow xss", [CodeRef("page.html", 1, 8, "flow xss")])
    second = Section("", [CodeRef("page.html", 6, 12, "unescaped output")])
    (chunk,) = Packer(b, 6000).pack("", "component", [("a", first), ("b", second)])
    assert "--- unescaped output: page.html lines 6-12\n(lines 6-8 shown above)\n9|" in chunk.data
    assert chunk.data.count("7|<p>") == 1
    alone = Packer(b, 6000).pack("", "component", [("b", second)])
    assert "6|<p>{{ v5 | safe }}</p>" in alone[0].data
