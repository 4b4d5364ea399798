"""prototype_pollution: request data is deep-merged into an object by a library release that
follows ``__proto__`` / ``constructor.prototype`` keys (JavaScript)."""

from threatmodel.claims.spec import KindSpec, js

SPEC = KindSpec(
    kind="prototype_pollution",
    title="Prototype pollution",
    meaning="user input at `location` is deep-merged by a library release that copies "
    "`__proto__` keys, so it sets properties every object inherits",
    params="location",
    cwe=("CWE-1321",),
    stride=("tampering", "elevation_of_privilege"),
    severity="high",
    help="Upgrade the library (lodash >= 4.17.12), merge only known fields, or build the "
    "target with Object.create(null).",
    sinks=(
        # lodash's deep merges copied a source's ``__proto__`` key onto Object.prototype
        # before 4.17.11 (CVE-2018-3721, CVE-2018-16487); defaultsDeep's ``constructor``
        # key before 4.17.12 (CVE-2019-10744). Every source is dangerous, the target is not:
        # a sink only where the app's manifest pins such a release (``SinkRow.below``)
        *(
            js(f"lodash.{m}", arg=i, below="4.17.11")
            for m in ("merge", "mergeWith")
            for i in (1, 2, 3)
        ),
        *(js("lodash.defaultsDeep", arg=i, below="4.17.12") for i in (1, 2, 3)),
    ),
)
