"""Confirmed means proven (issue 18): effects not methods, proof chains, scope, kind predicates.

Each test writes a small repository reproducing a pattern seen on real applications and
scans it with the deterministic pipeline (no LLM).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatmodel.config import Settings
from threatmodel.models import Finding, Report, Verdict
from threatmodel.render.markdown import render_markdown
from threatmodel.render.sarif import render_sarif
from threatmodel.scan import ScanOptions, run_scan


def scan(root: Path, files: dict[str, str]) -> Report:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    settings = Settings(provider=None, cache_dir=root / ".cache")
    return run_scan(root, settings, ScanOptions(use_cache=False, jobs=1))


def by_rule(report: Report, rule: str) -> list[Finding]:
    return [f for f in [*report.findings, *report.suppressed] if f.rule_id == rule]


FLASK = """from flask import Flask, request, jsonify
import sqlite3

app = Flask(__name__)


def db():
    return sqlite3.connect("notes.db")


def store(body):
    conn = db()
    conn.execute("INSERT INTO notes (body) VALUES (?)", (body,))
    conn.commit()


@app.route("/preview", methods=["POST"])
def preview():
    text = request.json["text"]
    return jsonify({"html": text.upper()})


@app.route("/notes", methods=["POST"])
def create_note():
    store(request.json["body"])
    return jsonify({"ok": True})


@app.route("/stats")
def stats():
    conn = db()
    conn.execute("UPDATE counters SET hits = hits + 1")
    return jsonify({})


@app.route("/upload", methods=["GET", "POST"])
def upload():
    if request.method == "POST":
        request.files["f"].save("/tmp/x")
    return "form"


@app.route("/hooks/stripe", methods=["POST"])
def stripe_hook():
    import hmac
    if not hmac.compare_digest(request.headers["Sig"], "x"):
        return "", 400
    db().execute("DELETE FROM carts")
    return ""
"""


def test_changes_data_is_decided_by_effects_not_methods(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app.py": FLASK})
    found = {f.claims[0].route.path: f for f in by_rule(report, "TM101") if f.claims[0].route}
    # A POST that only reads is not "changes data"; it stays for review at low severity.
    assert found["/preview"].severity.value == "low"
    assert found["/preview"].verdict is Verdict.UNVERIFIABLE
    assert "effect link is missing" in (found["/preview"].reason or "")
    # A POST that writes through a helper of the repository is confirmed, with the chain.
    note = found["/notes"]
    assert note.verdict is Verdict.CONFIRMED and note.severity.value == "high"
    kinds = [s.kind for s in note.proof]
    assert kinds[:3] == ["route", "guard", "handler"] and "effect" in kinds
    effect = next(s for s in note.proof if s.kind == "effect")
    assert effect.location is not None and effect.location.line == 13  # conn.execute INSERT
    # A GET that writes is reported; the GET of a GET/POST handler whose write is POST-only
    # is not; a webhook that checks its signature is not.
    assert found["/stats"].verdict is Verdict.CONFIRMED
    assert "GET" not in {
        f.claims[0].route.method for f in found.values() if f.claims[0].route.path == "/upload"
    }
    assert "/hooks/stripe" not in found


def test_proof_chain_in_json_sarif_and_markdown(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app.py": FLASK})
    data = json.loads(report.to_json())
    confirmed = [f for f in data["findings"] if f["verdict"] == "confirmed"]
    assert confirmed and all(f["proof"] for f in confirmed)
    sarif = json.loads(render_sarif(report))
    results = sarif["runs"][0]["results"]
    flows = [r for r in results if "codeFlows" in r]
    assert flows and flows[0]["codeFlows"][0]["threadFlows"][0]["locations"][0]["kinds"]
    md = render_markdown(report)
    assert "**Proof.**" in md and "*effect*: writes to the database" in md


def test_scope_folds_tests_and_dev_runners(tmp_path: Path) -> None:
    files = {
        "app.py": FLASK + '\nif __name__ == "__main__":\n    app.run(debug=True)\n',
        "tests/test_app.py": 'API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n',
    }
    report = scan(tmp_path, files)
    secret = next(f for f in by_rule(report, "TM105"))
    assert secret.scope == "test" and secret.severity.value == "low"
    assert any("lowered" in n for n in secret.notes)
    debug = next(f for f in by_rule(report, "TM106"))
    assert debug.verdict is Verdict.UNVERIFIABLE and debug.scope == "dev"
    assert "entry-point" in (debug.reason or "")
    md = render_markdown(report)
    fix_first = (
        md.split("**Fix first:**", 1)[1].split("## System", 1)[0] if "**Fix first:**" in md else ""
    )
    assert secret.id not in fix_first
    assert "## Outside production" in md and "<details>" in md


def test_debug_runner_started_by_the_dockerfile_is_production(tmp_path: Path) -> None:
    files = {
        "app.py": FLASK + '\nif __name__ == "__main__":\n    app.run(debug=True)\n',
        "Dockerfile": 'FROM python:3.12\nCOPY . .\nENTRYPOINT ["python"]\nCMD ["app.py"]\n',
    }
    debug = next(f for f in by_rule(scan(tmp_path, files), "TM106"))
    assert debug.verdict is Verdict.CONFIRMED and debug.scope == "production"
    assert [s.kind for s in debug.proof] == ["setting", "fact"]


def test_scope_is_configurable(tmp_path: Path) -> None:
    files = {
        "tests/test_app.py": 'API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n',
        "pyproject.toml": '[tool.threatmodel.scope]\nproduction = ["tests/*"]\n',
    }
    secret = next(f for f in by_rule(scan(tmp_path, files), "TM105"))
    assert secret.scope == "production" and secret.severity.value == "critical"


JWT_ROUTING = """import jwt

