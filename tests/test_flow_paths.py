"""A flow through another file names that file at each of its steps (Python and JS).

A proof chain is opened by a reviewer line by line: a step in a helper module must carry the
helper's path, never the handler's (CTFd showed ``admin/__init__.py:37`` for a line of
``utils/csv/__init__.py``).
"""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.collect.flows_js import root_aliases
from threatmodel.models import Flow, Location


def _python(files: dict[str, str]) -> list[Flow]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    return dataflow.flows(extracts)


def _js(files: dict[str, str]) -> list[Flow]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract_js(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got is not None:
            extracts[path] = got
    return dataflow.flows(extracts, root_aliases(extracts))


def _requests(flows: list[Flow]) -> list[Flow]:
    return [f for f in flows if f.claim == "command_injection" and f.source_kind == "request"]


def _lines(flow: Flow) -> list[tuple[str, int]]:
    return [(s.path, s.line) for s in flow.steps]


def _real(files: dict[str, str], loc: Location) -> str:
    """The text at a step's place: it must exist in the file the step names."""
    lines = textwrap.dedent(files[loc.path]).splitlines()
    assert 1 <= loc.line <= len(lines), loc
    return lines[loc.line - 1]


PY = {
    "app/views.py": """\
        from flask import Flask, request
        from app.helpers import run_it, build

        app = Flask(__name__)


        @app.route('/a')
        def a():
            name = request.args['n']
            run_it(name)
            return 'ok'


        @app.route('/b')
        def b():
            cmd = request.args['c']
            full = build(cmd)
            import os
            os.system(full)
            return 'ok'
        """,
    "app/helpers.py": """\
        import os


        def run_it(value):
            prefix = 'echo '
            line = prefix + value
            os.system(line)


        def build(value):
            x = 'ls ' + value
            y = x.strip()
            return y
        """,
}


def test_python_steps_in_a_callee_name_the_callee_file() -> None:
    flows = _requests(_python(PY))
    into = next(f for f in flows if f.sink_location.path == "app/helpers.py")
    assert into.source_location == Location(path="app/views.py", line=9)
    assert _lines(into)[0] == ("app/views.py", 9)
    assert ("app/helpers.py", 6) in _lines(into)  # line = prefix + value
    assert ("app/views.py", 6) not in _lines(into)  # the bug: a helper line under the view
    assert _lines(into)[-1] == ("app/helpers.py", 7)
    for step in into.steps:
        assert _real(PY, step).strip(), step


def test_python_steps_through_a_returning_callee_keep_both_files() -> None:
    flows = _requests(_python(PY))
    back = next(f for f in flows if f.sink_location == Location(path="app/views.py", line=19))
    got = _lines(back)
    assert got[0] == ("app/views.py", 16)
    assert ("app/helpers.py", 11) in got or ("app/helpers.py", 12) in got
    assert ("app/views.py", 17) in got  # full = build(cmd), after the callee's lines
    assert got[-1] == ("app/views.py", 19)
    assert ("app/views.py", 11) not in got and ("app/views.py", 12) not in got


JS = {
    "routes/r.js": """\
        const { runIt } = require('../lib/run')
        const express = require('express')
        const router = express.Router()
        router.get('/x', (req, res) => {
          const name = req.query.n
          runIt(name)
          res.send('ok')
        })
        module.exports = router
        """,
    "lib/run.js": """\
        const { exec } = require('child_process')
        function runIt (value) {
          const a = 'echo ' + value
          const b = a.trim()
          exec(b)
        }
        module.exports = { runIt }
        """,
}


def test_js_steps_in_a_callee_name_the_callee_file() -> None:
    flows = _requests(_js(JS))
    into = next(f for f in flows if f.sink_location.path == "lib/run.js")
    got = _lines(into)
    assert got[0][0] == "routes/r.js"
    assert ("lib/run.js", 3) in got or ("lib/run.js", 4) in got
    assert not any(p == "routes/r.js" and n in (3, 4) for p, n in got)
    assert got[-1] == ("lib/run.js", 5)
    for step in into.steps:
        assert _real(JS, step).strip(), step
