"""A static call on a class the repository declares, followed to the method it runs.

``GetInviteCommand.create({...})`` reads like ``Model.create({...})``; only the class tells
them apart. When the class is the repository's (declared in the handler's module or in one
it imports, through barrel re-exports and workspace packages, ``jsast.resolve_module``),
the static method is the repository's code: the one the class or its nearest repository
base declares, whose body the effects scan reads like any repository function's (a command
base's ``create`` that builds an object writes nothing). A class whose chain leaves the
repository before the method is found (``class Note extends Model`` of an ORM package)
inherits the package's method: the call is classified by its name, as any library call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from threatmodel.code import jsast
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

_MAX_HOPS = 4  # re-export and inheritance chains are short; a cycle must end


class Module(Protocol):
    path: str
    root: Node
    classes: dict[str, Node]


class Loader(Protocol):
    def load(self, path: str) -> Any: ...  # a ``Module`` or None

    def resolve(self, mod: Any, spec: str) -> str | None: ...  # ``mod``: a ``Module``


def static_method(loader: Loader, mod: Module, name: str) -> tuple[Module, Node] | None:
    """``Cls.m`` where ``Cls`` is a class of the repository whose chain declares ``m`` before
    it leaves the repository: that module and method. None otherwise (not a class, a
    package's class, or a method a package's base supplies)."""
    cls_name, _, method = name.partition(".")
    if not method or "." in method or not cls_name[:1].isupper():
        return None
    found: tuple[Module, Node] | None = find_class(loader, mod, cls_name)
    for _ in range(_MAX_HOPS):
        if found is None:
            return None
        where, cls = found
        got = _static(cls, method)
        if got is not None:
            return where, got
        base = _base_name(cls)
        found = find_class(loader, where, base) if base else None
    return None


def find_class(loader: Loader, mod: Module, name: str, hops: int = 0) -> tuple[Module, Node] | None:
    """The declaration of the class ``mod`` knows as ``name``: its own, or the one an
    import names (following ``export * from`` / ``export { X } from`` re-exports)."""
    if name in mod.classes:
        return mod, mod.classes[name]
    if hops >= _MAX_HOPS:
        return None
    for local, (spec, imported) in jsast.imports(mod.root).items():
        if local == name and imported not in ("*", "default"):
            target = loader.resolve(mod, spec)
            other = loader.load(target) if target is not None else None
            if other is not None:
                return _exported(loader, other, imported, hops + 1)
    return None


def _exported(loader: Loader, mod: Module, name: str, hops: int) -> tuple[Module, Node] | None:
    """The class ``mod`` exports as ``name``, here or through its re-exports."""
    if name in mod.classes:
        return mod, mod.classes[name]
    if hops >= _MAX_HOPS:
        return None
    for node in mod.root.named_children:
        if node.type != "export_statement":
            continue
        spec = jsast.string_value(node.child_by_field_name("source"))
        if spec is None:
            continue
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        wanted = name if clause is None else _renamed_from(clause, name)
        if wanted is None:
            continue
        target = loader.resolve(mod, spec)
        other = loader.load(target) if target is not None else None
        got = _exported(loader, other, wanted, hops + 1) if other is not None else None
        if got is not None:
            return got
    return None


def _renamed_from(clause: Node, public: str) -> str | None:
    """In ``export { a as b } from``: the name ``public`` has in the source module."""
    for spec in clause.named_children:
        name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
        if name is not None and node_text(alias or name) == public:
            return node_text(name)
    return None


def _static(cls: Node, method: str) -> Node | None:
    body = cls.child_by_field_name("body")
    for child in body.named_children if body is not None else []:
        key = child.child_by_field_name("name")
        if child.type != "method_definition" or key is None or node_text(key) != method:
            continue
        if any(c.type == "static" for c in child.children):
            return child
    return None


def _base_name(cls: Node) -> str | None:
    """``Base`` of ``class X extends Base`` (``extends Base<T>`` too); None otherwise."""
    for child in cls.named_children:
        if child.type != "class_heritage":
            continue
        for clause in child.named_children:
            value = clause.named_children[0] if clause.type == "extends_clause" else clause
            if value is not None and value.type == "identifier":
                return node_text(value)
            if clause.type == "extends_clause" and value is not None:
                head = value.child_by_field_name("value") or value
                return node_text(head) if head.type == "identifier" else None
    return None
