"""Packing sections into chunks under a token budget (summarize.py decides what and in which order).

A *section* is one route (or table, or setup file) with the text and excerpts it needs.
``Packer`` fills chunks greedily in the order given: small sections share a request (one
fixed prompt overhead for several), a section too big for one chunk has its excerpts cut.
An excerpt appears once per chunk, and once per *pass*: an excerpt an earlier chunk already
holds (a helper many routes call, an ORM model) is named in one line instead of shown again,
so repeated code is paid for once. What the routes of a chunk share (auth, flags, the
framework, a repeated sentence) is said once at its head (``chunk_shared.py``); the cost
of a section is counted with that saving, so a chunk is filled to the budget as sent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from threatmodel.chunk_builder import MAX_EXCERPT_LINES, ChunkBuilder, count_tokens
from threatmodel.chunk_overlap import quoted_lines, without_shown
from threatmodel.chunk_shared import Plan, Sharing
from threatmodel.chunk_versions import Versions
from threatmodel.excerpts import CodeRef

ChunkKind = Literal[
    "component", "application", "output", "configuration", "data", "database", "setup", "cross"
]


@dataclass(frozen=True)
class Focus:
    """Restrict the pass to what changed (``diff``): route ids, table names, file paths."""

    routes: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def empty(self) -> bool:
        return not (self.routes or self.tables or self.files)


@dataclass(frozen=True)
class Chunk:
    """One LLM request's worth of repository data. ``data`` goes inside a data block."""

    id: str
    kind: ChunkKind
    title: str
    data: str
    tokens: int
    routes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    # the data ends with the overview of the whole application (chunk_overview.join_overview)
    overview: bool = False


