"""A hand-built Report that exercises every section of every format, hostile text included.

The facts and findings are plain data (no scan), so the render tests do not move when the
collectors change. Strings that come "from the repository" carry Markdown, Mermaid and HTML
metacharacters on purpose: a route path with a pipe and backticks, a policy with quotes, an
LLM attack story with a fake heading, a link and a code fence, and evidence that quotes a
line holding a secret value.
"""

from __future__ import annotations

from threatmodel.models import (
    AuthStatus,
    Bucket,
    Claim,
    Dependency,
    EnvVar,
    Evidence,
    Facts,
    FileStats,
    Finding,
    LlmRun,
    Location,
    Policy,
    RepoInfo,
    Report,
    Route,
    RouteAuth,
    RouteRef,
    Secret,
    Severity,
    StageHealth,
    Stats,
    Stride,
    Table,
    Verdict,
    VerifierStats,
)

SECRET_VALUE = "sk_live_51HxAbCdEfGhIjKlMnOpQrStUv"
HOSTILE_PATH = '/api/x|`y`/"z"/<b>#end;'


def _route(method: str, path: str, status: AuthStatus, line: int, mech: str | None = None) -> Route:
    return Route(
        id=f"{method} {path}",
        method=method,
        path=path,
        framework="flask",
        handler=f"app.h{line}",
        location=Location(path="app.py", line=line),
        auth=RouteAuth(status=status, mechanism=mech),
    )


def sample_facts() -> Facts:
    return Facts(
        routes=[
            _route("GET", "/", AuthStatus.PUBLIC, 5),
            _route("POST", "/api/notes/{id}/share", AuthStatus.PUBLIC, 10),
            _route("GET", "/api/notes", AuthStatus.AUTHENTICATED, 20, "decorator @login_required"),
            _route("DELETE", "/admin/users/{id}", AuthStatus.RESTRICTED, 30, "@require_admin"),
            _route("GET", HOSTILE_PATH, AuthStatus.UNKNOWN, 40),
        ],
        tables=[
            Table(
                name="notes",
                source="sql",
                rls_enabled=True,
                policies=[
                    Policy(name='anyone "reads"', command="SELECT", using="true", permissive=True),
                    Policy(
                        name="owner", command="ALL", using="auth.uid() = user_id", permissive=False
                    ),
                ],
                location=Location(path="db/0001.sql", line=3),
            ),
            Table(
                name="profiles",
                source="sql",
                rls_enabled=False,
                location=Location(path="db/0001.sql", line=1),
            ),
        ],
        buckets=[
            Bucket(name="avatars", public=True, location=Location(path="db/0001.sql", line=9))
        ],
        env_vars=[
            EnvVar(
                name="NEXT_PUBLIC_SUPABASE_URL",
                client_exposed=True,
                locations=[Location(path="web/client.ts", line=2)],
            ),
            EnvVar(
                name="DATABASE_URL",
                client_exposed=False,
                locations=[Location(path="app.py", line=2)],
            ),
        ],
        secrets=[
            Secret(
                kind="stripe_key",
                name="STRIPE_KEY",
                location=Location(path="config.py", line=4),
                fingerprint="3f9a1c2b",
            )
        ],
        dependencies=[
            Dependency(
                ecosystem="pypi",
                name="stripe",
                version="7.0",
                location=Location(path="requirements.txt", line=1),
            ),
            Dependency(
                ecosystem="pypi",
                name="psycopg2",
                version="2.9",
                location=Location(path="requirements.txt", line=2),
            ),
            Dependency(
                ecosystem="npm",
                name="@supabase/supabase-js",
                location=Location(path="web/package.json", line=5),
            ),
        ],
    )


