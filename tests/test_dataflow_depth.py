"""The resolution depth bound (``link.MAX_DEPTH``): a repository function met past it is not
read, so the value is assumed to pass through, marked like a call link could not resolve
(``Flow.unresolved``): the flow is still found, for review, but it is no proof. Within the
bound the chain is read and proves (or clears) as its code says."""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.link import MAX_DEPTH
from threatmodel.dataflow.proof import proves, unbroken
from threatmodel.models import Flow


def _chain(n: int, last: str) -> str:
    """``hop0`` .. ``hop{n-1}``: each hands its argument to the next; the last ``last``."""
    out: list[str] = []
    for i in range(n - 1):
        out.append(f"def hop{i}(x):\n    return hop{i + 1}(x)\n")
    out.append(f"def hop{n - 1}(x):\n    {last}\n")
    return "\n".join(out)


VIEW = """
from flask import Flask, request

from helpers import hop0

app = Flask(__name__)


@app.route("/q")
def q():
    name = hop0(request.args["name"])
    return sqlite3.connect("db").execute("SELECT * FROM t WHERE n = '" + name + "'")
"""


def _flows(n: int, last: str) -> list[Flow]:
    files = {"helpers.py": _chain(n, last), "app.py": "import sqlite3\n" + VIEW}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    return [
        f
        for f in dataflow.flows(extracts)
        if f.claim == "sql_injection" and f.source_kind == "request"
    ]


def test_a_chain_within_the_bound_is_read() -> None:
    flows = _flows(MAX_DEPTH - 1, "return x")
    assert flows and all(proves(f) for f in flows)
    assert not _flows(MAX_DEPTH - 1, "return 'constant'"), "read: it returns a constant"


def test_a_function_past_the_bound_passes_its_input_through_for_review() -> None:
    # its code returns a constant, but it is not read: the request is assumed to get through
    flows = _flows(MAX_DEPTH + 3, "return 'constant'")
    assert flows and all(unbroken(f) and not proves(f) for f in flows)
    assert all(f.unresolved for f in flows), "the call not followed is named"
