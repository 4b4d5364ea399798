"""Where a literal meets a name: (name, line, value) triples from parsed code and config.

Used by secrets.py; the values it yields are judged there and never stored.

- Python (``ast``): assignments to names, attributes and ``x["KEY"]`` subscripts, annotated
  assignments, dict literals, keyword arguments, parameter defaults, ``name == "literal"``.
- JavaScript/TypeScript (tree-sitter): declarators, assignments, object pairs, class fields,
  JSX attributes, ``name === "literal"``.
- YAML and JSON (PyYAML's composer keeps line numbers): mapping keys with scalar values, and
  ``KEY=value`` list items (compose ``environment:`` lists).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator

import tree_sitter
import yaml

from threatmodel.code.names import is_secret_name, words
from threatmodel.code.treesitter import node_text

Triple = tuple[str, int, str]


def _target_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# Calls whose positional argument is a key: (callee suffix, argument index, name to report).
_KEY_ARGS = {
    "jwt.encode": (1, "jwt_secret"),
    "jwt.decode": (1, "jwt_secret"),
    "hmac.new": (0, "hmac_secret"),
    "jwt.sign": (1, "jwt_secret"),
    "jwt.verify": (1, "jwt_secret"),
    "createHmac": (1, "hmac_secret"),
    "cookieParser": (0, "cookie_secret"),
    "createCipheriv": (1, "cipher_key"),
    "createDecipheriv": (1, "cipher_key"),
}


def _callee(name: str) -> tuple[int, str] | None:
    parts = name.split(".")
    return _KEY_ARGS.get(".".join(parts[-2:])) or _KEY_ARGS.get(parts[-1])


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _positional_key(call: ast.Call) -> Iterator[Triple]:
    spec = _callee(_dotted(call.func))
    if spec is not None and len(call.args) > spec[0]:
        arg = call.args[spec[0]]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str | bytes):
            value = arg.value if isinstance(arg.value, str) else arg.value.decode("latin-1")
            yield spec[1], arg.lineno, value


def scan_python(tree: ast.AST, nodes: Iterable[ast.AST] | None = None) -> Iterator[Triple]:
    """(name, line, literal value) of every assignment-like pair under ``tree``.

    ``nodes``: ``ast.walk(tree)`` already listed by the caller, so the tree is not walked again.
    """
    members: set[int] = set()  # enum members: ``client_secret = "polar_cs"`` is a label
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.ClassDef) and any(
            (_target_name(b) or "").endswith(("Enum", "Flag", "Choices")) for b in node.bases
        ):
            members.update(id(stmt) for stmt in node.body)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and id(node) not in members:
            value = _literal(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if value is not None:
                for target in targets:
                    name = _target_name(target)
                    if name:
                        yield name, node.lineno, value
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=False):
                key, value = _literal(k), _literal(v)
                if key and value is not None:
                    yield key, v.lineno, value
        elif isinstance(node, ast.Call):
            yield from _positional_key(node)
            for kw in node.keywords:
                value = _literal(kw.value)
                if kw.arg and value is not None:
                    yield kw.arg, kw.value.lineno, value
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(
                zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=False)
            )
            pairs += [
                (a, d)
                for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False)
                if d is not None
            ]
            for arg, default in pairs:
                value = _literal(default)
                if value is not None:
                    yield arg.arg, default.lineno, value
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Eq | ast.NotEq)
        ):
            left, right = node.left, node.comparators[0]
            for a, b in ((left, right), (right, left)):
                name, value = _target_name(a), _literal(b)
                if name and value is not None:
                    yield name, node.lineno, value


# --------------------------------------------------------------------------- JS / TS


def _js_string(node: tree_sitter.Node | None) -> str | None:
    if node is None:
        return None
    if node.type == "string":
        return node_text(node)[1:-1]
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.children
    ):
        return node_text(node)[1:-1]
    return None


def _js_name(node: tree_sitter.Node | None) -> str | None:
    if node is None:
        return None
    if node.type in ("identifier", "property_identifier", "private_property_identifier",
                     "shorthand_property_identifier"):  # fmt: skip
        return node_text(node).lstrip("#")
    if node.type == "string":
        return node_text(node)[1:-1]
    if node.type == "member_expression":
        return _js_name(node.child_by_field_name("property"))
    if node.type == "subscript_expression":
        return _js_name(node.child_by_field_name("index"))
    return None


def _js_positional_key(call: tree_sitter.Node) -> Iterator[Triple]:
    func = call.child_by_field_name("function")
    args = call.child_by_field_name("arguments")
    if func is None or args is None or func.type not in ("identifier", "member_expression"):
        return
    spec = _callee(node_text(func))
    if spec is not None and args.named_child_count > spec[0]:
        value = _js_string(args.named_children[spec[0]])
        if value is not None:
            yield spec[1], call.start_point[0] + 1, value


# Words that say a name's values are not real: a fixture, an example, the placeholders an app
# refuses (``PLACEHOLDER_SECRETS``, ``DUMMY_PASSWORD``).
FAKE_NAME_WORDS = frozenset(
    {"dummy", "fake", "example", "sample", "test", "mock", "demo", "placeholder", "placeholders"}
)


# A whole declaration skipped for its name: only words that say its values are not real.
# Dummy, sample or demo data is often what a seed script writes into the database (users
# with their passwords, vulnerable-node's ``dummy_info``): its values stay looked at.
_FAKE_DECLARATION_WORDS = FAKE_NAME_WORDS - {"dummy", "sample", "demo"}


def fake_name(name: str) -> bool:
    return bool(set(words(name)) & FAKE_NAME_WORDS)


# The sample props a component's preview renders it with (React Email's ``Email.PreviewProps
# = {...}``, shown only by its preview server): illustrative values, whatever their names.
_PREVIEW_PROPS = frozenset({"preview", "props"})


def _fake_declaration(name: str) -> bool:
    ws = set(words(name))
    return bool(ws & _FAKE_DECLARATION_WORDS) or ws >= _PREVIEW_PROPS


_JS_PAIRS = {
    "variable_declarator": ("name", "value"),
    "assignment_expression": ("left", "right"),
    "pair": ("key", "value"),
    "public_field_definition": ("name", "value"),
    "field_definition": ("property", "value"),
}


def scan_js(
    root: tree_sitter.Node, keep: Callable[[tree_sitter.Node], bool] | None = None
) -> Iterator[Triple]:
    """(name, line, literal value) pairs under ``root``, depth first in source order.

    ``keep``: a subtree it refuses is skipped (it holds no pair worth yielding).
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if keep is not None and not keep(node):
            continue
        fields = _JS_PAIRS.get(node.type)
        if (
            fields is not None
            and node.type != "pair"
            and _fake_declaration(_js_name(node.child_by_field_name(fields[0])) or "")
        ):
            continue  # PLACEHOLDER_SECRETS = {JWT_SECRET: 'secret'}: values known to be fake
        stack.extend(reversed(node.named_children))
        if fields is not None:
            name = _js_name(node.child_by_field_name(fields[0]))
            value = _js_string(node.child_by_field_name(fields[1]))
            if name and value is not None:
                yield name, node.start_point[0] + 1, value
        elif node.type == "jsx_attribute" and node.named_child_count == 2:
            name_node, value_node = node.named_children
            value = _js_string(value_node)
            if value is not None:
                yield node_text(name_node), node.start_point[0] + 1, value
        elif node.type == "call_expression":
            yield from _js_positional_key(node)
        elif node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and node_text(op) in ("==", "===", "!=", "!=="):
                left = node.child_by_field_name("left")
                right = node.child_by_field_name("right")
                for a, b in ((left, right), (right, left)):
                    name, value = _js_name(a), _js_string(b)
                    if name and value is not None:
                        yield name, node.start_point[0] + 1, value


