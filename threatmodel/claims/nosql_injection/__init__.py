"""nosql_injection: a MongoDB query document or $where code comes from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow

_METHODS = ("find", "find_one", "find_one_and_update", "update_one", "update_many")
_METHODS2 = ("delete_one", "delete_many", "aggregate", "count_documents")

SPEC = KindSpec(
    kind="nosql_injection",
    title="NoSQL injection",
    meaning="a MongoDB query at `location` takes a whole document (operators included) or "
    "$where code from user input",
    params="location",
    cwe=("CWE-943",),
    stride=("tampering", "information_disclosure"),
    severity="high",
    help="Build query documents from typed fields (str(value)), never pass a parsed request "
    "body as the filter; avoid $where.",
    sinks=tuple(SinkRow(f".{m}", whole=True, when="mongo") for m in _METHODS + _METHODS2),
)
