"""Where a call's arguments land in a function's parameters, from its summary's ``params``
(``*args`` / ``**kw`` marked as the engine writes them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sig:
    """Where a call's argument lands: a positional one in its parameter or ``*args``, a
    keyword one in its parameter or ``**kw``."""

    positional: tuple[str, ...]
    named: frozenset[str]
    var: str
    kw: str

    def bind(self, key: str) -> str:
        if key.isdigit():
            i = int(key)
            return self.positional[i] if i < len(self.positional) else self.var or key
        return key if key in self.named or not self.kw else self.kw


def signature(params: list[str]) -> Sig:
    positional: list[str] = []
    named: set[str] = set()
    var = kw = ""
    star = False
    for p in params:
        if p.startswith("**"):
            kw = p[2:]
        elif p.startswith("*"):
            star, var = True, p[1:]
        else:
            named.add(p)
            if not star:
                positional.append(p)
    return Sig(tuple(positional), frozenset(named), var, kw)
