"""The architecture delta on hand-built facts: every area, risk flags, and no noise on moves."""

from __future__ import annotations

from threatmodel.delta import classify_findings, compute_delta
from threatmodel.models import (
    AuthStatus,
    Bucket,
    Claim,
    Dependency,
    EnvVar,
    Evidence,
    Facts,
    Finding,
    Location,
    Middleware,
    Policy,
    Route,
    RouteAuth,
    RouteRef,
    Secret,
    Setting,
    Severity,
    Sink,
    Table,
)


def loc(path: str = "app.py", line: int = 1) -> Location:
    return Location(path=path, line=line)


def route(method: str, path: str, status: str, mech: str | None = None, line: int = 1) -> Route:
    return Route(
        id=f"{method} {path}",
        method=method,
        path=path,
        framework="flask",
        handler="app.h",
        location=loc(line=line),
        auth=RouteAuth(status=AuthStatus(status), mechanism=mech),
    )


def table(policies: list[Policy], rls: bool | None = True, name: str = "notes") -> Table:
    return Table(name=name, source="sql", rls_enabled=rls, policies=policies, location=loc("m.sql"))


def policy(using: str, permissive: bool, name: str = "owners read") -> Policy:
    return Policy(
        name=name, command="SELECT", roles=["authenticated"], using=using, permissive=permissive
    )


def keys(base: Facts, head: Facts) -> set[tuple[str, str, str, bool]]:
    return {(c.area, c.action, c.subject, c.risk) for c in compute_delta(base, head)}


def test_identical_facts_and_moved_lines_are_no_change() -> None:
    base = Facts(routes=[route("GET", "/a", "public", line=3)], tables=[table([])])
    head = Facts(routes=[route("GET", "/a", "public", line=40)], tables=[table([])])
    assert compute_delta(base, head) == []


def test_route_added_public_is_risky_and_removed_is_not() -> None:
    base = Facts(routes=[route("GET", "/old", "authenticated", "login_required")])
    head = Facts(routes=[route("POST", "/admin/purge", "public")])
    changes = compute_delta(base, head)
    assert [(c.area, c.action, c.subject, c.risk) for c in changes] == [
        ("route", "added", "POST /admin/purge", True),
        ("route", "removed", "GET /old", False),
    ]
    assert changes[0].detail == "public: no auth guard"
    assert changes[1].at == "base"


def test_guard_removed_is_named() -> None:
    base = Facts(routes=[route("DELETE", "/u/{id}", "restricted", "require_admin")])
    head = Facts(routes=[route("DELETE", "/u/{id}", "public")])
    (c,) = compute_delta(base, head)
    assert c.action == "changed" and c.risk
    assert c.detail == "auth restricted (require_admin) → public: guard require_admin removed"


def test_stronger_auth_is_a_change_without_risk() -> None:
    base = Facts(routes=[route("GET", "/n", "public")])
    head = Facts(routes=[route("GET", "/n", "authenticated", "login_required")])
    assert keys(base, head) == {("route", "changed", "GET /n", False)}


def test_policy_that_became_permissive() -> None:
    base = Facts(tables=[table([policy("auth.uid() = owner", False)])])
    head = Facts(tables=[table([policy("true", True)])])
    (c,) = compute_delta(base, head)
    assert (c.area, c.action, c.subject, c.risk) == (
        "policy",
        "changed",
        "notes: owners read",
        True,
    )
    assert "using (auth.uid() = owner) → SELECT to authenticated using (true)" in c.detail
    assert c.detail.endswith("now lets every row through")


def test_rls_disabled_policy_dropped_and_table_added() -> None:
    base = Facts(tables=[table([policy("auth.uid() = owner", False)])])
    head = Facts(tables=[table([], rls=False), table([], rls=False, name="audit")])
    assert keys(base, head) == {
        ("table", "changed", "notes", True),  # RLS on → off
        ("table", "added", "audit", True),  # a new table without RLS
        ("policy", "removed", "notes: owners read", False),
    }


def test_bucket_public_env_secret_dependency_setting_sink() -> None:
    secret = Secret(kind="stripe_key", name="STRIPE", location=loc("config.py"), fingerprint="ab12")
    base = Facts(
        buckets=[Bucket(name="avatars", public=False, location=loc("m.sql"))],
        env_vars=[EnvVar(name="VITE_URL", client_exposed=True)],
        dependencies=[Dependency(ecosystem="npm", name="react", version="18.2.0", location=loc())],
        settings=[Setting(key="debug", value="false", framework="flask", location=loc())],
        middleware=[Middleware(kind="csrf", name="CSRFProtect", scope="global", location=loc())],
    )
    head = Facts(
        buckets=[Bucket(name="avatars", public=True, location=loc("m.sql"))],
        env_vars=[
            EnvVar(name="VITE_URL", client_exposed=True),
            EnvVar(name="VITE_SERVICE_ROLE_KEY", client_exposed=True, locations=[loc("w.ts")]),
        ],
        secrets=[secret],
        dependencies=[Dependency(ecosystem="npm", name="react", version="18.3.1", location=loc())],
        settings=[Setting(key="debug", value="true", framework="flask", location=loc())],
        sinks=[Sink(kind="sql", call="db.execute", dynamic=True, location=loc(), handler="s")],
    )
    assert keys(base, head) == {
        ("bucket", "changed", "avatars", True),
        ("env_var", "added", "VITE_SERVICE_ROLE_KEY", True),
        ("secret", "added", "stripe_key STRIPE", True),
        ("dependency", "changed", "npm react", False),
        ("setting", "changed", "debug", True),
        ("sink", "added", "sql db.execute", True),
        ("middleware", "removed", "csrf CSRFProtect", True),
    }
    details = {c.subject: c.detail for c in compute_delta(base, head)}
    assert details["npm react"] == "18.2.0 → 18.3.1"
    assert "ab12" in details["stripe_key STRIPE"]


def test_changes_sorted_risky_first_then_by_area() -> None:
    base = Facts()
    head = Facts(
        dependencies=[Dependency(ecosystem="pypi", name="flask", location=loc("r.txt"))],
        routes=[
            route("GET", "/b", "authenticated", "login_required"),
            route("GET", "/a", "public"),
        ],
    )
    order = [(c.area, c.subject) for c in compute_delta(base, head)]
    assert order == [("route", "GET /a"), ("route", "GET /b"), ("dependency", "pypi flask")]


def finding(path: str, title: str = "Unauthenticated write") -> Finding:
    return Finding(
        title=title,
        severity=Severity.HIGH,
        source="rule",
        claims=[Claim(kind="route_unauthenticated", route=RouteRef(method="POST", path=path))],
        evidence=[Evidence(path="app.py", start_line=1, end_line=1, snippet="x")],
    )


def test_findings_new_resolved_unchanged_by_fingerprint() -> None:
    kept, gone, fresh = finding("/keep"), finding("/gone"), finding("/new")
    moved = kept.model_copy(
        update={"evidence": [Evidence(path="app.py", start_line=9, end_line=9, snippet="x")]}
    )
    new, resolved, unchanged = classify_findings([kept, gone], [moved, fresh])
    assert [f.claims[0].route.path for f in new] == ["/new"]  # type: ignore[union-attr]
    assert [f.claims[0].route.path for f in resolved] == ["/gone"]  # type: ignore[union-attr]
    assert [f.claims[0].route.path for f in unchanged] == ["/keep"]  # type: ignore[union-attr]
