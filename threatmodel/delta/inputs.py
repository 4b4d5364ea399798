"""Delta of what the app takes in from outside its code: env vars, hardcoded secrets, packages."""

from __future__ import annotations

import re
from collections.abc import Iterable

from threatmodel.delta._util import change as _c
from threatmodel.delta._util import pairs as _pairs
from threatmodel.delta.model import Change
from threatmodel.models import Facts

SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|SERVICE_ROLE|API_KEY|_KEY$)", re.I)


def env_vars(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.env_vars, head.env_vars, lambda v: v.name)
    for v in added:
        exposed_secret = v.client_exposed and bool(SECRET_NAME.search(v.name))
        detail = "client-exposed (shipped to browsers)" if v.client_exposed else "server-side"
        if exposed_secret:
            detail += ": a credential-like name in the client bundle"
        yield _c(
            "env_var",
            "added",
            v.name,
            detail,
            exposed_secret,
            v.locations[0] if v.locations else None,
        )
    for v in removed:
        yield _c(
            "env_var",
            "removed",
            v.name,
            "no longer read",
            False,
            v.locations[0] if v.locations else None,
            "base",
        )
    for old, new in both:
        if old.client_exposed != new.client_exposed:
            yield _c(
                "env_var",
                "changed",
                new.name,
                "now client-exposed" if new.client_exposed else "no longer client-exposed",
                new.client_exposed and bool(SECRET_NAME.search(new.name)),
                new.locations[0] if new.locations else None,
            )


def secrets(base: Facts, head: Facts) -> Iterable[Change]:
    # Identity includes the value's fingerprint (never the value): a rotated key is a new one.
    added, removed, _ = _pairs(
        base.secrets, head.secrets, lambda s: (s.kind, s.name, s.location.path, s.fingerprint)
    )
    for s in added:
        yield _c(
            "secret",
            "added",
            f"{s.kind} {s.name}",
            f"hardcoded (fingerprint {s.fingerprint})",
            True,
            s.location,
        )
    for s in removed:
        yield _c(
            "secret",
            "removed",
            f"{s.kind} {s.name}",
            "removed from the code; it stays in git history, rotate it",
            False,
            s.location,
            "base",
        )


def dependencies(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(
        base.dependencies, head.dependencies, lambda d: (d.ecosystem, d.name, d.location.path)
    )
    for d in added:
        yield _c(
            "dependency",
            "added",
            f"{d.ecosystem} {d.name}",
            d.version or "unpinned",
            False,
            d.location,
        )
    for d in removed:
        yield _c(
            "dependency",
            "removed",
            f"{d.ecosystem} {d.name}",
            d.version or "unpinned",
            False,
            d.location,
            "base",
        )
    for old, new in both:
        if old.version != new.version:
            yield _c(
                "dependency",
                "changed",
                f"{new.ecosystem} {new.name}",
                f"{old.version or 'unpinned'} → {new.version or 'unpinned'}",
                False,
                new.location,
            )