OWNER_FIELD = "owner"


def is_ours(token):
    payload = jwt.decode(token, options={"verify_signature": False})
    return payload.get(OWNER_FIELD) == "us"


def user_of(token, key):
    return jwt.decode(token, key, algorithms=["HS256"])["sub"]
"""
JWT_IDENTITY = """import jwt


def current_user(token):
    claims = jwt.decode(token, options={"verify_signature": False})
    return lookup(claims["sub"])
"""


# Only the token's lifetime, read off the call itself: when to refresh, not who calls.
JWT_LIFETIME = """import jwt


def refresh_at(session):
    stored = session.token.get("id_token")
    return jwt.decode(stored, options={"verify_signature": False}).get("exp")
"""
JWT_DIRECT_IDENTITY = """import jwt


def user_id(token):
    return lookup(jwt.decode(token, options={"verify_signature": False})["sub"])
"""
# The token was sent to its issuer's userinfo endpoint first, which refuses a forged one.
JWT_ISSUER = """import jwt


async def exchange(client, form):
    try:
        info = await client.userinfo(token={"access_token": form.token})
    except Exception as e:
        raise PermissionError("invalid token") from e
    claims = jwt.decode(form.token, options={"verify_signature": False})
    return set_role(info["sub"], claims.get("roles"))
"""
# ... but a failed userinfo call that is only logged lets any token through.
JWT_ISSUER_IGNORED = JWT_ISSUER.replace('raise PermissionError("invalid token") from e', "log(e)")
# The deployment's own verification service answered 200 for this token before its claims
# are read (an introspection endpoint spoken to with requests).
JWT_REMOTE = """import jwt
import requests


def caller(request):
    token = request.META.get("HTTP_AUTHORIZATION")[7:]
    body = {"token": token}
    answer = requests.post(VERIFY_URL, json=body)
    status = answer.status_code
    if status == 200:
        claims = jwt.decode(token, options={"verify_signature": False})
        return find_user(claims["sub"])
    return None
"""
# ... but a decode that does not wait for the answer trusts any token.
JWT_REMOTE_IGNORED = JWT_REMOTE.replace("if status == 200:", "if status or True:")


@pytest.mark.parametrize(
    ("source", "verdict", "why"),
    [
        (JWT_ROUTING, Verdict.REFUTED, "routing claim"),
        (JWT_IDENTITY, Verdict.CONFIRMED, ""),
        (JWT_LIFETIME, Verdict.UNVERIFIABLE, "read for exp"),
        (JWT_DIRECT_IDENTITY, Verdict.CONFIRMED, ""),
        (JWT_ISSUER, Verdict.REFUTED, "verified by its issuer first (`client.userinfo`)"),
        (JWT_ISSUER_IGNORED, Verdict.CONFIRMED, ""),
        (JWT_REMOTE, Verdict.REFUTED, "verified by its issuer first (`requests.post`)"),
        (JWT_REMOTE_IGNORED, Verdict.CONFIRMED, ""),
    ],
)
def test_weak_jwt_needs_the_payload_to_decide(
    tmp_path: Path, source: str, verdict: Verdict, why: str
) -> None:
    found = by_rule(scan(tmp_path, {"auth.py": source}), "TM109")
    assert found and found[0].verdict is verdict
    if verdict is Verdict.CONFIRMED:
        assert [s.kind for s in found[0].proof] == ["setting", "flow"]
    else:
        assert why in " ".join([found[0].reason or "", *found[0].notes])


def test_default_credentials_in_compose_with_a_published_port(tmp_path: Path) -> None:
    compose = (
        "services:\n  db:\n    image: postgres\n    ports:\n      - 5432:5432\n"
        "    environment:\n      POSTGRES_PASSWORD: password\n"
        "  cache:\n    image: redis\n    environment:\n      - REDIS_PASSWORD=redis\n"
    )
    settings = 'import os\nADMIN_PASSWORD = os.getenv("ADMIN_PASSWORD", "admin")\n'
    report = scan(tmp_path, {"docker-compose.yml": compose, "settings.py": settings})
    found = by_rule(report, "TM122")
    names = sorted(f.claims[0].name or "" for f in found)
    assert names == ["ADMIN_PASSWORD", "POSTGRES_PASSWORD"]  # redis publishes no port
    assert all(f.severity.value == "medium" and f.verdict is Verdict.CONFIRMED for f in found)
    assert not by_rule(report, "TM105")  # a weak default is not reported as a leaked secret


def test_cost_abuse_is_its_own_finding(tmp_path: Path) -> None:
    src = """from flask import Flask, request
