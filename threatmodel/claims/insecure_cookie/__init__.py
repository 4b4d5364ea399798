"""insecure_cookie: a cookie is set without the Secure flag (or with HttpOnly turned off)."""

from threatmodel.claims.spec import KindSpec

SPEC = KindSpec(
    kind="insecure_cookie",
    title="Cookie without Secure / HttpOnly",
    meaning="a cookie set at `location` lacks the Secure flag or turns HttpOnly off",
    params="location",
    cwe=("CWE-614", "CWE-1004"),
    stride=("information_disclosure", "spoofing"),
    severity="low",
    help="Set cookies with secure=True, httponly=True and a SameSite policy.",
    taint=False,
)
