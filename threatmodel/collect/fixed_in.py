"""Sinks that are sinks only in a package's old versions (``SinkRow.below``).

``mathjs.eval`` parses math, but before 3.17.0 its parser reached JavaScript's ``Function``
constructor: request input there ran code. A flow into such a row is kept only when the
``package.json`` nearest the call pins the package exactly, at a version before the fix; a
range (``^3.10.1``) may install a fixed release, so it proves nothing and the flow is dropped.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from threatmodel.claims import REGISTRY
from threatmodel.collect.deps import package_json
from threatmodel.models import Flow, Location


def _rows() -> dict[str, tuple[str, str]]:
    """callee -> (its npm package, the version the flaw was fixed in)."""
    return {
        row.callee: (row.callee.split(".", 1)[0], row.below)
        for spec in REGISTRY.values()
        for row in spec.sinks
        if row.below and row.language == "javascript"
    }


ROWS = _rows()


def keep_fixed_in(flows: Iterable[Flow], root: Path, files: Iterable[str]) -> list[Flow]:
    """``flows`` without those into a versioned row the app's manifest does not prove old."""
    manifests = sorted(
        (p for p in files if posixpath.basename(p) == "package.json"), key=len, reverse=True
    )
    pins: dict[str, dict[str, tuple[str, int]]] = {}
    out: list[Flow] = []
    for flow in flows:
        row = ROWS.get(flow.sink)
        if row is None:
            out.append(flow)
            continue
        package, fixed = row
        manifest = next(
            (m for m in manifests if flow.sink_location.path.startswith(posixpath.dirname(m))),
            None,
        )
        if manifest is None:
            continue
        if manifest not in pins:
            pins[manifest] = _pins(root / manifest)
        spec, line = pins[manifest].get(package, ("", 0))
        if _older(spec, fixed):
            # the pin is part of the proof: a step the report and the model's chunk show
            pin = Location(path=manifest, line=line)
            out.append(flow.model_copy(update={"steps": [pin, *flow.steps]}) if line else flow)
    return out


def _pins(path: Path) -> dict[str, tuple[str, int]]:
    """Package -> (its version spec, the manifest's line declaring it)."""
    try:
        deps = list(package_json(path.read_text(errors="replace")))
    except (OSError, ValueError):
        return {}
    return {name: (spec, line or 0) for _, name, spec, line in deps if spec}


def _older(spec: str, fixed: str) -> bool:
    """An exact pin (``3.10.1``, ``=3.10.1``) before ``fixed``; any range is no proof."""
    try:
        return Version(spec.strip().lstrip("=v")) < Version(fixed)
    except InvalidVersion:
        return False
