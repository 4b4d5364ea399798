"""What the receiver of a write-named call is: a repository class, or a library's.

A static call on a class the repository declares is followed to the method it runs.

``GetInviteCommand.create({...})`` reads like ``Model.create({...})``; only the class tells
them apart. When the class is the repository's (declared in the handler's module or in one
it imports, through barrel re-exports and workspace packages, ``jsast.resolve_module``),
the static method is the repository's code: the one the class or its nearest repository
base declares, whose body the effects scan reads like any repository function's (a command
base's ``create`` that builds an object writes nothing). A class whose chain leaves the
repository before the method is found (``class Note extends Model`` of an ORM package)
inherits the package's method: the call is classified by its name, as any library call.

A library's class, or an instance the code builds of one (``view = new EditorView()``, a
class field ``inflight = new Map()``), runs that library's code: its ``create`` or
``delete`` stores a record only when the library is a data store's client
(``effects_catalog.DATASTORE_CLIENTS``); a builtin collection's never does
(``library_receiver``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from threatmodel.code import jsast
from threatmodel.code.treesitter import node_text
from threatmodel.collect.effects_catalog import DATASTORE_CLIENTS

if TYPE_CHECKING:
    from tree_sitter import Node

_MAX_HOPS = 4  # re-export and inheritance chains are short; a cycle must end
# JavaScript's own collections: their ``delete`` / ``set`` change memory, not a store
_COLLECTIONS = frozenset({"Map", "Set", "WeakMap", "WeakSet", "Array", "URLSearchParams"})
_CLASSES = ("class_declaration", "abstract_class_declaration", "class")


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


def library_receiver(loader: Loader, mod: Module, fn: Node, name: str) -> bool:
    """Is the receiver of the call ``name`` in ``fn`` a class a library (no data store's
    client) exports, or an instance ``fn`` or its class builds of one, or of a builtin
    collection? Then a write-named method of it (``EditorState.create``, ``view.destroy``,
    ``this.inflight.delete``) is that library's code, not a store write."""
    parts = name.split(".")
    if len(parts) == 2 and parts[0][:1].isupper():
        return _library_class(loader, mod, parts[0])  # a static call: ``Cls.create()``
    if len(parts) == 2:
        made = _constructed(fn, parts[0])
    elif len(parts) == 3 and parts[0] == "this":
        cls = _enclosing_class(fn)
        made = _field_constructed(cls, parts[1]) if cls is not None else None
    else:
        return False
    if made is None:
        return False
    return made in _COLLECTIONS or _library_class(loader, mod, made)


def _library_class(loader: Loader, mod: Module, name: str) -> bool:
    """``name`` is imported from a package (not the repository's files, aliases or
    workspace packages) that is no data store's client."""
    if name in mod.classes:
        return False
    for local, (spec, _imported) in jsast.imports(mod.root).items():
        if local != name:
            continue
        if spec.startswith(".") or loader.resolve(mod, spec) is not None:
            return False
        parts = spec.removeprefix("node:").split("/")
        package = "/".join(parts[:2] if spec.startswith("@") else parts[:1])
        return package not in DATASTORE_CLIENTS
    return False


def _new_of(value: Node | None) -> str | None:
    """``C`` of ``new C(...)`` (``new C<T>()`` too), else None."""
    value = jsast.unwrap(value)
    if value is None or value.type != "new_expression":
        return None
    ctor = value.child_by_field_name("constructor")
    return node_text(ctor) if ctor is not None and ctor.type == "identifier" else None


def _constructed(fn: Node, local: str) -> str | None:
    """The class ``local`` is built from in ``fn`` (``const view = new EditorView(...)``, or
    ``let view; ... view = new EditorView(...)``): the first ``new`` it is given."""
    for node in jsast.walk(fn):
        bound = jsast.binding(node)
        if bound is not None and node_text(bound[0]) == local:
            return _new_of(bound[1])
    return None


def _enclosing_class(fn: Node) -> Node | None:
    node = fn.parent
    while node is not None and node.type not in _CLASSES:
        node = node.parent
    return node


def _field_constructed(cls: Node, field: str) -> str | None:
    """The class a field of ``cls`` is built from: ``inflight = new Map()`` (static too)
    or ``this.inflight = new Map()`` in its constructor."""
    body = cls.child_by_field_name("body")
    for child in body.named_children if body is not None else []:
        key = child.child_by_field_name("name") or child.child_by_field_name("property")
        if child.type == "public_field_definition" and key is not None:
            if node_text(key) == field:
                return _new_of(child.child_by_field_name("value"))
        elif child.type == "method_definition" and key is not None:
            if node_text(key) != "constructor":
                continue
            for node in jsast.walk(child):
                if node.type != "assignment_expression":
                    continue
                if jsast.dotted(node.child_by_field_name("left")) == f"this.{field}":
                    return _new_of(node.child_by_field_name("right"))
    return None
