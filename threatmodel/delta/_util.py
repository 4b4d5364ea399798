"""Shared helpers of the delta comparisons: identity pairing and the Change constructor."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from threatmodel.delta.model import Change
from threatmodel.models import Location

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def change(
    area: str,
    action: str,
    subject: str,
    detail: str,
    risk: bool,
    location: Location | None,
    at: str = "head",
) -> Change:
    return Change.model_validate(
        {
            "area": area,
            "action": action,
            "subject": subject,
            "detail": detail,
            "risk": risk,
            "location": location,
            "at": at,
        }
    )


def index(items: Iterable[T], key: Callable[[T], K]) -> dict[K, T]:
    """Items by identity; the first wins so duplicates cannot make a change flicker."""
    out: dict[K, T] = {}
    for item in items:
        out.setdefault(key(item), item)
    return out


def pairs(
    base: Iterable[T], head: Iterable[T], key: Callable[[T], K]
) -> tuple[list[T], list[T], list[tuple[T, T]]]:
    """(added, removed, present in both) by identity."""
    b, h = index(base, key), index(head, key)
    added = [h[k] for k in h if k not in b]
    removed = [b[k] for k in b if k not in h]
    both = [(b[k], h[k]) for k in h if k in b]
    return added, removed, both
