"""What a DRF permission class of the repository asks, read along its class chain.

DRF runs ``has_permission`` on every request and ``has_object_permission`` on the object a
detail route loads (``get_object``). A class that defines neither inherits them: the most
derived class of the chain that defines each one decides. A class whose ``has_permission``
lets every request through but whose ``has_object_permission`` checks a permission guards
detail routes only (list and create routes load no object).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def verdicts(
    extracts: Mapping[str, Mapping[str, Any]], chain: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    """(has_permission verdict, has_object_permission verdict) of a class chain (file, name),
    most derived first; None where no class of the repository defines the method."""
    request: str | None = None
    on_object: str | None = None
    for file, name in chain:
        dj = extracts.get(file, {}).get("django", {})
        if request is None:
            request = dj.get("perms", {}).get(name)
        if on_object is None:
            on_object = dj.get("obj_perms", {}).get(name)
    return request, on_object
