"""TM110 client-exposed-secret: a secret-looking env var that the bundler ships to the browser.

Bundlers inline variables named ``NEXT_PUBLIC_*``, ``VITE_*``, ``REACT_APP_*``, ``PUBLIC_*``,
``EXPO_PUBLIC_*``, ``NUXT_PUBLIC_*`` and ``GATSBY_*`` into the JavaScript every visitor
downloads. When such a variable's name says it holds a secret (``SERVICE_ROLE``, ``SECRET``,
``PRIVATE_KEY``, ``PASSWORD``, ``TOKEN``, ...) anyone can read the value from the bundle: a
Supabase service-role key, for example, bypasses every row-level-security policy.
Names that are public by design (Supabase anon keys, Stripe publishable keys, Firebase web
API keys, site keys of captchas, product-analytics project keys) are not reported.
"""

from __future__ import annotations

import posixpath

from threatmodel.code.names import is_switch_name
from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules.interface import Rule, RuleContext, register

# Fragments of a variable name that say "this is a credential".
SECRET_MARKERS = (
    "SERVICE_ROLE",
    "SECRET",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "CLIENT_SECRET",
    "ADMIN_KEY",
    "MASTER_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "DATABASE_URL",
    "DB_URL",
    "CONNECTION_STRING",
)
# Fragments that mark a key as public by design; they win over SECRET_MARKERS.
PUBLIC_MARKERS = (
    "ANON_KEY",
    "ANON",
    "PUBLISHABLE",
    "PUBLIC_KEY",
    "SITE_KEY",
    "SITEKEY",
    "CLIENT_ID",
    "MEASUREMENT_ID",
    "APP_ID",
    "PROJECT_ID",
    "CSRF_TOKEN",
    "MAPBOX_TOKEN",
    "MAPBOX_ACCESS_TOKEN",
    # product-analytics project keys, written to be sent from every browser (PostHog's
    # "project API key", Mixpanel's project token): they can only send events
    "POSTHOG",
    "MIXPANEL_TOKEN",
)


def is_env_file(path: str) -> bool:
    """``.env``, ``.env.example``, ``prod.env``: files that assign variables, not read them."""
    name = posixpath.basename(path)
    return name.startswith(".env") or name.endswith(".env")


def looks_secret(name: str) -> bool:
    """True when an env var name says it holds a credential that must stay on the server."""
    upper = name.upper()
    if any(m in upper for m in PUBLIC_MARKERS) or is_switch_name(name):
        return False  # public by design, or a yes/no setting (``..._USE_ID_TOKEN``)
    return any(m in upper for m in SECRET_MARKERS)


@register
class ClientExposedSecret(Rule):
    id = "TM110"
    name = "client-exposed-secret"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for var in facts.env_vars:
            if not var.client_exposed or not looks_secret(var.name) or not var.locations:
                continue
            # The code that reads the variable first: an env file's assignment (often empty,
            # in .env.example) shows the name, not that the bundle takes it.
            locations = sorted(var.locations, key=lambda loc: (is_env_file(loc.path), loc.path))
            out.append(
                Finding(
                    title=f"{var.name} is shipped to the browser but looks like a secret",
                    severity=Severity.CRITICAL if "SERVICE_ROLE" in var.name else Severity.HIGH,
                    stride=[Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-200", "CWE-522"],
                    source="rule",
                    rule_id=self.id,
                    # The claim keeps the variable's first location: it is part of the
                    # fingerprint, which baselines of accepted findings match on.
                    claims=[
                        Claim(
                            kind="client_exposed_secret", name=var.name, location=var.locations[0]
                        )
                    ],
                    evidence=[ctx.evidence_at(loc) for loc in locations[:3]],
                    attack=(
                        f"Open the site, read the JavaScript bundle and take the value of "
                        f"{var.name}; the bundler inlined it because of its public prefix."
                    ),
                    mitigation=(
                        "Keep the credential on the server: rename it without the public prefix, "
                        "read it only in server code, rotate the leaked value, and give the "
                        "browser a public key with least privilege instead."
                    ),
                )
            )
        return out
