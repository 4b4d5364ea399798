"""A hand-built Report over tests/fixtures/ask/shop, so the `ask` tests do not depend on
which collectors have landed: every location below is a real line of the fixture."""

from __future__ import annotations

from pathlib import Path

from threatmodel.chat.answers import ChatContext
from threatmodel.models import (
    AuthStatus,
    Claim,
    EnvVar,
    Evidence,
    Facts,
    Finding,
    Grant,
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
    Table,
)

SHOP = Path(__file__).resolve().parent / "fixtures" / "ask" / "shop"


def _route(method: str, path: str, handler: str, file: str, line: int, status: str) -> Route:
    evidence = []
    mechanism = None
    if handler == "app.delete_user":
        mechanism = "decorator @login_required, @require_admin"
        evidence = [Evidence(path="app.py", start_line=32, end_line=33, snippet="@login_required")]
    return Route(
        id=f"{method} {path}",
        method=method,
        path=path,
        framework="express" if file.endswith(".js") else "flask",
        handler=handler,
        location=Location(path=file, line=line),
        auth=RouteAuth(status=AuthStatus(status), mechanism=mechanism, evidence=evidence),
    )


def shop_facts() -> Facts:
    return Facts(
        routes=[
            _route("POST", "/orders", "app.create_order", "app.py", 19, "public"),
            _route("GET", "/orders", "app.list_orders", "app.py", 27, "authenticated"),
            _route("DELETE", "/users/{user_id}", "app.delete_user", "app.py", 34, "restricted"),
            _route("POST", "/pay", "app.pay", "app.py", 40, "public"),
            _route("PUT", "/api/orders/{id}", "web/api.js:anonymous", "web/api.js", 7, "public"),
            _route("GET", "/api/health", "web/api.js:anonymous", "web/api.js", 12, "unknown"),
        ],
        tables=[
            Table(
                name="orders",
                source="sql",
                rls_enabled=True,
                location=Location(path="migrations/0001_orders.sql", line=2),
                policies=[
                    Policy(
                        name="anyone can insert orders",
                        command="INSERT",
                        check="true",
                        permissive=True,
                        location=Location(path="migrations/0001_orders.sql", line=10),
                    ),
                    Policy(
                        name="staff update orders",
                        command="UPDATE",
                        roles=["staff"],
                        using="auth.uid() IS NOT NULL",
                        permissive=False,
                        location=Location(path="migrations/0001_orders.sql", line=13),
                    ),
                ],
                grants=[
                    Grant(
                        role="anon",
                        privileges=["INSERT", "UPDATE"],
                        location=Location(path="migrations/0001_orders.sql", line=16),
                    )
                ],
            )
        ],
        env_vars=[
            EnvVar(
                name="STRIPE_SECRET_KEY",
                client_exposed=False,
                locations=[
                    Location(path="app.py", line=11),
                    Location(path="web/api.js", line=13),
                ],
            )
        ],
        secrets=[
            Secret(
                kind="token",
                name="API_TOKEN",
                location=Location(path="settings.py", line=3),
                fingerprint="0123456789abcdef",
            )
        ],
    )


def shop_findings() -> list[Finding]:
    return [
        Finding(
            id="TM-aaaa1111",
            title="POST /orders changes data without authentication",
            severity=Severity.HIGH,
            source="rule",
            rule_id="TM101",
            verdict="confirmed",
            claims=[
                Claim(kind="route_unauthenticated", route=RouteRef(method="POST", path="/orders"))
            ],
            evidence=[
                Evidence(path="app.py", start_line=18, end_line=18, snippet='@app.post("/orders")')
            ],
            attack="Anyone can create orders.",
            mitigation="Require a login.",
        ),
        Finding(
            id="TM-bbbb2222",
            title="SQL built from user input in delete_user",
            severity=Severity.MEDIUM,
            source="rule",
            verdict="confirmed",
            claims=[Claim(kind="sql_injection", location=Location(path="app.py", line=35))],
            evidence=[Evidence(path="app.py", start_line=35, end_line=35, snippet="DELETE FROM")],
        ),
    ]


def shop_report() -> Report:
    return Report(
        repo=RepoInfo(root=str(SHOP)),
        facts=shop_facts(),
        findings=shop_findings(),
        llm=LlmRun(status="skipped"),
    )


def shop_context() -> ChatContext:
    return ChatContext(shop_report(), SHOP)