@dataclass
class Section:
    text: str
    # Shown once per chunk however many sections need them: code excerpts, and tables by name.
    refs: list[CodeRef | str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    risk: int = 0
    sinks: int = 0  # dangerous calls and flows in the route's code
    # The section's own kind when sections of several kinds are packed together (the small
    # setup chunks share requests): a chunk of one kind is that kind, of several "setup".
    kind: ChunkKind | None = None
    # A route whose excerpt ``located`` holds its line: ``brief`` replaces ``text`` in a
    # chunk that shows that excerpt (the route line need not say its handler and place).
    brief: str = ""
    located: CodeRef | None = None


def key(ref: CodeRef | str) -> tuple[str, int, int] | str:
    """An excerpt is shown once whatever it was reached as (handler, callee, flow step)."""
    return ref if isinstance(ref, str) else (ref.path, ref.start, ref.end)


def title(prefix: str, names: list[str]) -> str:
    names = [n for n in names if n]
    shown = ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
    # ("configuration in" with nothing named: only unnamed sections, as the dependencies)
    return " ".join(t for t in (prefix if shown else prefix.removesuffix(" in"), shown) if t)


# A remainder of at most 1/TAIL_SLACK of the budget rides in the last request instead of
# starting one of its own: a request costs ~2k tokens of fixed prompt (system prompt and
# schema), more than the few hundred tokens of data such a tail holds.
TAIL_SLACK = 4
# An excerpt's line numbers (``12|``, a fold marker's ``3-9|``): what two copies of one code
# at other places differ by.
_NUMBER = re.compile(r"^\d+(?:-\d+)?\|", re.M)
TWIN_MIN_LINES = 3  # a shorter copy costs about what naming its twin does


def body(excerpt: str) -> str:
    """An excerpt's code without its head and line numbers: equal for byte-identical code
    (a module copied into two folders, a vendored helper), wherever it sits."""
    return _NUMBER.sub("", excerpt.split("\n", 1)[1] if "\n" in excerpt else "")


class Packer:
    """Packs sections into chunks; remembers across calls which excerpts were sent."""

    def __init__(self, b: ChunkBuilder, budget: int) -> None:
        self.b = b
        self.budget = budget
        self.sent: set[tuple[str, int, int] | str] = set()  # excerpts some chunk already holds
        # Code shown in full in an earlier request, by ``body``: where it was shown.
        self.twins: dict[str, str] = {}
        # Functions shown in full, by name: another version is quoted by what it changes.
        self.versions = Versions()

    def _render(
        self,
        ref: CodeRef | str,
        lines: int = MAX_EXCERPT_LINES,
        here: Mapping[str, str] = {},
        quoted: Mapping[str, set[int]] = {},
    ) -> str:
        """The excerpt, or one line naming it when this pass already shows it: the same
        place in another request, or the same code at another place (``here``: this
        request's copies, by ``body``), which the model reads once (a copy of a module in
        a second folder costs a line, not its code again)."""
        if isinstance(ref, CodeRef) and key(ref) in self.sent:
            # Shown in full in another request of this pass; name it so the model knows it.
            return f"(--- {ref.label}: {ref.path} lines {ref.start}-{ref.end}, in another request)"
        text = self.b.render(ref, lines)
        if isinstance(ref, CodeRef) and text.count("\n") >= TWIN_MIN_LINES:
            code = body(text)
            where = here.get(code) or self.twins.get(code)
            if where is not None and not where.startswith(f"{ref.path} lines {ref.start}-"):
                other = "" if code in here else ", in another request"
                return (
                    f"(--- {ref.label}: {ref.path} lines {ref.start}-{ref.end}: the same code "
                    f"as {where}{other})"
                )
        if isinstance(ref, CodeRef) and (changes := self.versions.changes(text)) is not None:
            return changes
        if isinstance(ref, CodeRef) and quoted.get(ref.path):
            # (``quoted``: the lines this request holds by path: chunk_overlap.py)
            return without_shown(text, quoted[ref.path])
        return text

    def pack(
        self,
        prefix: str,
        kind: ChunkKind,
        sections: list[tuple[str, Section]],
        split_at: int | None = None,
        prefixes: Mapping[ChunkKind, str] | None = None,
        split_names: Collection[str] | None = None,
    ) -> list[Chunk]:
        """Greedy packing of (name, section) pairs, in the order given, under the budget.

        ``split_at``: a section of a new name (another component; with ``split_names``, one
        of those) starts a new chunk when the current one holds at least that many tokens
        and the name's sections do not all fit in what is left (a request is filled, and a
        component that fits whole is not cut in two). ``prefixes``: sections of several
        kinds (``Section.kind``) packed together; a chunk's title names each kind's
        sections after its prefix (``output in a.html; application setup in settings``); a
        chunk holding a route is a ``component`` chunk."""
        budget = self.budget
        chunks: list[Chunk] = []
        parts: list[str] = []
        seen: set[tuple[str, int, int] | str] = set()
        cut: set[tuple[str, int, int] | str] = set()
        copies: dict[str, str] = {}  # code this chunk shows in full, by ``body``: where
        quoted: dict[str, set[int]] = {}  # the lines this chunk's excerpts number, by path
        names: list[str] = []
        routes: list[str] = []
        tables: list[str] = []
        kinds: dict[ChunkKind, list[str]] = {}  # with ``prefixes``: names by kind, in order
        used = 0
        # Route heads (their index in ``parts``) and what they share, said once at the
        # chunk's head (chunk_shared.py).
        heads: list[int] = []
        sharing = Sharing()

        def heading(first: bool = False) -> str:
            if not prefixes or not kinds:
                return title(prefix, names[:1] if first else names)
            if first:
                k, ns = next(iter(kinds.items()))
                return title(prefixes[k], ns[:1])
            return "; ".join(title(prefixes[k], ns) for k, ns in kinds.items())

        def chunk_kind() -> ChunkKind:
            if not kinds:
                return kind
            if "component" in kinds or len(kinds) == 1:
                return "component" if "component" in kinds else next(iter(kinds))
            return "setup"

        def flush() -> None:
            nonlocal parts, seen, names, routes, tables, used, heads, sharing
            if sharing.saving > 0:
                for i in heads:
                    parts[i] = sharing.plan.apply(parts[i])
                parts.insert(0, sharing.plan.head())
            if parts:
                data = "\n\n".join(parts)
                n = len(chunks) + 1
                chunks.append(
                    Chunk(
                        f"{heading(first=True)}#{n}",
                        chunk_kind(),
                        heading() + f" (part {n})",
                        data,
                        count_tokens(data),
                        tuple(routes),
                        tuple(sorted(set(tables))),
                    )
                )
                self.sent.update(seen - cut)
                self.twins.update((c, w) for c, w in copies.items() if c not in self.twins)
            self.versions.flush()
            parts, seen, names, routes, tables, used = [], set(), [], [], [], 0
            heads, sharing = [], Sharing()
            cut.clear()
            copies.clear()
            quoted.clear()
            kinds.clear()

        def texts_of(sec: Section, lines: int = MAX_EXCERPT_LINES) -> list[str]:
            text = sec.text
            if sec.located is not None and key(sec.located) not in seen | self.sent:
                text = sec.brief
            head = [text] if text else []
            refs = [ref for ref in sec.refs if key(ref) not in seen]
            return head + [self._render(ref, lines, copies, quoted) for ref in refs]

        def joined(sec: Section, texts: list[str]) -> tuple[int, Plan, int]:
            """The section's cost and, for a route, the chunk's plan and saving with it."""
            cost = sum(count_tokens(t) + 2 for t in texts)
            if not (sec.routes and sec.text):
                return cost, sharing.plan, sharing.saving
            p, saves = sharing.with_head(texts[0])
            return cost - (saves - sharing.saving), p, saves

        def fits_whole(i: int, first: int) -> bool:
            """Whether the sections of ``sections[i]``'s name fit in what is left."""
            total = first
            for other, sec in sections[i + 1 :]:
                if other != sections[i][0] or used + total > budget:
                    break
                total += sum(count_tokens(t) + 2 for t in texts_of(sec))
            return used + total <= budget

        def rest_fits(i: int) -> bool:
            """Whether ``sections[i:]`` all fit in what is left plus ``TAIL_SLACK``."""
            total = sum(count_tokens(t) + 2 for _, sec in sections[i:] for t in texts_of(sec))
            return used + total <= budget + budget // TAIL_SLACK

        for i, (name, sec) in enumerate(sections):
            texts = texts_of(sec)
            cost, shared, saves = joined(sec, texts)
            new_name = bool(names) and name not in names
            full = (
                split_at is not None
                and new_name
                and used >= split_at
                and (split_names is None or name in split_names)
                and not fits_whole(i, cost)
            )
            if used + cost > budget and used > 0 and not full and rest_fits(i):
                budget = self.budget + self.budget // TAIL_SLACK  # the tail rides along
            if (used + cost > budget or full) and used > 0:
                flush()
                texts = texts_of(sec)
                cost, shared, saves = joined(sec, texts)
            lines = MAX_EXCERPT_LINES
            while used + cost > budget and lines > 5 and sec.refs:
                lines //= 2  # too big alone: show less of each excerpt
                texts = texts_of(sec, lines)
                cost, shared, saves = joined(sec, texts)
            if sec.routes and sec.text:
                heads.append(len(parts))
                sharing.add(texts[0], shared, saves)
            parts += texts
            if lines == MAX_EXCERPT_LINES:  # (cut to fit: a later request shows it again)
                fresh = [r for r in sec.refs if key(r) not in seen]
                for ref, text in zip(fresh, texts[len(texts) - len(fresh) :], strict=True):
                    if not isinstance(ref, CodeRef) or not text.startswith("--- "):
                        continue
                    if text.count("\n") >= TWIN_MIN_LINES:
                        copies.setdefault(body(text), f"{ref.path} lines {ref.start}-{ref.end}")
                    self.versions.add(text)
            for text in texts:
                if (got := quoted_lines(text)) is not None:
                    quoted.setdefault(got[0], set()).update(got[1])
            seen.update(key(ref) for ref in sec.refs)
            if lines < MAX_EXCERPT_LINES:  # cut to fit: a later request shows it again
                cut.update(key(ref) for ref in sec.refs)
            if name not in names:
                names.append(name)
            if sec.kind is not None and name not in kinds.setdefault(sec.kind, []):
                kinds[sec.kind].append(name)
            routes += sec.routes
            tables += sec.tables
            used += cost
        flush()
        return chunks
