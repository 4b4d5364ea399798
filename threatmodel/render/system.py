"""The system at a glance, derived from facts: components, data stores, services, boundaries.

Nothing here guesses from prose: a component is a framework that served routes, a data store
is a table, a bucket or a database client library in the manifests, an external service is a
dependency known to talk to a third party (``stripe``, ``openai``, ``@supabase/supabase-js``).
The same view feeds the Markdown sections and the Mermaid diagram, so they always agree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from threatmodel.collect.effects_catalog import DATASTORE_CLIENTS
from threatmodel.models import MAY_WRITE_METHODS, AuthStatus, Facts, Route
from threatmodel.words import plural

# Dependency name -> service name, for libraries whose purpose is to call a third party.
EXTERNAL_SERVICES = {
    "stripe": "Stripe",
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "@anthropic-ai/sdk": "Anthropic",
    "supabase": "Supabase",
    "@supabase/supabase-js": "Supabase",
    "@supabase/ssr": "Supabase",
    "@supabase/auth-helpers-nextjs": "Supabase",
    "boto3": "AWS",
    "botocore": "AWS",
    "aws-sdk": "AWS",
    "twilio": "Twilio",
    "sendgrid": "SendGrid",
    "@sendgrid/mail": "SendGrid",
    "firebase": "Firebase",
    "firebase-admin": "Firebase",
    "sentry-sdk": "Sentry",
    "resend": "Resend",
    "nodemailer": "SMTP mail server",
    "flask-mail": "SMTP mail server",
    "slack-sdk": "Slack",
    "@slack/web-api": "Slack",
    "pusher": "Pusher",
    "algoliasearch": "Algolia",
    "cloudinary": "Cloudinary",
    "@clerk/nextjs": "Clerk",
    "@auth0/nextjs-auth0": "Auth0",
    "auth0-python": "Auth0",
    "paypalrestsdk": "PayPal",
    "@paypal/checkout-server-sdk": "PayPal",
    "google-generativeai": "Google Gemini",
    "@google/generative-ai": "Google Gemini",
}
SERVICE_PREFIXES = {
    "@aws-sdk/": "AWS",
    "google-cloud-": "Google Cloud",
    "@google-cloud/": "Google Cloud",
    "@sentry/": "Sentry",
    "azure-": "Azure",
    "@azure/": "Azure",
}


@dataclass(frozen=True)
class Component:
    name: str  # e.g. "flask"
    routes: int
    files: list[str]


@dataclass(frozen=True)
class Service:
    name: str
    via: list[str]  # "pypi stripe (requirements.txt)"


@dataclass
class SystemView:
    components: list[Component] = field(default_factory=list)
    external: list[Service] = field(default_factory=list)
    datastores: list[Service] = field(default_factory=list)  # database engines seen
    boundaries: list[str] = field(default_factory=list)
    auth_counts: dict[str, int] = field(default_factory=dict)
    public_writes: int = 0
    client_exposed: list[str] = field(default_factory=list)


def service_for(name: str) -> str | None:
    low = name.lower()
    if low in EXTERNAL_SERVICES:
        return EXTERNAL_SERVICES[low]
    for prefix, service in SERVICE_PREFIXES.items():
        if low.startswith(prefix):
            return service
    return None


def _services(facts: Facts, table: dict[str, str], by_prefix: bool) -> list[Service]:
    found: dict[str, set[str]] = defaultdict(set)
    for dep in facts.dependencies:
        name = service_for(dep.name) if by_prefix else table.get(dep.name.lower())
        if name:
            found[name].add(f"{dep.ecosystem} {dep.name} ({dep.location.path})")
    return [Service(name=k, via=sorted(v)) for k, v in sorted(found.items())]


def components(routes: list[Route]) -> list[Component]:
    by: dict[str, list[Route]] = defaultdict(list)
    for r in routes:
        by[r.framework].append(r)
    return [
        Component(name=k, routes=len(v), files=sorted({r.location.path for r in v}))
        for k, v in sorted(by.items())
    ]


def build_system(facts: Facts, public_writes: int | None = None) -> SystemView:
    """``public_writes``: public routes proven to change data (their handlers write); without
    it, public routes whose method may write are counted."""
    view = SystemView(
        components=components(facts.routes),
        external=_services(facts, EXTERNAL_SERVICES, by_prefix=True),
        datastores=_services(facts, DATASTORE_CLIENTS, by_prefix=False),
    )
    counts = Counter(r.auth.status.value for r in facts.routes)
    view.auth_counts = {s.value: counts.get(s.value, 0) for s in AuthStatus}
    view.public_writes = (
        public_writes
        if public_writes is not None
        else sum(
            1
            for r in facts.routes
            if r.auth.status is AuthStatus.PUBLIC and r.method in MAY_WRITE_METHODS
        )
    )
    view.client_exposed = sorted({e.name for e in facts.env_vars if e.client_exposed})
    view.boundaries = _boundaries(facts, view)
    return view


def _boundaries(facts: Facts, view: SystemView) -> list[str]:
    c = view.auth_counts
    out = []
    if c["public"]:
        out.append(
            f"Internet → server: {plural(c['public'], 'entry point')} with no authentication "
            f"({view.public_writes} of them change data)."
        )
    if c["authenticated"]:
        out.append(
            f"Signed-in users → server: {plural(c['authenticated'], 'entry point')} behind a login."
        )
    if c["restricted"]:
        out.append(
            f"Privileged users → server: {plural(c['restricted'], 'entry point')} behind a "
            "role or permission check."
        )
    if c["unknown"]:
        out.append(
            f"Undecided: {plural(c['unknown'], 'entry point')} whose guard the collectors "
            "could not determine; treat them as public until reviewed."
        )
    if view.client_exposed:
        out.append(
            f"Server → browser: {plural(len(view.client_exposed), 'environment variable')} "
            "compiled into client code, where anyone can read them."
        )
    rls = [t for t in facts.tables if t.rls_enabled is not None]
    if rls:
        off = sum(1 for t in rls if not t.rls_enabled)
        if not off:
            state = "governed by row-level security"
        elif off == len(rls):
            state = "with row-level security disabled"
        else:
            on = len(rls) - off
            state = f"reachable by clients: {on} governed by row-level security, {off} with it off"
        out.append(f"Clients → database: {plural(len(rls), 'table')} {state}.")
    if facts.buckets:
        public = sum(1 for b in facts.buckets if b.public)
        out.append(f"Internet → storage: {plural(len(facts.buckets), 'bucket')} ({public} public).")
    if view.external:
        names = ", ".join(s.name for s in view.external)
        out.append(f"Server → third parties: {names}.")
    return out
