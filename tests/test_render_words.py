"""The words of the report (issue 21 "Words"): counts, policy titles, mitigations, notes.

Each test failed before its fix; they read the real rules and renderers on a small scan of
examples/leaky-notes (no LLM) or on hand-built facts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EXAMPLE

from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.models import (
    AuthStatus,
    Evidence,
    Facts,
    Finding,
    Location,
    Policy,
    Report,
    Route,
    RouteAuth,
    Severity,
    Sink,
    Stride,
    Table,
)
from threatmodel.render import render
from threatmodel.render.mermaid import render_mermaid
from threatmodel.render.system import build_system
from threatmodel.render.view import informative_notes
from threatmodel.rules import RuleContext
from threatmodel.rules.injectable_sink import InjectableSinkInHandler
from threatmodel.rules.permissive_policy import PermissiveRlsPolicy
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.words import plural


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, str]:
    cache = tmp_path_factory.mktemp("c")
    report = run_scan(EXAMPLE, Settings(provider=None, cache_dir=cache), ScanOptions(jobs=1))
    return report, render(report, "md")


def test_plural_counts_one_thing_in_the_singular() -> None:
    assert plural(1, "policy") == "1 policy" and plural(2, "policy") == "2 policies"
    assert plural(1, "file") == "1 file" and plural(0, "bucket") == "0 buckets"
    assert plural(3, "dependency") == "3 dependencies" and plural(2, "middleware").endswith("e")


def test_report_never_says_one_with_a_plural(leaky: tuple[Report, str]) -> None:
    _, md = leaky
    assert not re.search(r"\b1 (policies|files|buckets|secrets|routes|tables|sinks)\b", md)
    assert "1 bucket" in md and "1 secret" in md


def test_rls_boundary_does_not_contradict_itself(leaky: tuple[Report, str]) -> None:
    _, md = leaky
    line = next(x for x in md.splitlines() if x.startswith("- Clients → database"))
    assert "governed by row-level security (1 with RLS disabled)" not in line
    assert "2 governed by row-level security" in line and "1 with it off" in line


def _policy_facts(command: str) -> Facts:
    loc = Location(path="db.sql", line=3)
    policy = Policy(name="p", command=command, roles=["public"], using="true", permissive=True)
    return Facts(
        tables=[
            Table(name="notes", source="sql", rls_enabled=True, policies=[policy], location=loc)
        ]
    )


@pytest.mark.parametrize(
    ("command", "words", "stride"),
    [
        ("SELECT", "lets anyone read every row of notes", [Stride.INFORMATION_DISCLOSURE]),
        ("UPDATE", "lets anyone change every row of notes", [Stride.TAMPERING]),
        (
            "ALL",
            "lets anyone read and change every row of notes",
            [Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING],
        ),
    ],
)
def test_policy_title_and_stride_follow_its_command(
    tmp_path: Path, command: str, words: str, stride: list[Stride]
) -> None:
    ctx = RuleContext(root=tmp_path, reader=RepoReader(tmp_path))
    (f,) = PermissiveRlsPolicy().check(_policy_facts(command), ctx)
    assert f.title.endswith(words) and "gives public" not in f.title
    assert f.stride == stride  # a select-only policy is not tampering


def test_sql_and_command_injection_have_their_own_mitigation(tmp_path: Path) -> None:
    # TM111 judges JS/TS handlers (Python sinks are the dataflow engine's, TM120)
    route = Route(
        id="GET /x",
        method="GET",
        path="/x",
        framework="express",
        handler="x",
        location=Location(path="app.js", line=1),
        auth=RouteAuth(status=AuthStatus.PUBLIC),
    )
    sinks = [
        Sink(kind=k, call=c, location=Location(path="app.js", line=n), dynamic=True, handler="x")
        for k, c, n in (("sql", "db.query", 3), ("command", "child_process.exec", 4))
    ]
    ctx = RuleContext(root=tmp_path, reader=RepoReader(tmp_path))
    found = InjectableSinkInHandler().check(Facts(routes=[route], sinks=sinks), ctx)
    by_cwe = {f.cwe[0]: f.mitigation for f in found}
    assert by_cwe["CWE-89"] != by_cwe["CWE-78"]
    assert "bound parameters" in by_cwe["CWE-89"] and "shell" not in by_cwe["CWE-89"]
    assert "no shell" in by_cwe["CWE-78"] and "SQL" not in by_cwe["CWE-78"]


def test_the_llm_skipped_note_is_said_once(leaky: tuple[Report, str]) -> None:
    _, md = leaky
    said = [x for x in md.splitlines() if re.search(r"LLM pass (was )?skipped", x)]
    assert len(said) == 1, said


def test_diagram_nodes_of_one_route_carry_no_count(leaky: tuple[Report, str]) -> None:
    report, md = leaky
    text = render_mermaid(report.facts, build_system(report.facts))
    assert "(1 route)" not in text and "(1 route)" not in md and "GET /api/search" in text


def test_a_note_that_repeats_the_title_is_dropped() -> None:
    ev = Evidence(path="app.py", start_line=76, end_line=76, snippet="    app.run(debug=True)")
    f = Finding(
        title="Debug mode is on (flask, app.py)",
        severity=Severity.HIGH,
        source="rule",
        evidence=[ev],
        notes=["confirmed: debug is true at app.py:76"],
    )
    assert informative_notes(f) == []
    g = f.model_copy(update={"notes": ["confirmed: the handler writes the users table unguarded"]})
    assert informative_notes(g) == g.notes


def test_client_exposed_key_links_to_the_code_that_reads_it(leaky: tuple[Report, str]) -> None:
    report, md = leaky
    (f,) = [x for x in report.findings if x.rule_id == "TM110"]
    assert f.evidence[0].path == "web/src/supabaseClient.ts"
    top = next(x for x in md.splitlines() if "SERVICE_ROLE_KEY is shipped" in x and "[" in x)
    assert ".env.example#L6" not in top
