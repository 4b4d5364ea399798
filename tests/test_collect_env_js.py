"""JS env reads, client exposure, rule TM110 and the client_exposed_secret verifier."""

from __future__ import annotations

from pathlib import Path

from js_support import collect

from threatmodel.code.reader import RepoReader
from threatmodel.collect.env_js import JsEnvCollector, is_client_exposed
from threatmodel.models import Claim, Finding, Severity
from threatmodel.rules.client_exposed_secret import ClientExposedSecret, looks_secret
from threatmodel.rules.interface import RuleContext
from threatmodel.verify.client_exposed_secret import ClientExposedSecretVerifier
from threatmodel.verify.interface import VerifyContext

APP = Path(__file__).parent / "fixtures" / "js" / "env-app"


def test_every_read_form_and_exposure() -> None:
    facts = collect(APP, JsEnvCollector())
    exposed = {v.name: v.client_exposed for v in facts.env_vars}
    assert exposed == {
        "DATABASE_URL": False,
        "STRIPE_SECRET_KEY": False,
        "NEXT_PUBLIC_API_URL": True,
        "VITE_SUPABASE_SERVICE_ROLE_KEY": True,
        "VITE_SUPABASE_ANON_KEY": True,
        "REACT_APP_GITHUB_TOKEN": True,
        "PORT": False,
        "RESEND_API_KEY": False,  # Deno.env.get in an Edge Function: server side
    }
    where = next(v for v in facts.env_vars if v.name == "VITE_SUPABASE_SERVICE_ROLE_KEY")
    assert [(loc.path, loc.line) for loc in where.locations] == [("config.ts", 3)]


def test_prefixes_and_secret_names() -> None:
    assert is_client_exposed("EXPO_PUBLIC_X") and is_client_exposed("GATSBY_Y")
    assert not is_client_exposed("SECRET_NEXT_PUBLIC")
    assert looks_secret("NEXT_PUBLIC_SUPABASE_SERVICE_ROLE_KEY")
    assert not looks_secret("NEXT_PUBLIC_SUPABASE_ANON_KEY")
    assert not looks_secret("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY")
    assert not looks_secret("NEXT_PUBLIC_POSTHOG_TOKEN")  # an analytics project key
    assert looks_secret("NEXT_PUBLIC_GITHUB_TOKEN")


def test_rule_flags_secret_names_and_verifier_agrees() -> None:
    facts = collect(APP, JsEnvCollector())
    reader = RepoReader(APP)
    findings = ClientExposedSecret().check(facts, RuleContext(root=APP, reader=reader))
    names = sorted(c.name or "" for f in findings for c in f.claims)
    assert names == ["REACT_APP_GITHUB_TOKEN", "VITE_SUPABASE_SERVICE_ROLE_KEY"]
    role = next(f for f in findings if "SERVICE_ROLE" in f.title)
    assert role.severity is Severity.CRITICAL and role.rule_id == "TM110"
    assert "VITE_SUPABASE_SERVICE_ROLE_KEY" in role.evidence[0].snippet
    ctx = VerifyContext(facts=facts, reader=reader)
    verifier = ClientExposedSecretVerifier()
    assert verifier.verify(role.claims[0], role, ctx).verdict.value == "confirmed"


def _claim(name: str) -> tuple[Claim, Finding]:
    claim = Claim(kind="client_exposed_secret", name=name)
    return claim, Finding(title="t", severity=Severity.HIGH, source="llm", claims=[claim])


def test_verifier_refutes_naming_the_fact() -> None:
    facts = collect(APP, JsEnvCollector())
    ctx = VerifyContext(facts=facts, reader=RepoReader(APP))
    verifier = ClientExposedSecretVerifier()
    for name, why in [
        ("STRIPE_SECRET_KEY", "no public prefix"),
        ("VITE_SUPABASE_ANON_KEY", "public value"),
        ("NEXT_PUBLIC_NOPE_SECRET", "no environment variable"),
    ]:
        result = verifier.verify(*_claim(name), ctx)
        assert result.verdict.value == "refuted" and why in result.reason
