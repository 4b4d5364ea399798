"""Validation inside a callee: a function that refuses unless its argument passes a check.

``def check(name): if name not in ALLOWED: raise ValueError`` leaves ``name`` checked on
every way out that does not raise; a caller's ``check(n)`` makes ``n`` safe after it, for the
kinds the check proves (an allow-list: every kind; ``'..' not in name``: path traversal).
The callee's summary names them (``checks``: parameter -> kinds, from the guards in force at
each ``return`` and at its end; ``checked_by``: parameter -> the callee it hands it to
first, for a validator that calls another); the caller's variable becomes a ``call`` label
``<callee>#checks:<argument>`` that ``link`` resolves with that summary (an unknown callee
passes its argument through, as any unknown call does). Only guards count: a parameter the
callee reassigns (``name = secure_filename(name)``) is its local value, not the caller's.
"""

from __future__ import annotations

import ast

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, qualify
from threatmodel.dataflow.pycall import shallow
from threatmodel.dataflow.pyclass import own_callee
from threatmodel.dataflow.values import Label, Value

CHECKS = "#checks:"
GUARD = "guard"  # the name conds.sanitize_names gives a guard's sanitizing


def checked_params(f: Frame) -> dict[str, list[str]]:
    """Parameter -> the kinds its guards prove on every normal exit of the function."""
    out: dict[str, list[str]] = {}
    if not f.exits:
        return out
    for name in f.params:
        kinds: frozenset[str] | None = None
        for env in f.exits:
            value = env.get(name)
            labels = [] if value is None else list(value.all_labels())
            own = [x for x in labels if x.kind == "param" and x.origin == name]
            if not own or len(own) != len(labels) or any(v != GUARD for x in own for v in x.via):
                kinds = frozenset()
                break
            here = frozenset.intersection(*(x.safe for x in own))
            kinds = here if kinds is None else kinds & here
        if kinds:
            out[name] = sorted(kinds)
    return out


def forwarded_params(f: Frame) -> dict[str, str]:
    """Parameter -> the ``<callee>#checks:<argument>`` it was handed to on every way out
    (``def validate(x): check(x)``): its checks are that callee's, resolved in link."""
    out: dict[str, str] = {}
    if not f.exits:
        return out
    for name in f.params:
        targets: set[str] = set()
        for env in f.exits:
            value = env.get(name)
            labels = list(value.all_labels()) if value is not None else []
            inner = [x for lab in labels for _, raw in lab.args for x in raw]
            if (
                len(labels) != 1
                or labels[0].kind != "call"
                or CHECKS not in labels[0].origin
                or not inner
                or any(x.kind != "param" or x.origin != name for x in inner)
            ):
                targets = set()
                break
            targets.add(labels[0].origin)
        if len(targets) == 1:
            out[name] = targets.pop()
    return out


class ChecksMixin(EngineBase):
    def checked_by(self, node: ast.expr, f: Frame) -> None:
        """After ``check(n)`` (a statement, or a call whose result is assigned), ``n`` is
        what the callee's checks leave of it: a ``#checks:`` call label for link."""
        call = node.value if isinstance(node, ast.Await) else node
        if not isinstance(call, ast.Call):
            return
        qual = own_callee(call.func, f)  # ``self.check(n)``: the class's method
        if not qual:
            qual = qualify(call.func, f)
            if not qual or not self.may_be_repo(call.func, qual, f):
                return
        named = [(str(i), a) for i, a in enumerate(call.args)]
        named += [(k.arg, k.value) for k in call.keywords if k.arg]
        for key, arg in named:
            if not isinstance(arg, ast.Name) or arg.id not in f.env:
                continue
            old = f.env[arg.id]
            labels = old.all_labels()
            if not labels or old.items is not None:
                continue
            args = ((key, shallow(labels)),)
            label = Label("call", f"{qual}{CHECKS}{key}", call.lineno, args=args)
            f.env[arg.id] = Value(frozenset({label}))
