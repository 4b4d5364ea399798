"""xpath_injection: an XPath expression is built from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="xpath_injection",
    title="XPath injection",
    meaning="an XPath query at `location` is built from user input",
    params="location",
    cwe=("CWE-643",),
    stride=("tampering", "information_disclosure"),
    severity="high",
    help="Pass values as XPath variables (tree.xpath('//a[@id=$id]', id=value)).",
    sinks=(
        SinkRow(".xpath"),
        SinkRow("lxml.etree.XPath"),
        SinkRow("lxml.etree.ETXPath"),
        SinkRow("elementpath.select", arg=1),
        SinkRow("elementpath.iter_select", arg=1),
        SinkRow("elementpath.Selector"),
        *(SinkRow(f".{m}", when="etree") for m in ("find", "findall", "findtext", "iterfind")),
        # JS: the xpath package compiles its first argument (``xpath.evaluate(expr, doc, ...)``)
        *(js(f"xpath.{m}") for m in ("select", "select1", "evaluate", "parse")),
    ),
    guard_needles=("'", '"'),
)
