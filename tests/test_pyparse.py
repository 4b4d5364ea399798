"""Python of any version up to 3.14 is read whatever Python runs the tool (issue 16, 21).

Each fixture uses syntax the running interpreter may not know (PEP 701 f-strings, PEP 695
type parameters and ``type`` statements, PEP 696 defaults, PEP 758 ``except A, B:``, PEP 750
t-strings); its routes, sinks and secrets must be found all the same. The rewriter is also
checked against ``ast.parse`` itself: on code the interpreter reads, the fallback must give
the identical tree, positions included.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from conftest import declared_routes

from threatmodel.code.pyparse import NotPython, _Rewrite, parse_python
from threatmodel.code.source import SourceFile
from threatmodel.collect._run import collect_facts

FLASK_PEP701 = """\
from flask import Flask, request
import subprocess, sqlite3

app = Flask(__name__)
API_TOKEN = "sk_live_51Habcdefghijklmnopqrstuvwx"

@app.route("/users/<name>")
def user(name):
    row = {"id": 1}
    db = sqlite3.connect("x.db")
    db.execute(f"SELECT * FROM users WHERE name = '{request.args["name"]}' AND id={row["id"]}")
    return f"{'\\n'.join([name])}"

@app.post("/run")
def run():
    cmd = request.form["cmd"]
    subprocess.run(f"echo {cmd  # a comment inside the field
    }", shell=True)
    return "ok"
"""

PEP695 = """\
from fastapi import FastAPI
import os

app = FastAPI()

def quantize_price[PriceType: (int, float)](price: PriceType) -> PriceType:
    return price

class Box[T = int]:
    value: T

type Pair[K, V = str] = tuple[K, V]
type Alias = int

@app.get("/items/{item_id}")
async def item[T](item_id: int) -> dict:
    try:
        os.system(f"ls {item_id}")
    except ValueError, TypeError:
        pass
    return {"id": item_id, "t": t"hello {item_id}"}
