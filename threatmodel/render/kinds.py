"""What each claim kind means, for rule help text in SARIF and anywhere a kind is explained.

Findings from the LLM (or from another tool, via ``verify``) have no rule module of their
own; they are grouped under a SARIF rule per claim kind, whose help comes from here.
"""

from __future__ import annotations

from threatmodel.claims import REGISTRY

# kind -> (short description, help text, default CWE)
KIND_HELP: dict[str, tuple[str, str, str]] = {
    "route_unauthenticated": (
        "Route reachable without authentication",
        "An HTTP route that performs a sensitive action has no authentication guard, so any "
        "caller on the network can invoke it. Add a login/token guard and an ownership check.",
        "CWE-306",
    ),
    "missing_authorization": (
        "Missing authorization check",
        "The caller is authenticated but the handler does not check that they may act on the "
        "targeted record or function (IDOR / broken access control). Check ownership or role.",
        "CWE-862",
    ),
    "sql_injection": (
        "SQL built from untrusted input",
        "A SQL statement is built by string formatting or concatenation with input. Use "
        "parameterised queries or the ORM's bound parameters.",
        "CWE-89",
    ),
    "command_injection": (
        "OS command built from untrusted input",
        "A shell command is built from input. Pass an argument list without a shell and "
        "validate the input against an allow-list.",
        "CWE-78",
    ),
    "hardcoded_secret": (
        "Hardcoded secret",
        "A credential is committed to the repository. Rotate it, remove it from history, and "
        "load it from the environment or a secret manager.",
        "CWE-798",
    ),
    "debug_enabled": (
        "Debug mode enabled",
        "Debug mode exposes stack traces, configuration and sometimes an interactive console. "
        "Disable it outside development.",
        "CWE-489",
    ),
    "weak_jwt": (
        "Weak JWT handling",
        "Tokens are decoded without signature verification, accept the 'none' algorithm or use "
        "a guessable key. Verify signatures with a pinned algorithm and a strong key.",
        "CWE-347",
    ),
    "rls_permissive": (
        "Row-level security policy lets every row through",
        "A policy such as USING (true) grants its roles every row. Restrict it to the rows the "
        "caller owns (e.g. auth.uid() = user_id).",
        "CWE-284",
    ),
    "rls_disabled": (
        "Row-level security disabled",
        "A table reachable with the public (anon) key has RLS disabled, so any client can read "
        "and write every row. Enable RLS and add owner-scoped policies.",
        "CWE-284",
    ),
    "public_bucket": (
        "Public storage bucket",
        "Objects in a public bucket are readable by anyone with the URL. Make it private and "
        "serve objects through signed URLs.",
        "CWE-732",
    ),
    "mass_assignment": (
        "Mass assignment",
        "Request data is written to a model wholesale, letting a caller set fields such as "
        "role or owner. Copy only an allow-list of fields.",
        "CWE-915",
    ),
    "ssrf": (
        "Server-side request forgery",
        "The server fetches a URL taken from input, letting a caller reach internal services. "
        "Allow-list destinations and block private address ranges.",
        "CWE-918",
    ),
    "csrf_missing": (
        "Missing CSRF protection",
        "A state-changing route authenticated by cookies has no CSRF token check. Enable CSRF "
        "protection or use SameSite cookies plus a token.",
        "CWE-352",
    ),
    "missing_rate_limit": (
        "Missing rate limit",
        "An authentication or expensive route has no rate limit, allowing brute force or "
        "resource exhaustion. Add per-client limits.",
        "CWE-307",
    ),
    "xss": (
        "Cross-site scripting",
        "Input reaches HTML without escaping. Rely on template auto-escaping and never mark "
        "input as safe markup.",
        "CWE-79",
    ),
    "open_redirect": (
        "Open redirect",
        "The app redirects to a URL taken from input, which phishing can abuse. Redirect only "
        "to relative paths or an allow-list of hosts.",
        "CWE-601",
    ),
    "info_leak": (
        "Information disclosure",
        "A response or log reveals internal data (stack traces, other users' records, "
        "configuration). Return only what the caller needs.",
        "CWE-200",
    ),
    "client_exposed_secret": (
        "Secret exposed to the browser",
        "An environment variable with a public prefix (NEXT_PUBLIC_, VITE_, REACT_APP_) holds "
        "a credential and is compiled into the client bundle. Keep it server-side and rotate it.",
        "CWE-522",
    ),
    "cors_misconfigured": (
        "Permissive CORS",
        "Any origin (or a reflected origin) may make credentialed requests. Allow-list the "
        "origins that need access.",
        "CWE-942",
    ),
    "rls_bypass": (
        "Row level security bypassed for an unchecked caller",
        "A Supabase client made with the service-role key ignores every policy. Check the "
        "caller (auth.getUser) before using it, or use a client with the caller's own JWT.",
        "CWE-862",
    ),
    "default_credentials": (
        "Weak default credentials",
        "A configuration or compose file ships a guessable password or key (postgres / "
        "password / admin / changeme). Anyone who reaches the service logs in with it. "
        "Require the value from the environment with no default.",
        "CWE-1392",
    ),
    "cost_abuse": (
        "Public route spends a paid API",
        "Anyone can call a route that calls a metered third-party API (an LLM, SMS, ...) "
        "with no rate limit, running up the operator's bill. Require login or rate-limit it.",
        "CWE-770",
    ),
}


# Kinds of the claim registry (threatmodel/claims/<kind>/) carry their own help text.
for _kind, _spec in REGISTRY.items():
    KIND_HELP.setdefault(_kind, (_spec.title, _spec.help, _spec.cwe[0]))


def kind_help(kind: str) -> tuple[str, str, str]:
    return KIND_HELP.get(kind, (kind.replace("_", " ").capitalize(), "", ""))
