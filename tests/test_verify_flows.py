"""Registry kinds are verified from flows; Bandit SARIF results map to kinds by test id / CWE."""

from __future__ import annotations

import textwrap
from pathlib import Path

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.models import Claim, Facts, Finding, Location, Severity, Verdict
from threatmodel.verify.flows import judge
from threatmodel.verify.inputs import guess_kind
from threatmodel.verify.interface import VerifyContext

APP = textwrap.dedent(
    """\
    from flask import Flask, request
    import subprocess
    import yaml
    app = Flask(__name__)

    @app.route('/a', methods=['POST'])
    def a():
        cmd = "echo " + request.form['x']
        subprocess.run(cmd, shell=True)
        subprocess.run(["ls", "-l"])
        yaml.load(request.data, Loader=yaml.SafeLoader)
        q = "SELECT 1"
        cur.execute(q)
        return "ok"
    """
)


def _ctx(tmp_path: Path) -> VerifyContext:
    (tmp_path / "app.py").write_text(APP)
    extract = dataflow.extract(SourceFile.from_bytes("app.py", APP.encode()))
    assert extract is not None
    facts = Facts(flows=dataflow.flows({"app.py": extract}))
    return VerifyContext(facts=facts, reader=RepoReader(tmp_path))


def _verdict(ctx: VerifyContext, kind: str, line: int) -> tuple[Verdict, str]:
    claim = Claim(kind=kind, location=Location(path="app.py", line=line))  # type: ignore[arg-type]
    finding = Finding(
        title="t", severity=Severity.HIGH, stride=[], source="external", claims=[claim]
    )
    got = judge(kind, claim, finding, ctx)
    return got.verdict, got.reason


def test_request_to_shell_is_confirmed(tmp_path: Path) -> None:
    verdict, reason = _verdict(_ctx(tmp_path), "command_injection", 9)
    assert verdict is Verdict.CONFIRMED
    assert "request.form" in reason


def test_argv_without_shell_and_safe_yaml_are_refuted_with_the_reason(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    verdict, reason = _verdict(ctx, "command_injection", 10)
    assert verdict is Verdict.REFUTED
    assert "constant" in reason or "argument list" in reason
    verdict, reason = _verdict(ctx, "insecure_deserialization", 11)
    assert verdict is Verdict.REFUTED
    assert "safe Loader" in reason


def test_the_query_assignment_line_is_part_of_the_flow(tmp_path: Path) -> None:
    verdict, reason = _verdict(_ctx(tmp_path), "sql_injection", 12)  # q = "SELECT 1"
    assert verdict is Verdict.REFUTED
    assert "constant" in reason


def test_an_import_line_is_judged_by_the_file(tmp_path: Path) -> None:
    verdict, _ = _verdict(_ctx(tmp_path), "command_injection", 2)  # import subprocess
    assert verdict is Verdict.CONFIRMED


def test_no_sink_at_the_line_is_unverifiable(tmp_path: Path) -> None:
    verdict, _ = _verdict(_ctx(tmp_path), "xxe", 14)
    assert verdict is Verdict.UNVERIFIABLE


def test_bandit_ids_and_registry_cwes_name_kinds() -> None:
    assert guess_kind("B314", [], ["CWE-20"], "") == "xxe"
    assert guess_kind("B311", [], ["CWE-330"], "") == "weak_random"
    assert guess_kind("X", [], ["CWE-22"], "") == "path_traversal"
    assert guess_kind("X", [], ["CWE-94"], "") == "code_injection"
    assert guess_kind("X", [], ["CWE-643"], "") == "xpath_injection"


def test_a_confirmed_flow_carries_its_chain_from_source_to_sink(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    claim = Claim(kind="command_injection", location=Location(path="app.py", line=9))
    finding = Finding(
        title="t", severity=Severity.HIGH, stride=[], source="external", claims=[claim]
    )
    got = judge("command_injection", claim, finding, ctx)
    assert got.verdict is Verdict.CONFIRMED
    kinds = [step.kind for step in got.proof]
    assert kinds[0] == "flow" and kinds[-1] == "sink"
    assert got.proof[0].location is not None and got.proof[0].location.line == 8
    assert got.proof[-1].location is not None and got.proof[-1].location.line == 9
    assert "subprocess.run" in got.proof[-1].text


WHERE = textwrap.dedent(
    """\
    module.exports = {
      search: (req, res) => {
        const kind = 'public'
        notes.find({ $where: `this.kind == '${kind}' && this.name == '${req.body.q}'` })
        notes.find({ $where: `this.kind == '${kind}'` })
      },
    }
    """
)


def test_a_sql_claim_on_where_code_is_decided_by_the_nosql_flow(tmp_path: Path) -> None:
    # ``$where`` is listed with the SQL sinks, so a rule reading sink facts claims SQL
    # injection there: the engine's NoSQL flow at that sink decides it
    (tmp_path / "app.js").write_text(WHERE)
    extract = dataflow.extract_js(SourceFile.from_bytes("app.js", WHERE.encode()))
    assert extract is not None
    facts = Facts(flows=dataflow.flows({"app.js": extract}, {}))
    ctx = VerifyContext(facts=facts, reader=RepoReader(tmp_path))
    got = {}
    for line in (4, 5):
        claim = Claim(kind="sql_injection", location=Location(path="app.js", line=line))
        finding = Finding(
            title="t", severity=Severity.HIGH, stride=[], source="rule", claims=[claim]
        )
        got[line] = judge("sql_injection", claim, finding, ctx).verdict
    assert got == {4: Verdict.CONFIRMED, 5: Verdict.REFUTED}