# --------------------------------------------------------------------------- YAML / JSON


def scan_structured(text: str) -> Iterator[Triple]:
    """Key/value scalars of a YAML or JSON document, with the value's line."""
    if len(text) > 500_000:
        return  # a data dump, not configuration; the token scan still covers it
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster
        documents = list(yaml.compose_all(text, Loader=loader))
    except (yaml.YAMLError, RecursionError):
        return
    stack: list[yaml.Node] = [d for d in documents if d is not None]
    while stack:
        node = stack.pop()
        pairs: list[Triple] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(value, yaml.ScalarNode) and isinstance(key, yaml.ScalarNode):
                    if value.tag.endswith(":str"):
                        pairs.append((str(key.value), value.start_mark.line + 1, str(value.value)))
                else:
                    stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and "=" in str(item.value):
                    name, _, value = str(item.value).partition("=")
                    if name and " " not in name:
                        pairs.append((name, item.start_mark.line + 1, value))
                else:
                    stack.append(item)
        yield from _unpublished(pairs)


def _unpublished(pairs: list[Triple]) -> Iterator[Triple]:
    """The pairs of one mapping, less a secret-named value the same mapping also gives under
    a plain name: ``POSTGRES_PASSWORD: shop`` beside ``POSTGRES_USER: shop`` is a default
    spelled from the user / database name, printed in the clear one line away, no secret."""
    plain = {v for n, _, v in pairs if not is_secret_name(n)}
    yield from (p for p in pairs if not (p[2] in plain and is_secret_name(p[0])))
