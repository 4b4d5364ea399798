"""The claim vocabulary and the schema's kinds hold only what the facts can support: a kind
whose verifier refutes every claim in a repository without its subject (RLS tables,
buckets, browser-exposed variables, service-role clients) is not paid for on every call."""

from __future__ import annotations

from pathlib import Path

from threatmodel.analyze import system_prompt
from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.llm.schema import wire_schema
from threatmodel.models import CLAIM_KINDS, Bucket, EnvVar, Facts, Location, Sink, Table
from threatmodel.plan import plan_llm_pass
from threatmodel.verify.interface import all_verifiers
from threatmodel.vocabulary import supported_kinds

HERE = Location(path="db/0001.sql", line=1)


def test_a_plain_web_app_leaves_out_the_kinds_it_has_no_subject_for() -> None:
    kinds = supported_kinds(Facts())
    left_out = {
        "rls_disabled",
        "rls_permissive",
        "rls_bypass",
        "public_bucket",
        "client_exposed_secret",
    }
    assert set(CLAIM_KINDS) - set(kinds) == left_out
    # each is left out by its own verifier, the one place that knows what it looks up
    assert all(not all_verifiers()[k].can_confirm(Facts()) for k in left_out)
    system = system_prompt(kinds)
    assert "- rls_disabled:" not in system and "- public_bucket:" not in system
    assert "- sql_injection:" in system and "- cost_abuse:" in system  # judged from code
    enum = wire_schema(kinds=kinds)["$defs"]["LlmClaim"]["properties"]["kind"]["enum"]
    assert enum == list(kinds)
    # the whole vocabulary stays the default
    full = wire_schema()["$defs"]["LlmClaim"]["properties"]["kind"]["enum"]
    assert "- rls_disabled:" in system_prompt() and full == list(CLAIM_KINDS)


def test_each_subject_brings_its_kinds_back() -> None:
    rls = Facts(tables=[Table(name="notes", source="sql", rls_enabled=True, location=HERE)])
    assert {"rls_disabled", "rls_permissive"} <= set(supported_kinds(rls))
    assert "rls_bypass" not in supported_kinds(rls)
    orm = Facts(tables=[Table(name="notes", source="django", location=HERE)])
    assert "rls_disabled" not in supported_kinds(orm)  # no RLS semantics
    bucket = Facts(buckets=[Bucket(name="avatars", public=False, location=HERE)])
    assert "public_bucket" in supported_kinds(bucket)
    env = Facts(env_vars=[EnvVar(name="NEXT_PUBLIC_KEY", client_exposed=True)])
    assert "client_exposed_secret" in supported_kinds(env)
    client = Sink(kind="rls_bypass", call="createClient", dynamic=False, location=HERE)
    assert "rls_bypass" in supported_kinds(Facts(sinks=[client]))


def test_a_plan_sends_one_narrowed_prefix_for_every_call(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    plan = plan_llm_pass(Facts(), RepoReader(tmp_path), Settings(provider=None), ["app.py"])
    assert plan.system == system_prompt(supported_kinds(Facts()))
    assert plan.schema == wire_schema(kinds=supported_kinds(Facts()))
    assert plan.prefix_tokens >= 1024  # still cacheable (Anthropic's minimum)
