"""The architecture delta between two sets of Facts, and findings new, resolved or unchanged.

Each area has its identity (a route is its method and path, a policy its table and name, a
secret its kind, name, file and value fingerprint), never a line number: code that merely
moved is not a change. Each change says whether it raises risk.
"""

from __future__ import annotations

from collections.abc import Iterable

from threatmodel.delta import data, inputs, surface
from threatmodel.delta._util import index as _index
from threatmodel.delta.model import AREA_ORDER, Change
from threatmodel.models import Facts, Finding


def compute_delta(base: Facts, head: Facts) -> list[Change]:
    """Every architectural change from base to head, risky ones first, then by area and name."""
    changes = [
        *surface.routes(base, head),
        *surface.middleware(base, head),
        *data.tables(base, head),
        *data.buckets(base, head),
        *inputs.env_vars(base, head),
        *inputs.secrets(base, head),
        *inputs.dependencies(base, head),
        *surface.settings(base, head),
        *surface.sinks(base, head),
        *data.functions(base, head),
    ]
    return sorted(
        changes,
        key=lambda c: (not c.risk, AREA_ORDER.index(c.area), c.subject, c.action, c.detail),
    )


def classify_findings(
    base: Iterable[Finding], head: Iterable[Finding]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(new, resolved, unchanged) by fingerprint, which ignores line numbers."""
    b = _index(base, lambda f: f.fingerprint)
    h = _index(head, lambda f: f.fingerprint)
    order = lambda f: (-f.severity.rank, f.title, f.fingerprint)  # noqa: E731
    new = sorted((f for k, f in h.items() if k not in b), key=order)
    resolved = sorted((f for k, f in b.items() if k not in h), key=order)
    unchanged = sorted((f for k, f in h.items() if k in b), key=order)
    return new, resolved, unchanged
