"""The distinct runs of ASCII letters in a text: a one-pass prefilter for many needles.

A detector that looks for any of thirty words in a file used to scan the file thirty times
(``str.find`` per word), and found none of them in most files. The letter runs of the
lower-cased text are computed in one pass in C (``bytes.translate``, ``split``) and
deduplicated; joined, they are a few times shorter than the file, so asking each word of
them is cheap, and only the words they hold need a scan of the file itself.

Why it is sound: a needle made only of the letters a-z that occurs in the text lies inside
one maximal run of those letters, so it occurs in that run, which is in ``runs``. Non-ASCII
characters (any byte of their UTF-8 form is 0x80 or above) and everything else separate
runs, so a needle holding any other character cannot be asked (``is_letters``).
"""

from __future__ import annotations

import re
import string

# Every byte but a-z becomes a blank.
_TABLE = bytes(c if chr(c) in string.ascii_lowercase else 0x20 for c in range(256))


class LetterRuns:
    """The maximal runs of a-z in ``low`` (a lower-cased text), each once."""

    __slots__ = ("joined", "runs")

    def __init__(self, low: str) -> None:
        # surrogatepass: a file decoded with surrogateescape may hold lone surrogates.
        raw = low.encode("utf-8", "surrogatepass").translate(_TABLE)
        self.runs = frozenset(raw.decode("ascii").split())
        self.joined = " " + " ".join(self.runs) + " "  # a blank on both sides of every run

    def may_hold(self, needle: str) -> bool:
        """False only when ``needle`` occurs nowhere in the text. ``needle`` must be a run of
        a-z (``is_letters``) or a ``probe``, checked where the needles are defined, not on
        this hot path."""
        return needle in self.joined


def probe(needle: str) -> str | None:
    """What ``LetterRuns.may_hold`` can ask for a needle of any characters (``"sk-"``), or
    None when it has no letter a-z: its longest run of a-z, lower-cased, with a blank on the
    side where a non-letter follows or precedes it in the needle, since a run of the text
    ends there too (``"sk "``: some run of the text ends in "sk"; ``"_live_"``: " live ")."""
    low = needle.lower()
    best: str | None = None
    for m in re.finditer("[a-z]+", low):
        left = " " if m.start() > 0 else ""
        right = " " if m.end() < len(low) else ""
        asked = left + m.group() + right
        if best is None or len(asked) > len(best):
            best = asked
    return best


def is_letters(needle: str) -> bool:
    """Can ``needle`` be asked of LetterRuns (only the letters a-z, at least one)?"""
    return needle.isascii() and needle.isalpha() and needle.islower()


def letters_only(needles: tuple[str, ...]) -> tuple[str, ...]:
    """``needles``, each checked by ``is_letters``: for constants asked of LetterRuns."""
    for needle in needles:
        if not is_letters(needle):
            raise ValueError(f"not a run of a-z: {needle!r}")
    return needles
