"""Strings with known ends: ``'help' + p + 'tail'`` or ``f'12345{p}abcd'`` has an unknown
middle but a known prefix and suffix, so a slice or an index that stays inside one end
(``s[:4]``, ``s[-4:]``, ``s[0]``) is a constant and carries no input, while one reaching
into the middle (``s[4:-4]``) carries all of it.
"""

from __future__ import annotations

from typing import Any

from threatmodel.dataflow.values import Value, const

MAX_AFFIX = 4096  # ends longer than this are not kept (values stay small)


def ends(v: Value) -> tuple[str, str] | None:
    """The known (prefix, suffix) of a string value: all of a constant, or its affix."""
    if v.known:
        return (v.const, v.const) if isinstance(v.const, str) else None
    if v.items is not None:
        return None  # a container, not a string
    return v.affix or ("", "")


def concat(parts: list[Value], out: Value) -> Value:
    """``out`` (the concatenation of ``parts``, some unknown) with its known ends."""
    known = [ends(p) for p in parts]
    if any(k is None for k in known):
        return out
    prefix = suffix = ""
    for p, k in zip(parts, known, strict=True):
        assert k is not None
        prefix += k[0]
        if not p.known:
            break
    for p, k in zip(reversed(parts), reversed(known), strict=True):
        assert k is not None
        suffix = k[1] + suffix
        if not p.known:
            break
    if not prefix and not suffix:
        return out
    if len(prefix) > MAX_AFFIX or len(suffix) > MAX_AFFIX:
        return out
    return Value(out.labels, out.const, out.items, out.seq, (prefix, suffix))


def _int(v: Value | None) -> Any:
    if v is None:
        return None
    return v.const if v.known and isinstance(v.const, int) else ...


def sliced(base: Value, lo: Value | None, hi: Value | None, step: Value | None) -> Value | None:
    """``base[lo:hi]`` when it stays inside a known end (``None`` bounds are left out)."""
    if base.affix is None or (_int(step) not in (None, 1)):
        return None
    prefix, suffix = base.affix
    a, b = _int(lo), _int(hi)
    if a is ... or b is ...:
        return None
    a = 0 if a is None else a
    if a >= 0 and b is not None and 0 <= b <= len(prefix):
        return const(prefix[a:b])
    if a < 0 and -a <= len(suffix) and (b is None or a <= b < 0):
        return const(suffix[a:b])
    return None


def indexed(base: Value, key: Any) -> Value | None:
    """``base[k]`` when ``k`` falls inside a known end."""
    if base.affix is None or not isinstance(key, int) or isinstance(key, bool):
        return None
    prefix, suffix = base.affix
    if 0 <= key < len(prefix):
        return const(prefix[key])
    if key < 0 and -key <= len(suffix):
        return const(suffix[key])
    return None
