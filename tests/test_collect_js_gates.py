"""The JS collectors' gates admit every shape their extract() reads (issue 11).

``tests/test_collect_gates.py`` proves gated and ungated facts are equal on every fixture;
these tests pin what the gates must let through in ``fixtures/js/gates-app`` (a sink name split
over lines, a guard defined in one file and used in another, a router exported and mounted
elsewhere, destructured env reads, a Prisma schema) and what they keep out.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.collect.env_js import JsEnvCollector
from threatmodel.collect.orm_js import JsOrmCollector
from threatmodel.collect.sinks_js import JsSinksCollector
from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.frameworks.express.settings import may_configure
from threatmodel.frameworks.nestjs.routes import NestJsCollector

APP = Path(__file__).parent / "fixtures" / "js" / "gates-app"


def test_gated_collect_keeps_cross_file_and_split_facts() -> None:
    facts = collect_facts(APP, walk(APP).files, cache=None, jobs=1).facts
    routes = {(r.method, r.path): r.auth.status.value for r in facts.routes}
    assert routes == {("GET", "/items/{id}"): "authenticated", ("DELETE", "/items/{id}"): "public"}
    sinks = {(s.kind, s.call, s.location.line) for s in facts.sinks}
    assert sinks == {
        ("eval", "vm.runInNewContext", 5),
        ("eval", "new Function", 10),
        ("sql", "$where", 14),
        ("template", "innerHTML", 18),
    }
    names = {v.name for v in facts.env_vars}
    assert {"DATABASE_URL", "API_KEY", "VITE_PUBLIC_KEY", "PORT"} <= names
    assert [t.name for t in facts.tables] == ["Account"]


def test_gates_keep_out_files_without_their_words() -> None:
    ui = "export function Button({ label }) { return <button>{label}</button>; }\n"
    for collector in (
        JsSinksCollector(),
        JsEnvCollector(),
        ExpressCollector(),
        NestJsCollector(),
        JsOrmCollector(),
    ):
        assert not collector.admits(ui), collector.id


def test_gates_admit_aliased_and_split_names() -> None:
    assert JsSinksCollector().admits("vm\n  .runInThisContext(src)")
    assert JsSinksCollector().admits("const { exec } = require('child_process')")
    assert JsEnvCollector().admits("const { A } = import.meta.env")
    assert ExpressCollector().admits("const { Router: R } = require('ex' + 'press')")
    assert JsOrmCollector().admits("view Totals {\n  n Int\n}\n")


def test_settings_need_a_security_package_import() -> None:
    # express skips settings_of on every call of a file that imports no such package
    assert may_configure({"session": ("express-session", "default")})
    assert may_configure({"cookieParser": ("cookie-parser", "*")})
    assert not may_configure({"express": ("express", "*"), "db": ("./db", "*")})
