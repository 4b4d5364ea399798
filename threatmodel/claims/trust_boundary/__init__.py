"""trust_boundary: request input is stored in the server-side session as if trusted."""

from threatmodel.claims.spec import KindSpec

SPEC = KindSpec(
    kind="trust_boundary",
    title="Trust boundary violation",
    meaning="user input is stored at `location` in the session, mixing trusted and untrusted data",
    params="location",
    cwe=("CWE-501",),
    stride=("tampering", "elevation_of_privilege"),
    severity="low",
    help="Validate input before storing it in the session; keep session keys fixed.",
    sanitizers=("int", "float", "bool"),
)
