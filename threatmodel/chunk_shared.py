"""Facts several routes of one request share, said once at the request's head (issue 19).

A request holds 10-60 routes; many say the same fact (``auth: public``, ``flags: not rate
limited``, the framework, the engine's ``code not quoted: ...`` sentence). ``plan`` reads
the heads of a request's routes (``summary_text.route_text``) and says each such fact once:

- *every*: a line every route has (auth, flags, middleware, the framework);
- *default*: the commonest auth or framework when routes differ (every route has one):
  a route with another keeps its own line;
- *named*: a line without a place (no digit) whose key always has the same value (the
  engine's sentence): said once with its meaning, a route keeps only its key.

Flow lines and dangerous calls are never shared: their ``line N`` is relative to the
route's own file, so the same words in two files are two facts. The packer
(``chunk_pack.Packer``) counts a request's tokens with the plan applied.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from threatmodel.chunk_builder import count_tokens

SHARED_HEAD = "every route below:"
DEFAULT_HEAD = "every route below unless its own line says otherwise:"
NAMED_HEAD = "said once here (a route below gives only the part before the colon):"
_HOISTED = ("  auth: ", "  flags: ", "  middleware: ")
_ALWAYS = ("  auth: ", "  framework: ")  # every route's head says them: a default is safe
# the head line's last parenthesis: the framework (summary_text.route_text)
FRAMEWORK = re.compile(r" \(([\w.-]+)\)$")
_FW = "  framework: "


def shared_lines(head: str) -> list[str]:
    """The lines of a route's head a request may say once for all its routes."""
    lines = head.split("\n")
    out = [ln for ln in lines[1:] if ln.startswith(_HOISTED)]
    if m := FRAMEWORK.search(lines[0]):
        out.append(f"{_FW}{m.group(1)}")
    return out


def _nameable(line: str) -> bool:
    """A ``  key: value`` line with no place in it (nothing relative to a route's file)."""
    return (
        line.startswith("  ")
        and not line.startswith("   ")
        and ": " in line
        and not line.startswith(("  flow ", *_HOISTED))
        and not any(ch.isdigit() for ch in line)
    )


@dataclass(frozen=True)
class Plan:
    """What a request says once (see the module docstring), in first-seen order."""

    every: tuple[str, ...] = ()
    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()

    def head(self) -> str:
        out: list[str] = []
        for title, lines in (
            (SHARED_HEAD, self.every),
            (DEFAULT_HEAD, self.default),
            (NAMED_HEAD, self.named),
        ):
            out += [title, *lines] if lines else []
        return "\n".join(out)

    def apply(self, head: str) -> str:
        """A route's head with what the request says once left out."""
        first, *rest = head.split("\n")
        dropped = set(self.every) | set(self.default)
        if (m := FRAMEWORK.search(first)) and f"{_FW}{m.group(1)}" in dropped:
            first = first[: m.start()]
        named = set(self.named)
        kept = [ln.split(": ", 1)[0] if ln in named else ln for ln in rest if ln not in dropped]
        return "\n".join([first, *kept])


def plan(heads: list[str]) -> Plan:
    """What the routes of a request (their heads, in order) can say once."""
    if len(heads) < 2:
        return Plan()
    facts = [shared_lines(h) for h in heads]
    seen = list(dict.fromkeys(ln for f in facts for ln in f))
    counts = Counter(ln for f in facts for ln in set(f))
    every = [ln for ln in seen if counts[ln] == len(heads)]
    default = []
    for prefix in _ALWAYS:
        if any(ln.startswith(prefix) for ln in every):
            continue
        ranked = sorted(
            (ln for ln in seen if ln.startswith(prefix)),
            key=lambda ln: (-counts[ln], seen.index(ln)),
        )
        if ranked and counts[ranked[0]] >= 2:
            default.append(ranked[0])
    lines = [ln for h in heads for ln in h.split("\n")[1:] if _nameable(ln)]
    values: dict[str, set[str]] = {}
    for h in heads:  # every line of a key, nameable or not: one value only
        for ln in h.split("\n")[1:]:
            if ": " in ln and ln.startswith("  ") and not ln.startswith("   "):
                values.setdefault(ln.split(": ", 1)[0], set()).add(ln)
    times = Counter(lines)
    named = [
        ln
        for ln in dict.fromkeys(lines)
        if times[ln] >= 2 and len(values[ln.split(": ", 1)[0]]) == 1
    ]
    return Plan(tuple(every), tuple(default), tuple(named))


class Sharing:
    """The heads of one request's routes and the tokens their plan saves, kept as routes
    are added (the packer asks what one more route would save before adding it)."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.plan = Plan()
        self.saving = 0
        self._cuts: dict[tuple[str, Plan], int] = {}

    def _saves(self, heads: list[str], p: Plan) -> int:
        if p == Plan():
            return 0
        cut = 0
        for h in heads:  # a head's cut is asked again for each later route: kept
            if (h, p) not in self._cuts:
                self._cuts[h, p] = count_tokens(h) - count_tokens(p.apply(h))
            cut += self._cuts[h, p]
        return cut - count_tokens(p.head()) - 2

    def with_head(self, head: str) -> tuple[Plan, int]:
        """The plan and saving with ``head`` added (a plan that saves nothing is none)."""
        heads = [*self.heads, head]
        p = plan(heads)
        saves = self._saves(heads, p)
        return (p, saves) if saves > 0 else (Plan(), 0)

    def add(self, head: str, p: Plan, saves: int) -> None:
        self.heads.append(head)
        self.plan, self.saving = p, saves
