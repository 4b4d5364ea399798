"""Another version of a function already shown: quoted by the lines that differ.

An app that holds two versions of one module (a vulnerable and a fixed copy, a ``v1/``
and a ``v2/`` API, a vendored file edited in place) has functions of one name whose code
differs in a line or two. A byte-identical copy is one line naming the first
(``chunk_pack.Packer.twins``); a function of the same name whose shown lines are mostly
those of one shown earlier in the pass is quoted by its head naming that excerpt and only
its own lines that differ (changed or added, each with its own number), plus one line per
run of the earlier one's lines it does not have. The model reads the shared code once and
what the second version changes, where a whole second copy would bury the difference.

A function with no name in its head (a route table's entry, an inline callback) and a
short one are quoted whole: two of them match on shape, not on being one function.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from threatmodel.chunk_builder import count_tokens

NAME_LINES = 6  # the head (decorators, signature) lies in the first lines of an excerpt
MIN_SAME = 4  # fewer shared lines: naming the other excerpt saves nothing
# A version differs in at most one line of three: more, and reading the diff costs the
# model more than the code.
MAX_CHANGED_SHARE = 3
# `def name(`, `function name(`, `class Name`, `exports.name = function`, `name = (a) =>`
_NAMED = re.compile(
    r"\b(?:def|function|class)\s+([\w$]+)"
    r"|([\w$.]+)\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>)"
)
_HEAD = re.compile(r"^--- (.*?): (\S+ lines \d+-\d+)$")
_EXCEPT = ", except these lines)"  # ends the label of a version quoted by its changes
_NUMBER = re.compile(r"^(\d+)(?:-\d+)?\|")


def _code(line: str) -> str:
    """A numbered line's code (a fold marker's words), without its number."""
    m = _NUMBER.match(line)
    return line[m.end() :] if m else line


def function_name(lines: list[str]) -> str | None:
    """The name a function excerpt's head gives it (its ``n|code`` lines), else None."""
    for line in lines[:NAME_LINES]:
        m = _NAMED.search(_code(line))
        if m:
            return m.group(1) or m.group(2)
    return None


@dataclass
class _Shown:
    where: str  # "path lines a-b"
    lines: list[str]  # its numbered lines, head cut


@dataclass
class Versions:
    """Functions shown in full in this pass, by name: those of earlier requests (``sent``)
    and of the request being packed (``here``)."""

    sent: dict[str, list[_Shown]] = field(default_factory=dict)
    here: dict[str, list[_Shown]] = field(default_factory=dict)

    def add(self, text: str) -> None:
        """Remember an excerpt the request being packed shows in full."""
        head, *lines = text.split("\n")
        m = _HEAD.match(head)
        name = function_name(lines)
        # (an excerpt with another's lines replaced by markers is no full version, nor is
        # a version quoted by its changes)
        full = m is not None and not m.group(1).endswith(_EXCEPT)
        if m and name and full and all(_NUMBER.match(t) for t in lines):
            self.here.setdefault(name, []).append(_Shown(m.group(2), lines))

    def flush(self) -> None:
        """The request is complete: its excerpts are in another request from now on."""
        for name, shown in self.here.items():
            self.sent.setdefault(name, []).extend(shown)
        self.here = {}

    def changes(self, text: str) -> str | None:
        """``text`` (a rendered excerpt) as the lines it changes in another version of its
        function shown in this pass, when that is shorter; else None."""
        head, *lines = text.split("\n")
        m = _HEAD.match(head)
        name = function_name(lines)
        if m is None or name is None or not all(_NUMBER.match(t) for t in lines):
            return None
        label, place = m.groups()
        mine = [_code(t) for t in lines]
        best: tuple[int, _Shown, bool, Sequence[tuple[str, int, int, int, int]]] | None = None
        for near, shown in ((True, self.here.get(name, [])), (False, self.sent.get(name, []))):
            for other in shown:
                if other.where == place:
                    continue
                ops = SequenceMatcher(
                    None, [_code(t) for t in other.lines], mine, autojunk=False
                ).get_opcodes()
                same = sum(j2 - j1 for op, _i1, _i2, j1, j2 in ops if op == "equal")
                if best is None or same > best[0]:
                    best = (same, other, near, ops)
        if best is None:
            return None
        same, other, near, diff = best
        out: list[str] = []
        changed = 0
        for op, i1, i2, j1, j2 in diff:
            if op == "equal":
                continue
            out += lines[j1:j2]
            # the other's lines this one has none for (a fix that removes a call): said,
            # as the model could not tell them from the lines kept
            if i2 - i1 > j2 - j1:
                first, last = (_code_number(other.lines[k]) for k in (i1, i2 - 1))
                span = f"line {first}" if first == last else f"lines {first}-{last}"
                out.append(f"(not here: its {span})" if op == "delete" else f"(for its {span})")
            changed += max(i2 - i1, j2 - j1)
        if same < MIN_SAME or changed * MAX_CHANGED_SHARE > same:
            return None
        where = "above" if near else "in another request"
        head = f"--- {label} ({other.where} {where}{_EXCEPT}: {place}"
        short = "\n".join([head, *out])
        return short if count_tokens(short) < count_tokens(text) else None


def _code_number(line: str) -> str:
    m = _NUMBER.match(line)
    return m.group(1) if m else "?"
