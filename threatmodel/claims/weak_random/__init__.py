"""weak_random: a security value (token, session id, password) comes from ``random``."""

from threatmodel.claims.spec import KindSpec

SPEC = KindSpec(
    kind="weak_random",
    title="Predictable random security value",
    meaning="a token, session value, password or key at `location` comes from the `random` "
    "module (predictable)",
    params="location",
    cwe=("CWE-330",),
    stride=("spoofing",),
    severity="medium",
    help="Use the secrets module (secrets.token_urlsafe) or random.SystemRandom.",
    taint=False,
)
