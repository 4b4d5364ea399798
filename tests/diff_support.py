"""Test support for `threatmodel diff`: a scripted git history and a fake GitHub API.

``FakeGitHub`` is a real HTTP server on 127.0.0.1 (ThreadingHTTPServer) that implements the
three issue-comment endpoints the poster uses, pages its listing with Link headers like
GitHub does, and records every request so tests can assert on them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "leaky-notes"

ADMIN_ROUTE = """

@admin.post("/purge")
def purge_notes():
    db().execute("DELETE FROM notes")
    return jsonify(purged=True)
"""

LOOSEN_POLICY = """-- share payments with every signed-in user (a mistake)
drop policy "owners read their payments" on public.payments;

create policy "owners read their payments" on public.payments
  for select to authenticated using (true);
"""


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass
class History:
    repo: Path
    c0: str  # leaky-notes plus a stylesheet
    c1: str  # an unauthenticated admin route
    c2: str  # a new migration loosens an RLS policy
    c3: str  # only CSS


def scripted_history(dest: Path) -> History:
    """The leaky-notes example and three commits: admin route, looser policy, CSS only."""
    shutil.copytree(EXAMPLE, dest)
    css = dest / "web" / "src" / "app.css"
    css.write_text("body { color: #222; }\n")
    git(dest, "init", "-q", "-b", "main")
    c0 = commit_all(dest, "leaky-notes")

    app = dest / "app.py"
    text = app.read_text()
    anchor = "\n\napp.register_blueprint(api"
    assert anchor in text
    app.write_text(text.replace(anchor, ADMIN_ROUTE + anchor, 1))
    c1 = commit_all(dest, "admin: purge endpoint")

    (dest / "supabase" / "migrations" / "0003_share_payments.sql").write_text(LOOSEN_POLICY)
    c2 = commit_all(dest, "payments: readable by everyone signed in")

    css.write_text("body { color: #111; font-family: sans-serif; }\n.note { padding: 4px; }\n")
    c3 = commit_all(dest, "style: darker text")
    return History(dest, c0, c1, c2, c3)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threatmodel", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    body: Any


@dataclass
class FakeGitHub:
    """In-memory issue comments behind a loopback HTTP server."""

    repo: str = "acme/notes"
    pr: int = 7
    page_size: int = 2
    comments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    fail_with: tuple[int, str] | None = None  # answer every request with this status, message
    _next_id: int = 1000
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_comment(self, body: str, login: str = "someone") -> dict[str, Any]:
        self._next_id += 1
        c = {"id": self._next_id, "body": body, "user": {"login": login}}
        c["html_url"] = f"https://github.com/{self.repo}/pull/{self.pr}#issuecomment-{c['id']}"
        self.comments.append(c)
        return c

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                fake.requests.append(
                    Recorded(
                        method,
                        parts.path,
                        parse_qs(parts.query),
                        self.headers.get("Authorization"),
                        json.loads(raw) if raw else None,
                    )
                )
                if fake.fail_with is not None:
                    self._reply(fake.fail_with[0], {"message": fake.fail_with[1]})
                    return
                base = f"/repos/{fake.repo}/issues"
                if method == "GET" and parts.path == f"{base}/{fake.pr}/comments":
                    page = int(parse_qs(parts.query).get("page", ["1"])[0])
                    start = (page - 1) * fake.page_size
                    chunk = fake.comments[start : start + fake.page_size]
                    headers = {}
                    if start + fake.page_size < len(fake.comments):
                        nxt = f"{fake.url}{parts.path}?per_page={fake.page_size}&page={page + 1}"
                        headers["Link"] = f'<{nxt}>; rel="next"'
                    self._reply(200, chunk, headers)
                elif method == "POST" and parts.path == f"{base}/{fake.pr}/comments":
                    self._reply(201, fake.add_comment(json.loads(raw)["body"], "bot"))
                elif method == "PATCH" and parts.path.startswith(f"{base}/comments/"):
                    cid = int(parts.path.rsplit("/", 1)[1])
                    for c in fake.comments:
                        if c["id"] == cid:
                            c["body"] = json.loads(raw)["body"]
                            self._reply(200, c)
                            return
                    self._reply(404, {"message": "Not Found"})
                else:
                    self._reply(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PATCH")]
