"""Building blocks for the text gates of the Python collectors (interface.Collector.gate).

A gate is a necessary condition on a file's text for a collector to find anything, so it
has to hold for every way Python lets a name reach the AST, not only the usual spelling:

- a call's callee ends in an identifier that the call's ``(`` follows, with only blanks,
  comments, backslash-newlines and the ``)`` of a parenthesised callee between
  (``open (x)``, ``(text)(q)``, ``execute  # why\\n(q)``): ``gate(calls=...)``;
- Python folds identifiers to NFKC while parsing, so ``\\uff45val(x)`` (a fullwidth e) *is*
  ``eval(x)`` in the AST. Hostile code can spell any name that way, so a ``PythonGate`` also
  lets through a file holding any character whose NFKC form has an ASCII letter, digit or
  underscore (``LOOKALIKE``). Few real files hold one, so this costs little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Code points (ranges) that may continue a Python identifier and whose NFKC form holds an
# ASCII letter, digit or "_" (CPython 3.11 Unicode tables; tests/test_pygates.py recomputes
# the list from unicodedata and fails when a newer table adds one).
LOOKALIKE_RANGES: tuple[tuple[int, int], ...] = (
    (0xAA, 0xAA), (0xBA, 0xBA), (0x132, 0x133), (0x13F, 0x140), (0x149, 0x149), (0x17F, 0x17F),
    (0x1C4, 0x1CC), (0x1F1, 0x1F3), (0x2B0, 0x2B0), (0x2B2, 0x2B3), (0x2B7, 0x2B8),
    (0x2E1, 0x2E3), (0x1D2C, 0x1D2C), (0x1D2E, 0x1D2E), (0x1D30, 0x1D31), (0x1D33, 0x1D3A),
    (0x1D3C, 0x1D3C), (0x1D3E, 0x1D43), (0x1D47, 0x1D49), (0x1D4D, 0x1D4D), (0x1D4F, 0x1D50),
    (0x1D52, 0x1D52), (0x1D56, 0x1D58), (0x1D5B, 0x1D5B), (0x1D62, 0x1D65), (0x1D9C, 0x1D9C),
    (0x1DA0, 0x1DA0), (0x1DBB, 0x1DBB), (0x1E9A, 0x1E9A), (0x2071, 0x2071), (0x207F, 0x207F),
    (0x2090, 0x2093), (0x2095, 0x209C), (0x2102, 0x2102), (0x210A, 0x210E), (0x2110, 0x2113),
    (0x2115, 0x2115), (0x2119, 0x211D), (0x2124, 0x2124), (0x2128, 0x2128), (0x212A, 0x212A),
    (0x212C, 0x212D), (0x212F, 0x2131), (0x2133, 0x2134), (0x2139, 0x2139), (0x2145, 0x2149),
    (0x2160, 0x217F), (0x2C7C, 0x2C7D), (0xA7F2, 0xA7F4), (0xFB00, 0xFB06), (0xFE33, 0xFE34),
    (0xFE4D, 0xFE4F), (0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF3F, 0xFF3F), (0xFF41, 0xFF5A),
    (0x107A5, 0x107A5), (0x1D400, 0x1D454), (0x1D456, 0x1D49C), (0x1D49E, 0x1D49F),
    (0x1D4A2, 0x1D4A2), (0x1D4A5, 0x1D4A6), (0x1D4A9, 0x1D4AC), (0x1D4AE, 0x1D4B9),
    (0x1D4BB, 0x1D4BB), (0x1D4BD, 0x1D4C3), (0x1D4C5, 0x1D505), (0x1D507, 0x1D50A),
    (0x1D50D, 0x1D514), (0x1D516, 0x1D51C), (0x1D51E, 0x1D539), (0x1D53B, 0x1D53E),
    (0x1D540, 0x1D544), (0x1D546, 0x1D546), (0x1D54A, 0x1D550), (0x1D552, 0x1D6A3),
    (0x1D7CE, 0x1D7FF), (0x1FBF0, 0x1FBF9),
)  # fmt: skip

LOOKALIKE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in LOOKALIKE_RANGES) + "]")

# What may stand between a callee's last identifier and its "(": blanks, backslash-newlines,
# comments (inside brackets a call may span lines) and the ")" of a parenthesised callee.
# Possessive (*+): the longest gap is the only one worth trying (a "(" inside a comment is
# no call), and without it a run of "#)" lines made the search backtrack exponentially.
_CALL_GAP = r"(?:[\s)\\]|#[^\n]*)*+\("
_CALL, _WORD, _PLAIN = "\x00", "\x01", "\x02"  # end markers in the trie, see gate()
_MAX_NEEDLES = 8  # see PythonGate.needles


@dataclass(frozen=True)
class PythonGate:
    """A Collector.gate for Python source: the pattern, or an NFKC look-alike (see above).

    The look-alike test is not part of the pattern because any alternative that does not
    start with a literal stops ``re`` from skipping ahead, which made the search four times
    slower; ``str.isascii`` is O(1) on CPython, so an ASCII file (nearly all) pays nothing.
    """

    pattern: re.Pattern[str]
    # The literal each alternative starts with, when there are few: every match holds one,
    # so a text holding none cannot match. ``str.__contains__`` scans for one literal at
    # memory speed, where the pattern tries every position that starts some alternative
    # ("p" for "password", "g" for "get_unverified_claims"): ten times faster for a gate of
    # two to eight literals; with more, the scans add up and only the pattern is run.
    needles: tuple[str, ...] = ()

    def search(self, text: str) -> object | None:
        if self.needles and not any(needle in text for needle in self.needles):
            found = None
        else:
            found = self.pattern.search(text)
        if found is None and not text.isascii() and _has_lookalike(text):
            return LOOKALIKE.search(text)
        return found


_last_text: list[tuple[str, bool]] = []  # the last text asked and its answer (one entry)


def _has_lookalike(text: str) -> bool:
    """Does ``text`` hold a LOOKALIKE character? Asked of its distinct non-ASCII characters:
    searching the whole text with LOOKALIKE's hundred ranges took 0.25 s per gate on
    saleor's 107 non-ASCII Python files, the distinct characters 0.04 s. Every gate of a
    file asks about the same text, so the last answer is kept."""
    if _last_text and _last_text[0][0] is text:
        return _last_text[0][1]
    held = any(LOOKALIKE.match(c) for c in set(text) if c > "\x7f")
    _last_text[:] = [(text, held)]
    return held


def gate(
    calls: Iterable[str] = (),
    words: Iterable[str] = (),
    substrings: Iterable[str] = (),
    patterns: Iterable[str] = (),
) -> PythonGate:
    """One pattern: a call whose callee's last identifier is one of ``calls``, an identifier
    that ends in one of ``words`` (``requests``, also ``my_requests``), a substring, or one
    of ``patterns`` (regular expressions, each starting with a literal character).

    The alternatives are folded into one prefix tree whose branches all start with a literal:
    ``re`` then skips, in C, every position whose character starts no branch, which makes
    the search several times faster than a plain alternation (or one with ``\\b`` first).
    """
    keys = [*(n + _CALL for n in calls), *(n + _WORD for n in words), *substrings]
    tail = {_CALL: _CALL_GAP, _WORD: r"\b", _PLAIN: ""}
    keys = sorted(k if k[-1] in tail else k + _PLAIN for k in keys)
    patterns = list(patterns)
    needles = tuple(k[:-1] for k in keys) if len(keys) <= _MAX_NEEDLES and not patterns else ()
    return PythonGate(re.compile("|".join([_trie(keys, tail), *patterns])), needles)


def _trie(keys: list[str], tail: dict[str, str]) -> str:
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key[0], []).append(key[1:])
    alts = [
        tail[c] if c in tail else re.escape(c) + _trie(rest, tail)
        for c, rest in sorted(groups.items())
    ]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
