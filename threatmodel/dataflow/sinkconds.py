"""The conditions catalog rows name (``SinkRow.when``): when a call is a sink, and which
value is the dangerous one. ``subprocess.run(["sh", "-c", cmd])`` is a shell command even
without ``shell=True``; ``yaml.load`` with a safe loader is not a sink; XML parsers are
sinks only when entities are resolved."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from threatmodel.claims.spec import SinkRow
from threatmodel.dataflow.frame import Frame, dotted, qualify
from threatmodel.dataflow.values import Value, tainted

if TYPE_CHECKING:
    from threatmodel.dataflow.base import EngineBase

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell", "pwsh"})
Cond = Callable[[ast.Call, Value, Value, dict[str, Value], Frame], Value | None]
# A URL whose constant start is a local path or fixes scheme and host: input after it picks
# a path on a server the code chose, never another server (Python and JS engines).
FIXED_URL = re.compile(r"^(/[^/\\]|[?#]|https?://[^/?#]+[/?#])")
URL_KEYWORDS = ("url", "location", "redirect_to", "to")


def _truthy(v: Value | None) -> bool:
    return v is not None and (not v.known or bool(v.const))


def _command(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    if _truthy(kwargs.get("shell")):
        return arg
    if arg.seq and arg.items:
        first = arg.items[0][1]
        program = str(first.const).rsplit("/", 1)[-1].lower() if first.known else ""
        if program in SHELLS or not first.known:  # sh -c "<string>": a shell command
            # (a program chosen between constants, e.g. per OS, may be a shell: every item)
            return tainted(*(v for _, v in arg.items))
        return first
    if arg.known:
        return None
    return arg  # a string without a shell is the program's name


def _unsafe_yaml(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    loader = next((k.value for k in call.keywords if k.arg == "Loader"), None)
    if loader is None and len(call.args) > 1:
        loader = call.args[1]
    # the safe loaders, and BaseLoader (every value a string), build no objects
    if loader is not None and ("Safe" in dotted(loader) or dotted(loader).endswith("BaseLoader")):
        return None
    return arg


def _xml_entities(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    # xml.dom.minidom / sax parse with a parser that turned external entities on
    parser = call.args[1] if len(call.args) > 1 else None
    if parser is None:
        parser = next((k.value for k in call.keywords if k.arg == "parser"), None)
    key = dotted(parser) if parser is not None else ""
    return arg if key and f.env.get(f"{key}.<external>") is not None else None


def _sax_entities(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    assert isinstance(call.func, ast.Attribute)
    key = dotted(call.func.value)
    return arg if key and f.env.get(f"{key}.<external>") is not None else None


def _lxml_entities(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    parser = call.args[1] if len(call.args) > 1 else None
    if parser is None:
        parser = next((k.value for k in call.keywords if k.arg == "parser"), None)
    if parser is None:
        return None  # lxml >= 5 default parser does not load external entities
    if isinstance(parser, ast.Call):  # ``fromstring(x, XMLParser(resolve_entities=True))``
        return arg if risky_xml_parser(parser, f) else None
    key = dotted(parser)
    return arg if key and f.env.get(f"{key}.<external>") is not None else None


def risky_xml_parser(node: ast.Call, f: Frame) -> bool:
    """``lxml.etree.XMLParser(resolve_entities=True)`` (or ``no_network=False``): a parser
    that loads external entities."""
    if not qualify(node.func, f).endswith("XMLParser"):
        return False
    kw = {k.arg: k.value for k in node.keywords}
    entities, network = kw.get("resolve_entities"), kw.get("no_network")
    off = isinstance(entities, ast.Constant) and not entities.value
    return (entities is not None and not off) or (
        isinstance(network, ast.Constant) and network.value is False
    )


def _ldap(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    # ``conn.search(base, filter)`` is ldap3; other ``.search`` methods (re, lists) are not
    text = " ".join(f.aliases.values())
    return arg if "ldap" in text else None


def _etree(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    text = " ".join(f.aliases.values())
    return arg if "etree" in text or "lxml" in text else None


def _mongo(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    text = " ".join(f.aliases.values())
    if "pymongo" not in text and "motor" not in text and "mongo" not in text:
        return None
    return arg


def _template_env(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    text = " ".join(f.aliases.values())
    return arg if "jinja2" in text or "mako" in text else None


CONTENT_TYPE = "<content_type>"  # env key suffix: the content type set on a response name
CLEAN_TYPE = Value(const="application/octet-stream")  # a body never rendered


def not_html(v: Value | None) -> bool:
    """A known content type that a browser does not render as HTML (text/plain, JSON).
    SVG and XML are rendered as documents that can run script (XHTML, SVG ``<script>``)."""
    if v is None or not v.known or not isinstance(v.const, str):
        return False
    low = v.const.lower()
    return not any(t in low for t in ("html", "xml", "svg"))


def attachment(v: Value | None) -> bool:
    """A known Content-Disposition that makes the browser download the body, never render
    it in the site's origin."""
    return (
        v is not None
        and v.known
        and isinstance(v.const, str)
        and v.const.strip().lower().startswith("attachment")
    )


