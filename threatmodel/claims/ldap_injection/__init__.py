"""ldap_injection: an LDAP search filter is built from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow

SPEC = KindSpec(
    kind="ldap_injection",
    title="LDAP injection",
    meaning="an LDAP filter or DN at `location` is built from user input",
    params="location",
    cwe=("CWE-90",),
    stride=("tampering", "information_disclosure"),
    severity="high",
    help="Escape values with ldap3.utils.conv.escape_filter_chars (or ldap.filter.escape_"
    "filter_chars) before putting them in a filter.",
    sinks=(
        SinkRow(".search", arg=1, when="ldap"),
        SinkRow(".search", kw="search_filter", arg=None, when="ldap"),
        *(SinkRow(f".{m}", arg=2, when="ldap") for m in ("search_s", "search_st", "search_ext_s")),
    ),
    sanitizers=(
        "ldap3.utils.conv.escape_filter_chars",
        "ldap.filter.escape_filter_chars",
        "ldap.dn.escape_dn_chars",
        "ldap.filter.filter_format",
    ),
    guard_needles=("(", ")", "*", "\\", "&", "|"),
)
