"""The shape the LLM answers in, its wire JSON schema, and conversion to ``models.Finding``.

The model fills ``LlmAnswer`` (a list of ``LlmFinding``); Pydantic validates it (a failure
is re-asked with the error by analyze.py) and ``to_finding`` turns each one into a
``models.Finding(source="llm")`` that the verifiers then check. Nothing here is trusted:
paths are checked through ``RepoReader`` by the verifiers, and the claim kinds are limited
to ``models.CLAIM_KINDS`` by the schema itself.

``wire_schema()`` is the JSON schema sent to providers, in the strict subset OpenAI's
structured outputs accept (every property required, nullable instead of optional,
``additionalProperties: false``, no ``default``/``title``/string-length keywords); list
sizes are on the wire, string lengths are enforced by Pydantic. ``wire_schema(True)`` keeps
the string lengths too, for servers that compile the schema into a grammar (llama.cpp,
vLLM, Ollama): there a small model that loops inside a string or a list is cut short by
the grammar itself, so its answer ends and parses instead of running to the output limit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from threatmodel.claims import REGISTRY
from threatmodel.models import (
    CLAIM_KINDS,
    Claim,
    ClaimKind,
    Evidence,
    Finding,
    Location,
    RouteRef,
    Severity,
    Stride,
)

SCHEMA_NAME = "record_findings"
MAX_FINDINGS = 8

SeverityName = Literal["critical", "high", "medium", "low", "info"]
StrideName = Literal[
    "spoofing",
    "tampering",
    "repudiation",
    "information_disclosure",
    "denial_of_service",
    "elevation_of_privilege",
]


# Every string is bounded (see wire_schema(True)); a name, a table or a CWE id is short.
_Short = Annotated[str, StringConstraints(max_length=120)]
_Cwe = Annotated[str, StringConstraints(max_length=16)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmRoute(_Strict):
    method: str = Field(min_length=1, max_length=10)
    path: str = Field(min_length=1, max_length=300)


class LlmLocation(_Strict):
    path: str = Field(min_length=1, max_length=300)
    line: int = Field(ge=1)


class LlmClaim(_Strict):
    kind: ClaimKind
    route: LlmRoute | None
    table: _Short | None
    location: LlmLocation | None
    name: _Short | None


class LlmEvidence(_Strict):
    path: str = Field(min_length=1, max_length=300)
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    snippet: str = Field(min_length=1, max_length=1200)


class LlmFinding(_Strict):
    title: str = Field(min_length=3, max_length=200)
    severity: SeverityName
    stride: list[StrideName] = Field(max_length=3)
    cwe: list[_Cwe] = Field(max_length=3)
    claims: list[LlmClaim] = Field(min_length=1, max_length=3)
    evidence: list[LlmEvidence] = Field(min_length=1, max_length=3)
    attack: str = Field(max_length=2000)
    mitigation: str = Field(max_length=2000)


class LlmAnswer(_Strict):
    findings: list[LlmFinding] = Field(max_length=MAX_FINDINGS)


# Keywords outside OpenAI's strict subset. List bounds (minItems / maxItems) and minimum are
# accepted by OpenAI, Anthropic and llama.cpp grammars, and keep a small model from looping.
_DROP = frozenset({"title", "default", "pattern"})
# String lengths: a grammar enforces them (llama.cpp's json-schema-to-grammar turns maxLength
# into a bounded repetition); OpenAI strict mode does not list them among its keywords.
_LENGTHS = frozenset({"minLength", "maxLength"})
# A grammar gets tighter caps than the validator's bounds (so its answers still validate).
# Measured with llama.cpp b-0.3.36 and SmolLM2-135M on 2 shared cores: inside a string
# bounded at 1200-2000 characters grammar sampling fell from 10-17 to 0.2-0.3 tokens/s
# (it checks every candidate token against the rest of the bounded repetition), and the
# longest answer the old bounds allowed (about 90k characters) is far past any output
# limit, so a looping model still ran into the limit. Free text capped at GRAMMAR_TEXT,
# GRAMMAR_FINDINGS findings and GRAMMAR_ITEMS per inner list keep the longest answer a
# grammar allows near 17k characters, and the slow tail of each string short.
GRAMMAR_TEXT = 300
GRAMMAR_FINDINGS = 4
GRAMMAR_ITEMS = 2


def _strict(node: Any, lengths: bool) -> Any:
    if isinstance(node, dict):
        drop = _DROP if lengths else _DROP | _LENGTHS
        out: dict[str, Any] = {
            k: (
                {p: _strict(s, lengths) for p, s in v.items()}
                if k == "properties"
                else _strict(v, lengths)
            )
            for k, v in node.items()
            if k not in drop
        }
        if lengths and "maxLength" in out:
            out["maxLength"] = min(int(out["maxLength"]), GRAMMAR_TEXT)
        if lengths and out.get("type") == "array" and "maxItems" in out:
            out["maxItems"] = min(int(out["maxItems"]), GRAMMAR_ITEMS)
        if out.get("type") == "object" and "properties" in out:
            out["required"] = sorted(out["properties"])
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v, lengths) for v in node]
    return node


@cache
def _wire_schema(lengths: bool) -> dict[str, Any]:
    schema: dict[str, Any] = _strict(LlmAnswer.model_json_schema(), lengths)
    if lengths:
        schema["properties"]["findings"]["maxItems"] = GRAMMAR_FINDINGS
    return schema


def wire_schema(
    string_lengths: bool = False, kinds: Collection[str] | None = None
) -> dict[str, Any]:
    """The strict JSON schema of ``LlmAnswer`` (a fresh copy: callers may not mutate ours).

    ``string_lengths`` keeps ``minLength`` / ``maxLength`` (the Pydantic bounds) for a
    server that enforces the schema as a grammar (``Provider.grammar_schema``). ``kinds``
    narrows the claim kinds' enum (``vocabulary.supported_kinds``); None keeps them all.
    """
    schema = copy.deepcopy(_wire_schema(string_lengths))
    if kinds is not None:
        kind = schema["$defs"]["LlmClaim"]["properties"]["kind"]
        kind["enum"] = [k for k in kind["enum"] if k in kinds]
    return schema


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as text, the way the SDKs put it on the wire (compact JSON, the
    separators of httpx and the openai / anthropic clients): what its tokens are counted
    on, and what a server that cannot enforce a schema reads in the system prompt."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _cwe(value: str) -> str | None:
    digits = value.upper().removeprefix("CWE-").removeprefix("CWE").strip()
    return f"CWE-{int(digits)}" if digits.isdigit() else None


def to_finding(item: LlmFinding) -> Finding:
    """A candidate ``models.Finding`` (source "llm", verdict left to the verifiers)."""
    claims = [
        Claim(
            kind=c.kind,
            route=RouteRef(method=c.route.method.upper(), path=c.route.path) if c.route else None,
            table=c.table or None,
            location=Location(path=c.location.path, line=c.location.line) if c.location else None,
            name=c.name or None,
        )
        for c in item.claims
    ]
    evidence = [
        Evidence(
            path=e.path,
            start_line=min(e.start_line, e.end_line),
            end_line=max(e.start_line, e.end_line),
            snippet=e.snippet,
        )
        for e in item.evidence
    ]
    cwes = sorted({c for c in (_cwe(v) for v in item.cwe) if c})
    return Finding(
        title=" ".join(item.title.split()),
        severity=Severity(item.severity),
        stride=sorted({Stride(s) for s in item.stride}),
        cwe=cwes,
        source="llm",
        claims=claims,
        evidence=evidence,
        attack=item.attack.strip(),
        mitigation=item.mitigation.strip(),
    )


# What each claim kind asserts and which parameters it needs: the system prompt's vocabulary.
CLAIM_HELP: dict[str, tuple[str, str]] = {
    "route_unauthenticated": ("route", "The route is reachable without logging in."),
    "missing_authorization": (
        "route (and table when relevant)",
        "A logged-in user can act on objects or functions that are not theirs (IDOR, "
        "missing role check).",
    ),
    "sql_injection": ("location", "A SQL query at that line is built from request input."),
    "command_injection": ("location", "A shell command at that line is built from input."),
    "hardcoded_secret": ("location, name", "A credential is written in the code there."),
    "debug_enabled": ("location", "Debug mode or a debug endpoint is on in production."),
    "weak_jwt": ("location", "JWTs are not verified, accept 'none', or use a weak secret."),
    "rls_permissive": (
        "table, name (the policy)",
        "A row-level-security policy lets every row through.",
    ),
    "rls_disabled": ("table", "A table reachable by clients has row-level security off."),
    "public_bucket": ("name (the bucket)", "A storage bucket is public."),
    "mass_assignment": ("route, location", "Request fields are written to a model unfiltered."),
    "ssrf": ("location", "The server fetches a URL the request controls."),
    "csrf_missing": ("route", "A state-changing, cookie-authenticated route has no CSRF check."),
    "missing_rate_limit": ("route", "A login / reset / costly route has no rate limit."),
    "xss": ("location", "Request input reaches HTML unescaped."),
    "open_redirect": ("location", "The app redirects to a URL the request controls."),
    "info_leak": ("location", "Secrets, stack traces or other users' data reach a response."),
    "client_exposed_secret": (
        "name (the env var), location",
        "A secret is exposed to the browser (e.g. a NEXT_PUBLIC_ / VITE_ variable).",
    ),
    "cors_misconfigured": ("location", "CORS allows any origin with credentials."),
    "rls_bypass": (
        "location (the service-role client), route",
        "Code uses a key that bypasses RLS (Supabase service_role) for an unchecked caller.",
    ),
    "default_credentials": (
        "location, name",
        "A weak default password or key in config / compose (e.g. POSTGRES_PASSWORD=password).",
    ),
    "cost_abuse": (
        "route",
        "A public route spends the operator's paid API (LLM, SMS) with no rate limit.",
    ),
}


# Kinds of the claim registry (threatmodel/claims/<kind>/) explain themselves.
for _kind, _spec in REGISTRY.items():
    CLAIM_HELP.setdefault(_kind, (_spec.params, _spec.meaning[0].upper() + _spec.meaning[1:] + "."))


def claim_vocabulary(kinds: Collection[str] | None = None) -> list[dict[str, str]]:
    """The vocabulary for the system prompt, in CLAIM_KINDS order (only ``kinds``, if
    given)."""
    return [
        {
            "kind": k,
            "params": CLAIM_HELP.get(k, ("location", ""))[0],
            "meaning": CLAIM_HELP.get(k, ("", k))[1],
        }
        for k in CLAIM_KINDS
        if kinds is None or k in kinds
    ]