from openai import OpenAI

app = Flask(__name__)
client = OpenAI()


@app.route("/ask", methods=["POST"])
def ask():
    out = client.chat.completions.create(model="m", messages=[request.json])
    return out.choices[0].message.content
"""
    report = scan(tmp_path, {"app.py": src})
    cost = by_rule(report, "TM121")
    assert len(cost) == 1 and cost[0].verdict is Verdict.CONFIRMED
    assert cost[0].proof[-1].kind == "effect"
    write = by_rule(report, "TM101")
    assert all(f.severity.value == "low" for f in write)  # spending is not changing data


def test_fix_first_orders_by_severity_then_reachability_not_title(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app.py": FLASK})
    ranked = [f for f in report.findings if f.scope == "production"]
    sev = [f.severity.rank for f in ranked]
    assert sev == sorted(sev, reverse=True)


SQLI = """from flask import Flask, request
from flask_login import login_required
import sqlite3

app = Flask(__name__)


def find(term):
    conn = sqlite3.connect("shop.db")
    return conn.execute("SELECT * FROM items WHERE name = '" + term + "'").fetchall()


@app.route("/search")
def search():
    term = request.args.get("q")
    return str(find(term))


@app.route("/admin/search")
@login_required
def admin_search():
    term = request.args["q"]
    return str(find(term))
"""


def test_a_flow_chain_starts_at_the_route_and_its_guard(tmp_path: Path) -> None:
    report = scan(tmp_path, {"app.py": SQLI})
    flows = [f for f in report.findings if f.rule_id == "TM120" and f.verdict is Verdict.CONFIRMED]
    assert len(flows) == 1  # one sink, reached from two routes: the more open one leads
    proof = flows[0].proof
    assert [s.kind for s in proof[:3]] == ["route", "guard", "handler"]
    assert "GET /search" in proof[0].text
    assert proof[1].text.startswith("no auth guard on any path to GET /search")
    assert proof[2].location is not None and proof[2].location.line == 14  # def search
    assert proof[3].kind == "flow" and proof[3].location is not None
    assert proof[3].location.line == 15  # request.args.get("q")
    assert proof[-1].kind == "sink" and proof[-1].location is not None
    assert proof[-1].location.line == 10
    assert flows[0].title.startswith("GET /search runs SQL query built from input")
    md = render_markdown(report)
    assert "*route*: GET /search (flask) is served" in md
    sarif = json.loads(render_sarif(report))
    steps = next(
        r["codeFlows"][0]["threadFlows"][0]["locations"]
        for r in sarif["runs"][0]["results"]
        if "codeFlows" in r and "SQL" in r["message"]["text"]
    )
    assert steps[0]["location"]["physicalLocation"]["region"]["startLine"] == 14


def test_a_guarded_route_is_named_with_its_guard(tmp_path: Path) -> None:
    only_admin = SQLI.replace('@app.route("/search")\ndef search():', "def search():")
    report = scan(tmp_path, {"app.py": only_admin})
    flow = next(f for f in report.findings if f.rule_id == "TM120")
    assert flow.verdict is Verdict.CONFIRMED
    route, guard = flow.proof[0], flow.proof[1]
    assert "GET /admin/search" in route.text
    assert guard.text.startswith("authenticated") and "login_required" in guard.text


def test_a_stripe_test_mode_key_is_low_a_live_one_critical(tmp_path: Path) -> None:
    files = {
        "billing.py": (
            'LIVE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\nTEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"\n'
        ),
    }
    found = {f.claims[0].name: f for f in by_rule(scan(tmp_path, files), "TM105")}
    assert found["stripe_key"].severity.value == "critical"
    # a test-mode key moves no money: still reported, for review
    assert found["stripe_test_key"].severity.value == "low"
