"""Who an e-mail a handler sends goes to: the app's own configured address, or anyone.

A public contact form mails the operator (``to: process.env.SITE_CONTACT_EMAIL``,
Django's ``mail_admins``, ``send_mail(..., [settings.CONTACT_EMAIL])``): an anonymous caller
can write to the site's owner, as the form intends, and to nobody else. That is no relay for
spam or phishing, which is what "triggers email without authentication" warns about. Only a
recipient read from configuration or written as a constant counts; one from the request, the
database or anything not followed is not the operator's.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from threatmodel.code import jsast
from threatmodel.code.pyast import dotted, str_const
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

# Django's mails to the people settings.ADMINS / settings.MANAGERS name.
OPERATOR_MAILS = frozenset({"mail_admins", "mail_managers"})
# A value read from the app's configuration: an environment variable or a settings object.
_JS_CONFIG = re.compile(r"^(process\.env|config|settings|env)(\.\w+|\[['\"][\w.]+['\"]\])+$")
_PY_CONFIG = ("settings.", "os.environ", "config.", "app.config")
_DEPTH = 4


def js_to_operator(args: list[Node], fn: Node) -> bool:
    """Does every ``to`` of the mail call's arguments name a configured or constant address?
    Objects are followed through the declarations of ``fn`` (``sendMail(mailSettings)``,
    ``mailSettings = { mailOptions }``, ``mailOptions = { to: process.env.X }``)."""
    decls = jsast.declared(fn)
    found: list[Node] = []
    for a in args:
        _js_recipients(a, decls, found, 0)
    return bool(found) and all(_js_fixed(v) for v in found)


def _js_recipients(node: Node, decls: dict[str, Node], found: list[Node], depth: int) -> None:
    if depth > _DEPTH:
        return
    if node.type in ("identifier", "shorthand_property_identifier"):
        value = decls.get(node_text(node))
        if value is not None:
            _js_recipients(value, decls, found, depth + 1)
        return
    if node.type == "member_expression":  # settings.mailOptions: that property's object
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        held = decls.get(node_text(obj)) if obj is not None else None
        value = jsast.object_props(held).get(node_text(prop)) if prop is not None else None
        if value is not None:
            _js_recipients(value, decls, found, depth + 1)
        return
    for key, value in jsast.object_props(node).items():
        if key == "to":
            found.append(value)
        else:
            _js_recipients(value, decls, found, depth + 1)


def _js_fixed(value: Node) -> bool:
    if value.type in ("string", "template_string") and "${" not in node_text(value):
        return True
    if value.type == "array":
        return all(_js_fixed(v) for v in value.named_children)
    return bool(_JS_CONFIG.match(node_text(value)))


def py_to_operator(name: str, call: ast.Call) -> bool:
    """``mail_admins(...)``, or ``send_mail(subject, body, sender, [settings.X])`` whose
    recipient list is configuration or constants only."""
    tail = name.rsplit(".", 1)[-1]
    if tail in OPERATOR_MAILS:
        return True
    if tail not in ("send_mail", "send_mass_mail"):
        return False
    recipients = call.args[3] if len(call.args) > 3 else None
    for k in call.keywords:
        if k.arg == "recipient_list":
            recipients = k.value
    if not isinstance(recipients, ast.List | ast.Tuple) or not recipients.elts:
        return False
    return all(_py_fixed(e) for e in recipients.elts)


def _py_fixed(node: ast.expr) -> bool:
    if str_const(node) is not None:
        return True
    if isinstance(node, ast.Call):  # os.environ.get("X") / os.getenv("X")
        return dotted(node.func) in ("os.environ.get", "os.getenv", "getenv")
    text = dotted(node) or ""
    return text.startswith(_PY_CONFIG) or (
        isinstance(node, ast.Subscript) and _py_fixed(node.value)
    )
