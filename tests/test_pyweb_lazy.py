"""pyweb's guard summaries are stubs in the extract and summarised when link reads them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from threatmodel.code.pyparse import parse_lines
from threatmodel.code.source import SourceFile
from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.collect.cache import FactCache
from threatmodel.collect.pyweb import PythonWebCollector
from threatmodel.collect.pyweb_lazy import LazyFunctions, _File, _find
from threatmodel.frameworks._python.guards import summarize_with_text
from threatmodel.frameworks._python.stubs import LAZY, stub

APP = """\
from functools import wraps
from flask import Flask, abort, session

app = Flask(__name__)
API_KEY = "not-a-real-key-0123456789abcdef"


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if "user" not in session:
            abort(401)
        return view(*args, **kwargs)
    return wrapped


class Admin:
    @staticmethod
    @login_required
    def check(
        token,
    ):
        if token != API_KEY:
            abort(403)


@app.route("/open")
def open_view():
    return "hi"


@app.route("/private")
@login_required
async def private_view():
    return "secret"
"""


def _defs(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for m in node.body:
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef):
                    out[f"{node.name}.{m.name}"] = m
    return out


def test_a_stub_read_by_link_is_the_summary_extract_used_to_keep(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    src = SourceFile.from_bytes("app.py", APP.encode())
    tree = src.python_ast
    assert tree is not None
    data = PythonWebCollector().extract(src)
    assert data is not None
    stubs = json.loads(json.dumps(data))["functions"]  # as the cache keeps them
    defs = _defs(tree)
    # a flask file: every function, as before (and the decorator's inner function, which
    # the flask extract summarises itself)
    assert set(defs) <= set(stubs)
    assert all(set(stubs[q]) == {LAZY} for q in defs)
    lazy = LazyFunctions(stubs, tmp_path, "app.py")
    for qual, fn in defs.items():
        # a method (indented, decorated over several lines), an async def, a plain one
        expected = json.loads(json.dumps(summarize_with_text(fn, src.lines)))
        assert json.loads(json.dumps(lazy[qual])) == expected, qual
    assert lazy.get("nope") is None
    assert "not-a-real-key" not in json.dumps(data)


def test_a_file_changed_since_extract_gives_no_summary(tmp_path: Path) -> None:
    src = SourceFile.from_bytes("app.py", APP.encode())
    assert src.python_ast is not None
    fn = _defs(src.python_ast)["open_view"]
    (tmp_path / "app.py").write_text(APP.replace('return "hi"', 'return "ho"'))
    lazy = LazyFunctions({"open_view": stub(fn, src.lines)}, tmp_path, "app.py")
    assert lazy["open_view"] is None
    (tmp_path / "app.py").unlink()
    assert LazyFunctions({"f": stub(fn, src.lines)}, tmp_path, "app.py").get("f") is None


def test_a_function_is_parsed_alone_at_its_own_lines_and_columns(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    f = _File(tmp_path, "app.py")
    src = SourceFile.from_bytes("app.py", APP.encode())
    assert src.python_ast is not None
    for qual, fn in _defs(src.python_ast).items():
        first, last, line, _ = stub(fn, src.lines)[LAZY]
        got = _find(parse_lines(f.lines, first, last, "app.py"), qual.rsplit(".", 1)[-1], line)
        assert got is not None and ast.dump(got, include_attributes=True) == ast.dump(
            fn, include_attributes=True
        ), qual


def test_lines_that_do_not_parse_alone_are_found_in_the_whole_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    f = _File(tmp_path, "app.py")
    src = SourceFile.from_bytes("app.py", APP.encode())
    assert src.python_ast is not None
    fn = _defs(src.python_ast)["Admin.check"]
    # from the ``def`` line only: ``token,`` and ``):`` below do not parse without it
    got = f.function("Admin.check", fn.lineno + 1, fn.end_lineno or 0, fn.lineno)
    assert got is not None and ast.dump(got, include_attributes=True) == ast.dump(
        fn, include_attributes=True
    )


def test_routes_and_guards_are_the_same_through_the_stubs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    auth = {r.path: r.auth.status.value for r in facts.routes}
    # ``login_required`` is judged from its summary, which only link asked for
    assert auth["/open"] == "public" and auth["/private"] == "authenticated"


VIEWS = """\
from flask import Flask
from auth import login_required

app = Flask(__name__)


@app.route("/private")
@login_required
def private_view():
    return "secret"
"""

AUTH = """\
from functools import wraps
from flask import abort, session


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if "user" not in session:
            abort(401)
        return view(*args, **kwargs)
    return wrapped
"""


def test_a_warm_scan_after_an_edit_summarises_the_edited_file(tmp_path: Path) -> None:
    """The decorator's file changes (lines shifted, the check gone): its stubs are made
    again and link summarises the new lines; the unchanged views file comes from the
    cache. The warm result is the cold one's."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "views.py").write_text(VIEWS)
    (root / "auth.py").write_text(AUTH)

    def collect(cached: bool) -> tuple[dict[str, str], int]:
        cache = FactCache(tmp_path / "cache") if cached else None
        try:
            got = collect_facts(root, walk(root).files, cache=cache, jobs=1)
        finally:
            if cache is not None:
                cache.close()
        return {r.path: r.auth.status.value for r in got.facts.routes}, got.cache_hits

    assert collect(True)[0]["/private"] == "authenticated"
    edited = AUTH.replace('        if "user" not in session:\n            abort(401)\n', "")
    (root / "auth.py").write_text("# moved down\n\n\n" + edited)
    warm, hits = collect(True)
    assert hits >= 1  # views.py, from the cache
    assert warm == collect(False)[0]
    assert warm["/private"] != "authenticated"
