"""One walk of a function, sorted into the node lists the guard questions read.

``guards.summarize`` asks about a dozen questions of every function of a file (is it a
guard, does it issue credentials, which words does it say, which secrets, who owns the rows
it reads); each question reads only a few node classes. ``Walked`` walks the function once
and hands each question its own short list, and answers the questions several others share
(top-level statements, the ownership line) once.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from threatmodel.code.pyast import FuncDef
from threatmodel.code.pyast import walk as walk_nodes
from threatmodel.code.vocab import says
from threatmodel.frameworks._python.calls import top_level
from threatmodel.frameworks._python.owner import lookup_call, ownership_line
from threatmodel.frameworks._python.reject import words_of

# Which of Walked's lists a node class goes to. Parsed trees hold exactly these classes
# (never subclasses), so ``n.__class__`` selects the same nodes as the ``isinstance`` tests
# of the passes that read each list.
_BRANCHES, _STMTS, _ASSIGNS, _ISSUERS_AT, _WORDS, _SECRETS = range(6)
_GROUPS: dict[type, tuple[int, ...]] = {
    ast.If: (_BRANCHES,),
    ast.While: (_BRANCHES,),
    ast.Try: (_BRANCHES,),
    ast.Raise: (_STMTS,),
    ast.Return: (_STMTS,),
    ast.Expr: (_STMTS,),
    ast.Assign: (_ASSIGNS, _ISSUERS_AT, _SECRETS),
    ast.Call: (_ISSUERS_AT, _SECRETS),
    ast.Name: (_WORDS,),
    ast.Attribute: (_WORDS,),
    ast.Constant: (_WORDS,),
    ast.arg: (_WORDS,),
    ast.AnnAssign: (_SECRETS,),
    ast.Dict: (_SECRETS,),
    ast.FunctionDef: (_SECRETS,),
    ast.AsyncFunctionDef: (_SECRETS,),
    ast.Lambda: (_SECRETS,),
    ast.Compare: (_SECRETS,),
}


class Walked:
    """``walk(fn)`` sorted in one pass into the nodes each analysis reads, in walk order.

    Summarising a function used to loop over all its nodes once per question (assignments,
    guard, credentials, words, secrets); each question only looks at a few node classes, so
    one pass hands each its own (short) list and the answers are the same.
    """

    __slots__ = (
        "_lookups",
        "_owner",
        "_said",
        "_top",
        "assigns",
        "body",
        "branches",
        "issuers",
        "nodes",
        "secrets",
        "stmts",
        "words",
    )

    def __init__(self, fn: FuncDef, nodes: list[ast.AST] | None = None) -> None:
        self.nodes = walk_nodes(fn) if nodes is None else nodes
        self.body = fn.body
        lists: list[list[ast.AST]] = [[], [], [], [], [], []]
        groups = _GROUPS
        for n in self.nodes:
            g = groups.get(n.__class__)
            if g is not None:
                for i in g:
                    lists[i].append(n)
        self.branches, self.stmts, assigns, self.issuers, self.words, self.secrets = lists
        self.assigns = _assigns(assigns)
        self._lookups: bool | None = None
        self._said: str | None = None
        self._top: list[ast.stmt] | None = None
        self._owner: int | None = None

    def mentions(self, words: tuple[str, ...]) -> bool:
        """``mentions_in(self.words, words)``, the words' text joined once per function."""
        if self._said is None:
            self._said = words_of(self.words)
        return says(self._said, words)

    def lookups(self) -> bool:
        """Is any call of the function an ownership lookup (``owner.lookup_call``)? Asked
        once: the ownership tests of every top-level statement skip their walks when not
        (they were a quarter of saleor's pyweb extract)."""
        if self._lookups is None:
            self._lookups = any(isinstance(n, ast.Call) and lookup_call(n) for n in self.issuers)
        return self._lookups

    def top(self) -> list[ast.stmt]:
        """``top_level(fn.body)``, listed once (five questions read it); not to be changed."""
        if self._top is None:
            self._top = top_level(self.body)
        return self._top

    def owner(self) -> int:
        """``ownership_line`` over ``top()``: asked by the guard test, the inline test (when
        no check let more statements through) and the gate kind, answered once."""
        if self._owner is None:
            self._owner = ownership_line(self.top(), self.assigns, self.body, self.lookups())
        return self._owner


def _assigns(nodes: Iterable[ast.AST]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for n in nodes:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            out[n.targets[0].id] = n.value
    return out
