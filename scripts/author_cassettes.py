"""Write the AUTHORED cassettes: what a capable model would answer about examples/leaky-notes.

These are not recordings of any hosted model. The answers below were written by hand to
look like a careful reviewer's (two real flaws the verifiers confirm, plus one plausible
mistake they must refute). To get real request bodies, the script runs the actual LLM pass
through the real SDKs against a stub HTTP server on loopback that returns these answers,
records the traffic with vcrpy, and then rewrites the host to the provider's public API
(for the ``openai`` and ``anthropic`` providers) and prepends a header saying AUTHORED.

    .venv/bin/python scripts/author_cassettes.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import vcr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from llm_cassettes import LLM_MATCH_ON, llm_chunk_matcher, llm_request_key  # noqa: E402

from threatmodel.config import ProviderConfig, Settings  # noqa: E402
from threatmodel.scan import ScanOptions, run_scan  # noqa: E402

OUT = ROOT / "cassettes" / "test_llm_authored"
HEADER = (
    "# AUTHORED fixture, not a recording of any hosted model. Written by hand to show what a\n"
    "# capable model would answer about examples/leaky-notes; request bodies are the real\n"
    "# prompts the tool sends. Regenerate with scripts/author_cassettes.py.\n"
)


def finding(
    title: str,
    severity: str,
    stride: list[str],
    cwe: list[str],
    claims: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    attack: str,
    mitigation: str,
) -> dict[str, Any]:
    full = [
        {
            "kind": c["kind"],
            "route": c.get("route"),
            "table": c.get("table"),
            "location": c.get("location"),
            "name": c.get("name"),
        }
        for c in claims
    ]
    return {
        "title": title,
        "severity": severity,
        "stride": stride,
        "cwe": cwe,
        "claims": full,
        "evidence": evidence,
        "attack": attack,
        "mitigation": mitigation,
    }


SHARE = finding(
    "Anyone can share any note: the share route has no auth, only an audit wrapper",
    "high",
    ["elevation_of_privilege", "information_disclosure"],
    ["CWE-306", "CWE-639"],
    [
        {
            "kind": "route_unauthenticated",
            "route": {"method": "POST", "path": "/api/notes/{note_id}/share"},
        }
    ],
    [
        {
            "path": "app.py",
            "start_line": 48,
            "end_line": 50,
            "snippet": '@api.route("/notes/<int:note_id>/share", methods=["POST"])\n@audit\n'
            "def share_note(note_id):",
        }
    ],
    'POST /api/notes/1/share with {"email": "attacker@example.com"} and no session: '
    "@audit only logs, so the note is shared to the attacker, for every note id.",
    "Add @login_required and check that the note belongs to g.user_id before sharing.",
)
SEARCH = finding(
    "SQL injection in note search through the q parameter",
    "critical",
    ["tampering", "information_disclosure"],
    ["CWE-89"],
    [{"kind": "sql_injection", "location": {"path": "app.py", "line": 60}}],
    [
        {
            "path": "app.py",
            "start_line": 60,
            "end_line": 60,
            "snippet": 'rows = db().execute(f"SELECT id, body FROM notes WHERE body LIKE '
            "'%{q}%'\").fetchall()",
        }
    ],
    "GET /api/search?q=%' UNION SELECT id, password_hash FROM users -- returns every "
    "user's password hash to any logged-in user.",
    'Pass q as a bound parameter: execute("... LIKE ?", (f"%{q}%",)).',
)
ADMIN_WRONG = finding(  # a plausible mistake: the route *is* guarded; verifiers must refute
    "Admin user deletion reachable without login",
    "high",
    ["elevation_of_privilege"],
    ["CWE-306"],
    [
        {
            "kind": "route_unauthenticated",
            "route": {"method": "DELETE", "path": "/admin/users/{user_id}"},
        }
    ],
    [{"path": "app.py", "start_line": 67, "end_line": 67, "snippet": "def delete_user(user_id):"}],
    "DELETE /admin/users/2 without a session deletes a user.",
    "Require login and the admin role.",
)
PROFILES = finding(
    "profiles table has row level security off: any client can read and change roles",
    "high",
    ["elevation_of_privilege", "information_disclosure"],
    ["CWE-284"],
    [{"kind": "rls_disabled", "table": "public.profiles"}],
    [
        {
            "path": "supabase/migrations/0001_init.sql",
            "start_line": 2,
            "end_line": 2,
            "snippet": "create table public.profiles (",
        }
    ],
    'With the anon key, PATCH /rest/v1/profiles?id=eq.<me> {"role": "admin"}.',
    "alter table public.profiles enable row level security; add owner-only policies.",
)
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "routes in app.py": [SEARCH, SHARE, ADMIN_WRONG],
    "database": [PROFILES],
    "Overview": [],
}


def answer_for(body: bytes) -> list[dict[str, Any]]:
    """The findings about every part a request's title names (the routes and the database
    can share one request)."""
    key = llm_request_key(body)
    title = key[0] if key else ""
    return [f for prefix, findings in ANSWERS.items() if prefix in title for f in findings]


class Stub(BaseHTTPRequestHandler):
    """Answers like the OpenAI Chat Completions and Anthropic Messages APIs."""

    def log_message(self, *args: Any) -> None:  # keep the script's output readable
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        data = {"findings": answer_for(body)}
        text = json.dumps(data)
        if self.path.endswith("/chat/completions"):
            payload: dict[str, Any] = {
                "id": "chatcmpl-authored",
                "object": "chat.completion",
                "created": 0,
                "model": json.loads(body)["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text, "refusal": None},
                    }
                ],
                "usage": {
                    "prompt_tokens": len(body) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": (len(body) + len(text)) // 4,
                },
            }
        else:
            tool = json.loads(body)["tools"][0]["name"]
            payload = {
                "id": "msg_authored",
                "type": "message",
                "role": "assistant",
                "model": json.loads(body)["model"],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "content": [
                    {"type": "tool_use", "id": "toolu_authored", "name": tool, "input": data}
                ],
                "usage": {"input_tokens": len(body) // 4, "output_tokens": len(text) // 4},
            }
        out = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


PORT = 18099  # tests/test_llm_authored.py replays the openai-compatible cassette from here
PROVIDERS = {  # provider -> (model, public API origin written into the cassette)
    "openai": ("gpt-4o-mini", "https://api.openai.com"),
    "anthropic": ("claude-haiku-4-5", "https://api.anthropic.com"),
    "openai-compatible": ("local-model", None),
}


def record(provider: str, port: int, repo: Path) -> None:
    model, public = PROVIDERS[provider]
    base = f"http://127.0.0.1:{port}" + ("" if provider == "anthropic" else "/v1")
    cassette = OUT / f"authored-{provider}.yaml"
    cassette.unlink(missing_ok=True)
    config = ProviderConfig(provider, model, base, "not-a-real-key", max_retries=0, concurrency=1)
    my_vcr = vcr.VCR(
        record_mode="all",
        match_on=LLM_MATCH_ON,
        filter_headers=["authorization", "x-api-key", "cookie", "set-cookie"],
    )
    my_vcr.register_matcher("llm_chunk", llm_chunk_matcher)
    with tempfile.TemporaryDirectory() as cache, my_vcr.use_cassette(str(cassette)):
        run_scan(
            repo,
            Settings(provider=config, cache_dir=Path(cache)),
            ScanOptions(use_cache=False, jobs=1),
        )
    text = cassette.read_text()
    if public:  # as if sent to the provider's public API (the SDK default base URL)
        text = text.replace(f"http://127.0.0.1:{port}", public)
    cassette.write_text(HEADER + text)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "leaky-notes"
        shutil.copytree(ROOT / "examples" / "leaky-notes", repo)
        git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=repo, check=True)
        for provider in PROVIDERS:
            record(provider, server.server_address[1], repo)
            print(f"wrote {OUT / f'authored-{provider}.yaml'}")
    server.shutdown()


if __name__ == "__main__":
    main()
