"""Does a text say a word of a vocabulary (auth words, role words)? Matched on identifier
words, never inside one.

``ENABLE_OAUTH_LOGIN``, ``oauth_allowed_domains`` and ``getOAuthConfig`` are about OAuth, not
about the caller's login: a substring test found "auth" in all three and read a feature
switch or a domain allow-list as an auth check. Here a text is cut into words at
separators (``_``, ``-``, ``.``, spaces, punctuation) and where a lower-case letter or digit
meets a capital (``isAuthenticated`` -> ``is authenticated``); an acronym glued to a word
(``OAuth``, ``JWTToken``) stays one word, unlike ``names.words``, whose secret-name
heuristics want ``APIKey`` split. A vocabulary entry matches at the start of a word and may
run on (``auth`` says ``authorization``, ``user`` says ``username``); an entry of several
words (``api_key``, ``is_staff``) must find them in that order (``apiKey``, ``is_staff``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEP = re.compile(r"[^a-z0-9]+")


def word_text(text: str) -> str:
    """`` get current user``: the words of ``text``, lower case, each after one space."""
    return " " + _SEP.sub(" ", _CAMEL.sub(" ", text).lower()).strip()


@lru_cache(maxsize=65536)
def _one(name: str) -> str:
    return word_text(name) if name else ""


def words_text(names: list[str]) -> str:
    """``word_text`` of names joined by spaces, each name's words cut once (names repeat:
    ``request``, ``user``, ``self`` in every function)."""
    return "".join(map(_one, names))


@lru_cache(maxsize=256)
def _keys(vocab: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word_text(w) for w in vocab)


def says(words: str, vocab: tuple[str, ...]) -> bool:
    """Does ``words`` (a ``word_text``) say an entry of ``vocab`` (at a word's start)?"""
    return any(k in words for k in _keys(vocab))
