"""Delta of the data layer: tables, RLS, grants and policies, storage buckets, DB functions."""

from __future__ import annotations

from collections.abc import Iterable

from threatmodel.delta._util import change as _c
from threatmodel.delta._util import pairs as _pairs
from threatmodel.delta.model import Change
from threatmodel.models import Facts, Policy, Table

OPEN_ROLES = frozenset({"anon", "public"})
# Names that hold credentials; a token-format match over names, not a parse of code.


def _rls_text(t: Table) -> str:
    return {True: "RLS on", False: "RLS off", None: "no RLS semantics"}[t.rls_enabled]


def _policy_text(p: Policy) -> str:
    roles = ", ".join(p.roles) or "public"
    parts = [f"{p.command} to {roles}"]
    if p.using is not None:
        parts.append(f"using ({p.using})")
    if p.check is not None:
        parts.append(f"with check ({p.check})")
    return " ".join(parts)


def tables(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.tables, head.tables, lambda t: t.name)
    for t in added:
        yield _c(
            "table",
            "added",
            t.name,
            f"{t.source}, {_rls_text(t)}",
            t.rls_enabled is False,
            t.location,
        )
        yield from _policies(Table(name=t.name, source=t.source, location=t.location), t)
    for t in removed:
        yield _c("table", "removed", t.name, "dropped", False, t.location, "base")
    for old, new in both:
        notes, risk = [], False
        if old.rls_enabled != new.rls_enabled:
            notes.append(f"{_rls_text(old)} → {_rls_text(new)}")
            risk |= old.rls_enabled is True and new.rls_enabled is not True
        old_cols, new_cols = {c.name: c for c in old.columns}, {c.name: c for c in new.columns}
        plus = sorted(set(new_cols) - set(old_cols))
        minus = sorted(set(old_cols) - set(new_cols))
        if plus:
            marked = [f"{n} (sensitive)" if new_cols[n].sensitive else n for n in plus]
            notes.append("columns added: " + ", ".join(marked))
        if minus:
            notes.append("columns dropped: " + ", ".join(minus))
        old_g = {(g.role, p) for g in old.grants for p in g.privileges}
        new_g = {(g.role, p) for g in new.grants for p in g.privileges}
        if new_g - old_g:
            notes.append("granted " + ", ".join(f"{p} to {r}" for r, p in sorted(new_g - old_g)))
            risk |= any(r.lower() in OPEN_ROLES for r, _ in new_g - old_g)
        if old_g - new_g:
            notes.append("revoked " + ", ".join(f"{p} from {r}" for r, p in sorted(old_g - new_g)))
        if notes:
            yield _c("table", "changed", new.name, "; ".join(notes), risk, new.location)
        yield from _policies(old, new)


def _policies(old: Table, new: Table) -> Iterable[Change]:
    added, removed, both = _pairs(old.policies, new.policies, lambda p: p.name)
    for p in added:
        detail = _policy_text(p) + (": lets every row through" if p.permissive else "")
        yield _c(
            "policy",
            "added",
            f"{new.name}: {p.name}",
            detail,
            p.permissive,
            p.location or new.location,
        )
    for p in removed:
        detail = "dropped" + (" (a restrictive policy: access widens)" if p.restrictive else "")
        yield _c(
            "policy",
            "removed",
            f"{new.name}: {p.name}",
            detail,
            p.restrictive,
            p.location or old.location,
            "base",
        )
    for a, b in both:
        if _policy_text(a) == _policy_text(b) and (a.permissive, a.restrictive) == (
            b.permissive,
            b.restrictive,
        ):
            continue
        became_open = b.permissive and not a.permissive
        detail = f"{_policy_text(a)} → {_policy_text(b)}"
        if became_open:
            detail += ": now lets every row through"
        yield _c(
            "policy",
            "changed",
            f"{new.name}: {b.name}",
            detail,
            became_open or (a.restrictive and not b.restrictive),
            b.location or new.location,
        )


def buckets(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.buckets, head.buckets, lambda b: b.name)
    for b in added:
        yield _c(
            "bucket",
            "added",
            b.name,
            "public: anyone can read its files" if b.public else "private",
            b.public,
            b.location,
        )
    for b in removed:
        yield _c("bucket", "removed", b.name, "removed", False, b.location, "base")
    for old, new in both:
        if old.public != new.public:
            yield _c(
                "bucket",
                "changed",
                new.name,
                "private → public" if new.public else "public → private",
                new.public,
                new.location,
            )


def functions(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.functions, head.functions, lambda f: f.name)
    for f in added:
        yield _c(
            "db_function",
            "added",
            f.name,
            "SECURITY DEFINER: runs with its owner's rights"
            if f.security_definer
            else "security invoker",
            f.security_definer,
            f.location,
        )
    for f in removed:
        yield _c("db_function", "removed", f.name, "dropped", False, f.location, "base")
    for old, new in both:
        if old.security_definer != new.security_definer:
            yield _c(
                "db_function",
                "changed",
                new.name,
                "now SECURITY DEFINER" if new.security_definer else "now security invoker",
                new.security_definer,
                new.location,
            )
