"""xxe: request input is parsed as XML by a parser that resolves external entities."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

_JS_PARSE = ("parseXml", "parseXmlString")

SPEC = KindSpec(
    kind="xxe",
    title="XML external entity",
    meaning="user-supplied XML is parsed at `location` with external entities enabled",
    params="location",
    cwe=("CWE-611",),
    stride=("information_disclosure",),
    severity="high",
    help="Parse untrusted XML with defusedxml, or disable entity resolution "
    "(lxml XMLParser(resolve_entities=False), no feature_external_ges).",
    sinks=(
        *(SinkRow(f"xml.dom.minidom.{f}", when="xml_entities") for f in ("parse", "parseString")),
        *(SinkRow(f"xml.dom.pulldom.{f}", when="xml_entities") for f in ("parse", "parseString")),
        *(SinkRow(f"xml.sax.{f}", when="xml_entities") for f in ("parse", "parseString")),
        *(SinkRow(f".{f}", when="sax_entities") for f in ("parse", "feed")),
        *(SinkRow(f"lxml.etree.{f}", when="lxml_entities") for f in ("parse", "fromstring")),
        SinkRow("lxml.etree.XML", when="lxml_entities"),
        *(js(f"{m}.{f}", when="noent") for m in ("libxmljs", "libxmljs2") for f in _JS_PARSE),
        # the standard library's ElementTree never loads external entities: a claim on it
        # is refuted with that reason
        *(
            SinkRow(f"xml.etree.{mod}.{f}", when="no_external_entities")
            for mod in ("ElementTree", "cElementTree")
            for f in ("parse", "fromstring", "XML", "iterparse", "XMLParser", "fromstringlist")
        ),
    ),
    sanitizers=("defusedxml",),
)