def sample_findings() -> tuple[list[Finding], list[Finding]]:
    share = Finding(
        id="TM-share001",
        title="POST /api/notes/{id}/share changes data without authentication",
        severity=Severity.HIGH,
        stride=[Stride.TAMPERING],
        cwe=["CWE-306"],
        source="rule",
        rule_id="TM101",
        verdict=Verdict.CONFIRMED,
        claims=[
            Claim(
                kind="route_unauthenticated",
                route=RouteRef(method="POST", path="/api/notes/{id}/share"),
            )
        ],
        evidence=[
            Evidence(
                path="app.py",
                start_line=10,
                end_line=11,
                snippet="def share(id):\n    q = f'```{id}'",
            )
        ],
        attack="Send POST with no session.",
        mitigation="Require a login.",
    )
    secret = Finding(
        id="TM-secret01",
        title="Stripe live key committed in config.py",
        severity=Severity.CRITICAL,
        stride=[Stride.INFORMATION_DISCLOSURE],
        cwe=["CWE-798"],
        source="llm",
        verdict=Verdict.CONFIRMED,
        claims=[Claim(kind="hardcoded_secret", location=Location(path="config.py", line=4))],
        evidence=[
            Evidence(
                path="config.py", start_line=4, end_line=4, snippet=f'STRIPE_KEY = "{SECRET_VALUE}"'
            )
        ],
        attack=(
            "# Accepted\nRead the key from [the repo](https://evil.example/x) then <img src=x>"
            "\n```\ncharge cards."
        ),
        mitigation="Rotate the key and load it from the environment.",
    )
    review = Finding(
        id="TM-review01",
        title="Search may leak other users' notes",
        severity=Severity.MEDIUM,
        stride=[Stride.INFORMATION_DISCLOSURE],
        cwe=["CWE-200"],
        source="llm",
        verdict=Verdict.UNVERIFIABLE,
        claims=[Claim(kind="info_leak", location=Location(path="app.py", line=20))],
        evidence=[Evidence(path="app.py", start_line=20, end_line=20, snippet="def search():")],
        reason="no verifier for info_leak decides this case",
    )
    accepted = Finding(
        id="TM-bucket01",
        title="Bucket avatars is public",
        severity=Severity.LOW,
        stride=[Stride.INFORMATION_DISCLOSURE],
        cwe=["CWE-732"],
        source="rule",
        rule_id="TM999",
        verdict=Verdict.CONFIRMED,
        claims=[Claim(kind="public_bucket", name="avatars")],
        evidence=[
            Evidence(
                path="db/0001.sql", start_line=9, end_line=9, snippet="insert into storage.buckets"
            )
        ],
        accepted=True,
        acceptance="Avatars are public by design (expires 2099-01-01)",
    )
    refuted = Finding(
        id="TM-refuted1",
        title="GET /api/notes is unauthenticated",
        severity=Severity.HIGH,
        source="llm",
        verdict=Verdict.REFUTED,
        claims=[
            Claim(kind="route_unauthenticated", route=RouteRef(method="GET", path="/api/notes"))
        ],
        reason="GET /api/notes is guarded by decorator @login_required (app.py:19)",
    )
    return [secret, share, review, accepted], [refuted]


def sample_report(llm_status: str = "skipped") -> Report:
    findings, suppressed = sample_findings()
    return Report(
        tool={"name": "threatmodel", "version": "0.1.0"},
        repo=RepoInfo(root="sample-app", commit="0123456789abcdef0123456789abcdef01234567"),
        facts=sample_facts(),
        findings=findings,
        suppressed=suppressed,
        stats=Stats(
            llm_calls=3,
            input_tokens=12000,
            output_tokens=900,
            cost_usd=0.0123,
            verifier=VerifierStats(checked=5, confirmed=3, refuted=1, unverifiable=1),
            files=FileStats(
                scanned=12, skipped=2, not_parsed=["broken.py: invalid syntax (line 3)"]
            ),
        ),
        llm=LlmRun(
            status=llm_status,  # type: ignore[arg-type]
            provider=None if llm_status == "skipped" else "openai",
            model=None if llm_status == "skipped" else "gpt-4o-mini",
            message="LLM pass skipped: set OPENAI_API_KEY to enable it."
            if llm_status == "skipped"
            else "",
        ),
        stages=[
            StageHealth(stage="collect", ok=True, checked=12),
            StageHealth(stage="verify", ok=False, checked=5, message="verifier info_leak crashed"),
        ],
        warnings=["1 files not parsed: broken.py"],
    )
