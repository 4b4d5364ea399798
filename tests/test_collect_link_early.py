"""Production code is extracted first, and the collectors that read no test code link as soon
as it is done, each into its own builder; the builders merge in collector order into the
facts one builder would have given."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.code.collector import Collector, FactsBuilder
from threatmodel.code.walk import walk
from threatmodel.collect import _run, collect_facts
from threatmodel.collect._link import production_first
from threatmodel.collect.registry import all_collectors
from threatmodel.models import Location, Secret


def _loc(path: str, line: int) -> Location:
    return Location(path=path, line=line)


def _first(b: FactsBuilder) -> None:
    b.add_env_read("API_KEY", _loc("a.py", 3), False)
    b.add_env_read("DEBUG", _loc("a.py", 1), False)
    b.warnings.append("first")


def _second(b: FactsBuilder) -> None:
    b.add_env_read("API_KEY", _loc("b.js", 9), True)
    b.add_env_read("API_KEY", _loc("a.py", 3), False)  # seen by the first already
    b.secrets.append(
        Secret(name="token", kind="generic", location=_loc("b.js", 2), fingerprint="0")
    )
    b.warnings.extend(["second", "first"])


def test_builders_merged_in_order_equal_one_builder() -> None:
    one = FactsBuilder()
    _first(one)
    _second(one)
    a, b, merged = FactsBuilder(), FactsBuilder(), FactsBuilder()
    _first(a)
    _second(b)
    merged.merge(a)
    merged.merge(b)
    assert merged.env_vars == one.env_vars
    assert merged.warnings == one.warnings
    assert merged.build() == one.build()
    (key,) = [v for v in merged.env_vars if v.name == "API_KEY"]
    assert key.client_exposed and [loc.path for loc in key.locations] == ["a.py", "b.js"]


APP = """from flask import Flask, request
import os

app = Flask(__name__)


@app.route("/run")
def run():
    return os.popen(request.args["cmd"]).read()
"""
TEST = 'API_TOKEN = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"[:36] + '"\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "tests" / "test_app.py").write_text("from app import app\n" + TEST)
    (tmp_path / "tests" / "conftest.py").write_text("import pytest\n")
    (tmp_path / "README.md").write_text("# app\n")
    return tmp_path


def test_production_code_comes_first(repo: Path) -> None:
    files = walk(repo).files
    tests = frozenset(f for f in files if f.startswith("tests/"))
    collectors = all_collectors()
    readers = {f: _run.interested(collectors, f, f in tests) for f in files}
    order, first = production_first(files, readers, tests)
    assert first == {"app.py"}
    assert order[0] == "app.py" and sorted(order) == sorted(files)


def test_early_collectors_link_before_test_code_is_read(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    extract_one = _run._extract_one

    def logged_extract(path: str, data: bytes, *args: object) -> str:
        events.append(path)
        return extract_one(path, data, *args)  # type: ignore[arg-type]

    def logged_collectors() -> list[Collector]:
        collectors = all_collectors()
        for c in collectors:
            link = c.link

            def logged_link(decoded, builder, ctx, link=link, cid=c.id):  # type: ignore[no-untyped-def]
                events.append(f"link {cid}")
                return link(decoded, builder, ctx)

            c.link = logged_link  # type: ignore[method-assign]
        return collectors

    before = collect_facts(repo, walk(repo).files, jobs=1)
    monkeypatch.setattr(_run, "_extract_one", logged_extract)
    monkeypatch.setattr(_run, "all_collectors", logged_collectors)
    after = collect_facts(repo, walk(repo).files, jobs=1)

    assert after.facts == before.facts and after.facts.flows, "the fixture has a flow"
    assert any(s.location.path.startswith("tests/") for s in after.facts.secrets)
    pyweb, secrets = events.index("link pyweb"), events.index("link secrets")
    assert events.index("app.py") < pyweb < events.index("tests/test_app.py") < secrets
    # every collector links once, the ones reading test code after the last file
    assert sorted(e for e in events if e.startswith("link ")) == sorted(
        f"link {c.id}" for c in all_collectors()
    )


SERVER = """const express = require('express')
const { ApolloServer } = require('@apollo/server')
const { expressMiddleware } = require('@apollo/server/express4')

const resolvers = { Query: { posts: () => [] } }
const app = express()
const server = new ApolloServer({ typeDefs: 'type Query { posts: [String] }', resolvers })
app.post('/api/v2/graphql', express.json(), expressMiddleware(server))
app.listen(4000)
"""


def test_a_link_reads_the_routes_linked_before_it(tmp_path: Path) -> None:
    """graphql_js names its operations under the endpoint Express linked before it."""
    (tmp_path / "package.json").write_text('{"name": "api", "dependencies": {"express": "4"}}')
    (tmp_path / "server.js").write_text(SERVER)
    (tmp_path / "server.test.js").write_text("test('posts', () => {})\n")  # read late
    facts = collect_facts(tmp_path, walk(tmp_path).files, jobs=1).facts
    paths = {r.path for r in facts.routes}
    assert "/api/v2/graphql" in paths
    assert "/api/v2/graphql/Query.posts" in paths, paths
