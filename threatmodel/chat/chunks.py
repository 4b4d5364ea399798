"""The scan's chunks, for ``ask``: an open question is answered from the same context.

``summarize`` builds what the LLM pass sees (a route's handler with the repository functions
it calls and its guards, the application setup, unescaped output, configuration with values
withheld). ``ask`` picks the chunks a question is about (the routes, table and name it
names, then its words) and sends them whole, within the budget, before any ad-hoc excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import walk
from threatmodel.models import Facts
from threatmodel.summarize import Chunk, count_tokens, summarize

_QUOTED = re.compile(r"^--- .*?: (\S+) lines (\d+)-(\d+)$", re.M)


class ChunkIndex:
    """The chunks of one repository, built once per budget on first use."""

    def __init__(self, facts: Facts, reader: RepoReader) -> None:
        self.facts = facts
        self.reader = reader
        self._chunks: dict[int, list[Chunk]] = {}

    def chunks(self, budget: int) -> list[Chunk]:
        if budget not in self._chunks:
            files = walk(self.reader.root).files
            self._chunks[budget] = summarize(self.facts, self.reader, budget, files=files)
        return self._chunks[budget]

    def best(
        self, words: Iterable[str], boost: Iterable[str], route_ids: Iterable[str], budget: int
    ) -> list[Chunk]:
        """Chunks that score for the question, best first, their data within ``budget``."""
        words, boost, ids = set(words), {b.lower() for b in boost}, set(route_ids)
        scored = []
        for i, c in enumerate(self.chunks(max(1_000, budget))):
            low = c.data.lower()
            s = 10 * len(ids & set(c.routes)) + 5 * sum(b in low for b in boost)
            s += sum(w in low for w in words)
            if s:
                scored.append((-s, i, c))
        out, used = [], 0
        for _, _, c in sorted(scored, key=lambda x: (x[0], x[1])):
            cost = count_tokens(c.data) + 8
            if used + cost <= budget:
                out.append(c)
                used += cost
        return out


def quoted_spans(chunks: Iterable[Chunk]) -> list[tuple[str, int, int]]:
    """(path, start, end) of every code excerpt in ``chunks``."""
    return [
        (m.group(1), int(m.group(2)), int(m.group(3)))
        for c in chunks
        for m in _QUOTED.finditer(c.data)
    ]