def not_page(name: str, v: Value | None) -> bool:
    """Setting header ``name`` to ``v`` keeps the body off the page: a non-HTML
    Content-Type, or a Content-Disposition attachment."""
    low = name.lower()
    return (low == "content-type" and not_html(v)) or (
        low == "content-disposition" and attachment(v)
    )


def _headers_type(v: Value | None) -> Value | None:
    for k, x in (v.items or ()) if v is not None and not v.seq else ():
        if isinstance(k, str) and not_page(k, x):
            return CLEAN_TYPE
    return None


def body_of(arg: Value, kwargs: dict[str, Value]) -> Value | None:
    """The HTML body of a response built from ``arg``: ``(body, status, headers)`` gives
    the body; a non-HTML content type (``mimetype=``, ``content_type=``, a Content-Type
    header) gives None."""
    if any(not_html(kwargs.get(k)) for k in ("mimetype", "content_type")):
        return None
    if not_html(_headers_type(kwargs.get("headers"))):
        return None
    if arg.seq and arg.items:
        if any(not_html(_headers_type(x)) for _, x in arg.items[1:]):
            return None
        return arg.items[0][1]
    return arg


def _response_body(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    # ``(body, status, headers)``: only the body is HTML; a header value is not XSS
    return body_of(arg, kwargs)


def _html_handler(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    if not f.route:
        return None
    body = body_of(arg, {})  # (body, status, headers)
    if body is None or body.items is not None:  # text/plain, or a dict / list body (JSON)
        return None
    return body


def _path_receiver(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    # ``p.read_text()`` where ``p`` was built as a pathlib path (not a queryset's .exists())
    assert isinstance(call.func, ast.Attribute)
    node = call.func.value
    from threatmodel.dataflow.python import _is_path_expr

    return recv if dotted(node) in f.paths or _is_path_expr(node, f) else None


def url_prefix(node: ast.expr | None) -> str:
    """The constant text a URL expression starts with: a literal, the literal start of an
    f-string, of ``a + b``, of ``"...%s" % x`` or ``"...{}".format(x)`` ("" if none)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            out += part.value
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return url_prefix(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return url_prefix(node.left).partition("%")[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return url_prefix(node.func.value).partition("{")[0] if node.func.attr == "format" else ""
    return ""


def _url_host(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    # ``requests.get("https://api.example.com/v1/" + q)``, ``redirect("/items/" + i)``
    if not arg.all_labels():
        return arg  # a constant URL: kept, refuted as constant
    node = next((k.value for k in call.keywords if k.arg in URL_KEYWORDS), None)
    if node is None and call.args:
        last = dotted(call.func).rsplit(".", 1)[-1]
        node = call.args[1] if last == "request" and len(call.args) > 1 else call.args[0]
    if FIXED_URL.match(url_prefix(node)):
        return None
    # built before the call (``url = f"https://api.example.com/?q={q}"; get(url)``): the
    # value's own known start
    return None if arg.affix and FIXED_URL.match(arg.affix[0]) else arg


def _no_external_entities(
    call: ast.Call, arg: Value, recv: Value, kwargs: dict[str, Value], f: Frame
) -> Value | None:
    return None  # never a sink: kept so a claim there is refuted with the reason


CONDITIONS: dict[str, Cond] = {
    "no_external_entities": _no_external_entities,
    "path_receiver": _path_receiver,
    "command": _command,
    "unsafe_yaml": _unsafe_yaml,
    "xml_entities": _xml_entities,
    "sax_entities": _sax_entities,
    "lxml_entities": _lxml_entities,
    "ldap": _ldap,
    "etree": _etree,
    "mongo": _mongo,
    "template_env": _template_env,
    "html_handler": _html_handler,
    "response_body": _response_body,
    "url_host": _url_host,
}


def row_argument(
    row: SinkRow, args: list[Value], kwargs: dict[str, Value], receiver: Value
) -> Value | None:
    """The argument ``row`` names as the call passes it, or None when the call passes none
    there (the row does not apply: ``subprocess.run(cmd, shell=True)`` has no ``args=``)."""
    if row.kw == "<receiver>":
        return receiver
    if row.arg == -1:
        return tainted(*args, *kwargs.values())
    if row.arg is not None and row.arg < len(args):
        return args[row.arg]
    if row.kw is not None:  # the same parameter passed by name (``requests.get(url=u)``)
        return kwargs.get(row.kw)
    return None


def dangerous_value(
    kind: str,
    row: SinkRow,
    call: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
    receiver: Value,
    f: Frame,
    engine: EngineBase,
) -> Value | None:
    """The value that makes ``call`` dangerous under ``row``, or None when it is not a sink."""
    del engine, kind
    arg = row_argument(row, args, kwargs, receiver)
    if arg is None:
        return None
    if row.when:
        got = CONDITIONS[row.when](call, arg, receiver, kwargs, f)
        if got is None:
            return None
        arg = got
    if row.whole:
        return Value(arg.labels)
    return arg


__all__ = ["CONDITIONS", "CONTENT_TYPE", "dangerous_value", "not_html", "qualify", "row_argument"]
