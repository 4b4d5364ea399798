"""The Python collectors' text gates (collect/_pygates.py) admit every spelling Python accepts.

A gate too narrow silently loses sinks; these tests pin the spellings a plain word search
would miss (NFKC look-alikes, a gap between callee and "("), check every sink the claim
catalog names is admitted as a call by the dataflow collector that follows it, and that a
file without any is not; likewise JWT calls and every model form of the Python ORM
collector.
"""

from __future__ import annotations

import ast
import unicodedata

import pytest

from threatmodel.claims import REGISTRY
from threatmodel.code.source import SourceFile
from threatmodel.collect import env, flows_python, jwt_python, orm_python
from threatmodel.collect._pyexpr import Scope
from threatmodel.collect._pygates import LOOKALIKE_RANGES, gate
from threatmodel.verify._calls import sink_kind

SINKS = flows_python.PythonFlowsCollector()
JWT = jwt_python.PythonJwtCollector()
IMPORTS = {"os": ["os", "", 0], "text": ["sqlalchemy", "text", 0]}


def _lookalike_ranges() -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in range(0x80, 0x110000):
        c = chr(cp)
        if not ("a" + c).isidentifier():
            continue
        if any(
            ch.isascii() and (ch.isalnum() or ch == "_") for ch in unicodedata.normalize("NFKC", c)
        ):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return ranges


def test_lookalike_table_matches_this_pythons_unicode() -> None:
    assert list(LOOKALIKE_RANGES) == _lookalike_ranges()


@pytest.mark.parametrize(
    "code",
    [
        "\uff45\uff56\uff41\uff4c(x)",  # fullwidth letters: NFKC makes it eval
        "os.\uff53ystem(cmd)",
        "(cur.execute)(q)",
        "[cur.execute  # why\n(q)]",  # inside brackets a call spans lines
        "os.system \\\n (cmd)",
        "text (q)",
    ],
)
def test_admits_spellings_python_reads_as_a_sink(code: str) -> None:
    tree = ast.parse(code)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert sink_kind(call, IMPORTS) is not None  # the premise: Python sees a sink here
    assert SINKS.admits(code)


def _sink_names() -> list[tuple[str, bool]]:
    """Every Python catalog callee as a call, and whether its kind is a sink fact."""
    names = {
        (f"obj{row.callee}" if row.callee.startswith(".") else row.callee, bool(spec.sink_fact))
        for spec in REGISTRY.values()
        for row in spec.sinks
        if row.language == "python" and row.callee != "<return>"
    }
    return sorted(names)


@pytest.mark.parametrize(("name", "fact"), _sink_names())
def test_every_sink_name_is_admitted(name: str, fact: bool) -> None:
    code = f"def f(x):\n    return {name}(x)\n"
    call = next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call))
    assert (sink_kind(call, {}) is not None) is fact
    assert SINKS.admits(code)


@pytest.mark.parametrize(
    "code", ["jwt.decode(t, k)", "x.get_unverified_claims(t)", "jwt.encode(p, 'k')"]
)
def test_jwt_calls_are_admitted(code: str) -> None:
    call = next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call))
    assert jwt_python.jwt_settings(call, Scope())
    assert JWT.admits(code)


@pytest.mark.parametrize(
    "code",
    [
        "def total(items):\n    return sum(i.price for i in items)\n",
        "# open the door\nevaluate(x)\nreopened = 1\n",
        "x = 'café'\n",  # non-ASCII, but no look-alike of an identifier character
    ],
)
def test_rejects_files_without_a_sink(code: str) -> None:
    assert not SINKS.admits(code)
    assert not JWT.admits(code)


def test_gate_pattern_parts() -> None:
    pattern = gate(calls=["open"], words=["yaml"], substrings=["get_unverified"])
    assert pattern.search("f = open (p)") and not pattern.search("opened(p)")
    assert pattern.search("import yaml") and not pattern.search("yamlish = 1")
    assert pattern.search("x.get_unverified_claims") and not pattern.search("open # (")
    assert pattern.search("x = '\uff59aml'") and not pattern.search("x = 'café'")


ORM = orm_python.PythonOrmCollector()


@pytest.mark.parametrize(
    "code",
    [
        "class User(db.Model):\n    id = db.Column(db.Integer)\n",
        "class User(db.Model):\n    __tablename__ = 'users'\n    id: Mapped[int]\n",
        "class User(Model):\n    id: Mapped[int]\n",  # only the annotation names a column
        "class A(Model):\n    n = sa.orm.column_property(x)\n",
        "from django.db import models\nclass P(models.Model):\n    n = models.CharField()\n",
        "t = Table('t', meta, Column('id', Integer))\n",
    ],
)
def test_orm_gate_admits_every_model_form(code: str) -> None:
    src = SourceFile.from_bytes("app/models.py", code.encode())
    assert ORM.extract(src)  # the premise: a model is found
    assert ORM.admits(code)


def test_orm_gate_rejects_pydantic_models() -> None:
    code = "from pydantic import BaseModel\nclass Item(BaseModel):\n    name: str\n"
    assert ORM.extract(SourceFile.from_bytes("app/schemas.py", code.encode())) is None
    assert not ORM.admits(code)


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("from decouple import config\nA = config('A')\n", ["A"]),
        ("import de\nenv = de.Env()\nSettings = 1\nB = env('B')\n", ["B"]),
        ("class S(BaseSettings):\n    db_url: str\n", ["DB_URL"]),
        ("import os\nC = os.getenv('C')\nD = os.environ['D']\n", ["C", "D"]),
    ],
)
def test_env_reads_pass_its_name_test(code: str, names: list[str]) -> None:
    src = SourceFile.from_bytes("app/settings.py", code.encode())
    assert [n for n, _ in env.EnvCollector().extract(src)] == names


def test_env_skips_a_settings_file_without_reads() -> None:
    code = "from django.conf import settings\nclass Settings:\n    debug = settings.DEBUG\n"
    assert env._READ_NAMES.search(code) is None
    assert env.EnvCollector().extract(SourceFile.from_bytes("app/x.py", code.encode())) is None