"""


def _facts(tmp_path: Path, files: dict[str, str]):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return collect_facts(tmp_path, sorted(files), jobs=1)


def test_pep701_file_yields_routes_sinks_secrets(tmp_path: Path) -> None:
    result = _facts(tmp_path, {"app.py": FLASK_PEP701})
    assert result.not_parsed == []
    facts = result.facts
    assert {(r.method, r.path) for r in facts.routes} >= {
        ("GET", "/users/{name}"),
        ("POST", "/run"),
    }
    kinds = {(s.kind, s.location.line, s.dynamic) for s in facts.sinks}
    assert ("sql", 11, True) in kinds
    assert ("command", 17, True) in kinds
    assert [s.name for s in facts.secrets] == ["API_TOKEN"]


def test_pep695_pep758_t_strings_yield_routes_and_sinks(tmp_path: Path) -> None:
    result = _facts(tmp_path, {"main.py": PEP695})
    assert result.not_parsed == []
    assert [(r.method, r.path) for r in declared_routes(result.facts.routes)] == [
        ("GET", "/items/{item_id}")
    ]
    assert any(s.kind == "command" and s.location.line == 18 for s in result.facts.sinks)


def test_fallback_tree_is_what_312_gives() -> None:
    tree = parse_python(PEP695)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert names == ["quantize_price", "Box"]
    alias = getattr(ast, "TypeAlias", ast.Assign)  # 3.12 has its own node; 3.11 an assignment
    aliases = [n for n in tree.body if isinstance(n, alias)][1:]  # after `app = FastAPI()`
    assert [ast.unparse(a).split("=")[0].strip() for a in aliases] in (
        [["Pair"], ["Alias"]],
        ["Pair", "Alias"],
        ["type Pair[K, V = str]", "type Alias"],
    )
    fn = tree.body[-1]
    assert isinstance(fn, ast.AsyncFunctionDef)
    handler = fn.body[0]
    assert isinstance(handler, ast.Try)
    caught = handler.handlers[0].type
    assert isinstance(caught, ast.Tuple) and len(caught.elts) == 2
    # Positions are the file's own: the f-string's field expression `item_id` on line 18.
    call = next(n for n in ast.walk(handler) if isinstance(n, ast.Call))
    field = next(n for n in ast.walk(call) if isinstance(n, ast.Name) and n.id == "item_id")
    line = PEP695.splitlines()[17]
    assert (field.lineno, field.col_offset) == (18, line.index("{item_id}") + 1)


def test_nested_fstring_values_and_positions() -> None:
    src = 'x = f"a{d["k"]!r:>{w}}b{y=}" "c"\n'
    tree = parse_python(src)
    value = tree.body[0].value  # type: ignore[attr-defined]
    assert isinstance(value, ast.JoinedStr)
    assert [type(v).__name__ for v in value.values] == [
        "Constant",
        "FormattedValue",
        "Constant",
        "FormattedValue",
        "Constant",
    ]
    assert value.values[2].value == "by="
    sub = value.values[1].value
    assert isinstance(sub, ast.Subscript) and sub.col_offset == src.index("d[")
    assert value.values[1].conversion == ord("r")
    assert value.values[3].conversion == ord("r")  # self-documenting, no spec: repr


@pytest.mark.parametrize(
    "path", sorted(p for p in Path(__file__).parent.parent.joinpath("threatmodel").rglob("*.py"))
)
def test_fallback_equals_interpreter_on_own_code(path: Path) -> None:
    """Forced through the rewriter, every module of the tool parses to the same tree."""
    text = path.read_text()
    expected = ast.parse(text)
    got = _Rewrite(text, "exec").parse(str(path))
    assert ast.dump(got) == ast.dump(expected)
    inside_fstrings = {
        id(v) for n in ast.walk(expected) if isinstance(n, ast.JoinedStr) for v in n.values
    }

    def positions(tree: ast.AST) -> list[tuple[int, int, int | None, int | None]]:
        return [
            (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
            for n in ast.walk(tree)
            if isinstance(n, ast.expr | ast.stmt)
            and not isinstance(n, ast.JoinedStr | ast.FormattedValue)
            and id(n) not in inside_fstrings
        ]

    got_consts = {id(v) for n in ast.walk(got) if isinstance(n, ast.JoinedStr) for v in n.values}
    assert positions(expected) == [
        (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
        for n in ast.walk(got)
        if isinstance(n, ast.expr | ast.stmt)
        and not isinstance(n, ast.JoinedStr | ast.FormattedValue)
        and id(n) not in got_consts
    ]


def test_not_python_is_named_so_never_syntax_error() -> None:
    with pytest.raises(NotPython) as exc:
        parse_python("print 'hello'\n")  # Python 2
    assert str(exc.value) == "not Python 3.x syntax at line 1"
    src = SourceFile.from_bytes("py2.py", b"import os\nprint 'hello'\n")
    assert src.python_ast is None
    assert src.parse_errors == ["not Python 3.x syntax at line 2"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the fallback only runs on 3.11")
def test_interpreter_alone_cannot_read_the_fixtures() -> None:
    """The fixtures above really need the fallback on this interpreter."""
    for src in (FLASK_PEP701, PEP695):
        with pytest.raises(SyntaxError):
            ast.parse(src)


def test_invalid_utf8_route_found_and_not_called_not_parsed(tmp_path: Path) -> None:
    data = (
        b"from flask import Flask\napp = Flask(__name__)\n# caf\xe9\n"
        b"@app.get('/ping')\ndef ping():\n    return 'pong'\n"
    )
    (tmp_path / "app.py").write_bytes(data)
    bad = b"\xe9"
    result = collect_facts(tmp_path, ["app.py"], jobs=1)
    assert [r.path for r in declared_routes(result.facts.routes)] == ["/ping"]
    assert result.not_parsed == []
    assert result.warnings == [
        "1 file is not valid UTF-8, read with replacement characters: "
        f"app.py (invalid UTF-8 at byte {data.index(bad)})"
    ]


TRICKY = """\
x = f"{a!=b}" + f"{x:{w}.{p}f}" + F"{x}" Rf"\\d{x}" fR'{y}'
m = f"{
    x
}"
n = f\"\"\"{f\"\"\"x\"\"\"}\"\"\" + f"{(lambda: 1)()}" + f"{ {'a': 1}['a'] }" + f"{x=!r:>10}"
r = f"{'\\t'.join(a)}"
s = f\"\"\"{
    x  # a comment
    + 1
}\"\"\"
class A[T: int = bool, *Ts, **P](B, metaclass=M):
    type Inner = list[T]
def g[
    T,
    U = int,
](a: T) -> U:
    type = 1
    print(type(a), type)
    return a
async def h[T](x: T): pass
e = "é"; y2 = f"{d["é"]}" + f'{e!a}' + "tail"
try:
    pass
except* ValueError, TypeError:
    pass
w = t"hi {name!r:>{width}}" f"{'a' if x else "b"}" f"{{literal}}" "\\N{BULLET} {x}"
print(f"{x:=10}", f"{x = :>10}", rf"\\N{x}" f"\\N{BULLET}{x}")
"""


def test_every_name_sits_at_its_own_column() -> None:
    """Whatever was rewritten, each name's (line, byte column) is where the file has it:
    the property verifiers and excerpts rely on. (Checked against Python 3.13's own tree
    when written: identical, positions included.)"""
    tree = parse_python(TRICKY)
    lines = TRICKY.encode().split(b"\n")
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    assert len(names) > 40
    for n in names:
        assert lines[n.lineno - 1][n.col_offset :].startswith(n.id.encode()), n.id
    inner = tree.body[5].body[0]  # type: ignore[attr-defined]
    assert (inner.lineno, inner.col_offset) == (12, 4)  # `type Inner = ...` starts at `type`
    bullet = tree.body[-1].value.args[2].values  # type: ignore[attr-defined]
    assert bullet[0].value == "\\N" and bullet[2].value == "\N{BULLET}"
