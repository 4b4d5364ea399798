"""What the Python engine knows inside one function while it reads it statement by statement."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from threatmodel.dataflow.encode import LabelTable
from threatmodel.dataflow.values import Label, Value


@dataclass
class Hit:
    """A catalog sink (or pattern) met, with the labels of its dangerous value."""

    kind: str
    line: int
    callee: str
    labels: frozenset[Label]
    note: str = ""  # why a constant sink is safe beyond being constant ("safe: ..." as called)
    lines: tuple[int, ...] = ()  # where the call's argument names were set or configured

    def to_json(self, table: LabelTable) -> list[Any]:
        row = [self.kind, self.line, self.callee, table.ids(self.labels)]
        if self.note or self.lines:
            row.append(self.note)
        if self.lines:
            row.append(list(self.lines))
        return row


@dataclass
class CallRec:
    """A call to a function whose summary link() may know: checked for parameter -> sink."""

    qual: str
    line: int
    args: tuple[tuple[str, frozenset[Label]], ...]

    def to_json(self, table: LabelTable) -> list[Any]:
        return [self.qual, self.line, [[k, table.ids(v)] for k, v in self.args]]


@dataclass
class Frame:
    qual: str  # module.function (nested: module.outer.inner; methods: module.Class.method)
    env: dict[str, Value]
    aliases: dict[str, str]  # local name -> dotted name it was imported as
    defs: dict[str, str]  # function / class names visible here -> qualified names
    route: bool = False  # a Flask-style handler: its returned string is the HTML body
    fixed_path: bool = False  # a handler reached only at constant paths (``static_route``)
    routed: bool = False  # runs only once a route matched (``urlparams.after_routing``)
    rereads: bool = False  # some branch holds a ``reread_key``: calls look theirs up
    text: str = ""  # the function's source, read only by pattern predicates (weak hash)
    views: dict[str, str] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)  # names holding a pathlib path
    lines_of: dict[str, list[int]] = field(default_factory=dict)  # name -> set / used lines
    loops: list[list[dict[str, Value]]] = field(default_factory=list)  # break/continue envs
    facts: set[tuple[str, str, str]] = field(
        default_factory=set
    )  # (name, test, quote)  # url -> bar for url = urlparse(bar)
    hits: list[Hit] = field(default_factory=list)
    calls: list[CallRec] = field(default_factory=list)
    returns: list[Value] = field(default_factory=list)
    attrs: dict[str, Value] = field(default_factory=dict)  # self.<attr> stores
    # path expression -> what was saved there (``upload.save(path)``): reading it back
    # gives that content, not the file's own
    written: dict[str, Value] = field(default_factory=dict)
    lambdas: dict[str, ast.Lambda] = field(default_factory=dict)  # name -> lambda it holds
    params: tuple[str, ...] = ()  # the function's parameters (their checks are summarised)
    exits: list[dict[str, Value]] = field(default_factory=list)  # params at each normal exit
    # params at each ``return`` whose value may be true, as that value being true leaves
    # them: what the function proves when a caller tests its result (``checks.holds``)
    truthy: list[dict[str, Value]] = field(default_factory=list)
    cls: str = ""  # a method's class (qualified): ``self.m()`` is that class's ``m``
    me: str = ""  # a method's first parameter (``self`` / ``cls``)
    typed: dict[str, str] = field(default_factory=dict)  # parameter -> its annotated class
    # name -> (what the others held on the paths where it is truthy, what they hold now):
    # a search loop's result (``splits.py``)
    splits: dict[str, tuple[dict[str, Value], dict[str, Value]]] = field(default_factory=dict)
    # response name -> (the statement list it was built in, the XSS hits its constructor
    # made) (``r = HttpResponse(x)``): a non-HTML content type or attachment header set on
    # ``r`` later in that same list (on every path, not in a branch) withdraws them
    responses: dict[str, tuple[int, list[Hit]]] = field(default_factory=dict)
    block: int = 0  # the statement list running now (``id`` of the list)

    def child(self, qual: str) -> Frame:
        """The frame a nested function starts from: it sees this one's names (closure)."""
        out = Frame(qual, dict(self.env), dict(self.aliases), dict(self.defs))
        out.cls, out.me = self.cls, self.me
        return out


REREAD = "("  # env key prefix of a request read the code repeats (``reread_key``)


def reread_key(node: ast.AST) -> str:
    """The env key of ``request.args.get("next")`` (a ``get`` with constant arguments on a
    dotted receiver) or ``request.path``: code tests and uses the same read twice
    (``if is_safe_url(request.args.get("next")): return redirect(request.args.get("next"))``),
    which gives the same value both times. "" for any other expression."""
    if isinstance(node, ast.Attribute) and dotted(node):
        return REREAD + dotted(node)  # ``request.path``
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return ""
    if node.func.attr != "get" or node.keywords or not dotted(node.func.value):
        return ""
    if not all(isinstance(a, ast.Constant) for a in node.args):
        return ""
    return REREAD + ast.unparse(node)


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def qualify(node: ast.AST, frame: Frame) -> str:
    """The dotted name ``node`` spells with its first part resolved through imports/defs."""
    name = dotted(node)
    if not name:
        return ""
    head, _, rest = name.partition(".")
    if head in frame.env and f"{head}" not in frame.aliases:
        return ""  # a local variable: its methods are not module functions
    base = frame.aliases.get(head) or frame.defs.get(head)
    if base is None:
        return name
    return f"{base}.{rest}" if rest else base
