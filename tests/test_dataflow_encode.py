"""The engine's cost and determinism: labels' paths, the compact extract format, link's pruning."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.encode import LabelTable, read_table
from threatmodel.dataflow.values import Label, distinct


def _extract(path: str, text: str) -> dict[str, Any]:
    got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
    assert got is not None
    return got


def test_sequential_loops_do_not_multiply_labels() -> None:
    # Each loop joins the paths a value may have taken; counted as distinct labels, 24 loops
    # made 2**24 variants of what ``out`` holds (a management command took seconds).
    loops = "".join(f"    for msg in step{i}(n):\n        out.write(msg)\n" for i in range(24))
    text = "".join(f"from app.steps import step{i}\n" for i in range(24))
    text += f"def handle(out, n):\n{loops}    return out\n"
    got = _extract("cmd.py", text)
    assert len(got["labels"]) < 200
    assert len(json.dumps(got)) < 40_000


def test_distinct_keeps_one_path_whatever_the_order() -> None:
    a = Label("request", "request.args", 3, steps=(5, 9))
    b = Label("request", "request.args", 3, steps=(4,))
    c = Label("request", "request.form", 3, steps=(7,))
    assert a == b and hash(a) == hash(b)  # the path is not part of a label's identity
    for order in ([a, b, c], [c, b, a], [b, a, c]):
        got = {(x.origin, x.steps) for x in distinct(order)}
        assert got == {("request.args", (4,)), ("request.form", (7,))}


def test_label_table_round_trip_keeps_paths_and_nesting() -> None:
    inner = Label("param", "x", 2, steps=(4,))
    same_but_other_path = Label("param", "x", 2, steps=(6,))
    call = Label("call", "pkg.mod.f", 5, frozenset({"sql_injection"}), (("0", frozenset({inner})),))
    table = LabelTable()
    ids = table.ids([call, inner, same_but_other_path, inner])
    assert ids[1] == ids[3] and ids[1] != ids[2]  # rows keep every path
    assert table.rows[ids[1]][-1] == [4]  # trailing empty parts are left out
    back = read_table(json.loads(json.dumps(table.rows)), "a.py")
    got = back[ids[0]]
    assert (got.kind, got.origin, got.line, got.safe, got.path) == (
        "call",
        "pkg.mod.f",
        5,
        frozenset({"sql_injection"}),
        "a.py",
    )
    ((key, labels),) = got.args
    assert key == "0" and [(x.origin, x.steps, x.path) for x in labels] == [("x", (4,), "a.py")]
    assert back[ids[2]].steps == (6,)


def test_parameter_sink_is_followed_through_a_chain_of_helpers() -> None:
    # link follows parameter -> sink only into functions that can reach a sink; a chain of
    # two helpers must still be followed, and a helper that reaches none is skipped.
    helpers = _extract(
        "helpers.py",
        """
        import os
        def run(cmd):
            os.system(cmd)
        def wrap(c):
            run(c)
        def harmless(c):
            return len(c)
        """,
    )
    app = _extract(
        "app.py",
        """
        from flask import Flask, request
        from helpers import wrap, harmless
        app = Flask(__name__)
        @app.route('/x')
        def view():
            harmless(request.args['c'])
            wrap(request.args['c'])
            return 'ok'
        """,
    )
    flows = dataflow.flows({"helpers.py": helpers, "app.py": app})
    hits = [
        (f.claim, f.sink_location.path, f.sink_location.line, f.source_kind)
        for f in flows
        if f.broken_by is None
    ]
    assert ("command_injection", "helpers.py", 4, "request") in hits
