"""weak_hash: MD5 / SHA-1 protect a password, token or signature."""

from threatmodel.claims.spec import KindSpec

SPEC = KindSpec(
    kind="weak_hash",
    title="Weak hash for a security value",
    meaning="MD5 or SHA-1 at `location` hashes a password, token or other security value",
    params="location",
    cwe=("CWE-328",),
    stride=("information_disclosure", "spoofing"),
    severity="medium",
    help="Hash passwords with a password hash (argon2, bcrypt, scrypt, PBKDF2) and other "
    "security values with SHA-256 or better; mark non-security uses "
    "usedforsecurity=False.",
    taint=False,
)
