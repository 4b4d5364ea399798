"""TM102 permissive-rls-policy: a row-level-security policy that lets every row through.

A policy such as ``USING (true)`` (or with no condition) grants its roles every row of the
table for its command: with Supabase, any visitor holding the public anon key can read (or
write) all of them through the REST API. Reported per policy, in the final schema after
every migration; high when it applies to everyone (no role, ``public`` or ``anon``) or to a
write command, medium when only signed-in users (``authenticated``) get every row.

A policy naming only roles that bypass RLS (``service_role``, ``postgres``,
``supabase_admin``) is never reported: those roles see every row with or without it. When
the table was proven on a real PostgreSQL (``Table.proof``), the finding cites what the
database did, and a policy the database shows opens nothing beyond each caller's own rows
is not reported (the disagreement is listed in the report's ``proof``). On
``storage.objects`` a policy scoped to a bucket (``bucket_id = 'avatars'``) opens that
bucket's objects, and says so; read access to a bucket that is itself public is what TM104
reports, not a second finding. Read access to a table whose rows belong to no user (the
proof found no owner column and no foreign key to a table with one) and that has no
sensitive column is reported at low: that is how an app publishes its reference data
(roles, topics, a product catalog), by design unless the table holds more than it shows.
"""

from __future__ import annotations

import re

from threatmodel.collect.proof.read import (
    applies,
    bypass_only,
    describe,
    proof_open,
    sentences,
)
from threatmodel.models import Claim, Facts, Finding, Policy, Severity, Stride, Table
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

OPEN_ROLES = frozenset({"public", "anon"})
# What a policy that lets every row through gives, by command: the words of the title and
# the STRIDE threats (reading is disclosure; writing is tampering).
_GIVES: dict[str, tuple[str, list[Stride]]] = {
    "SELECT": ("read every row of", [Stride.INFORMATION_DISCLOSURE]),
    "INSERT": ("insert any row into", [Stride.TAMPERING]),
    "UPDATE": ("change every row of", [Stride.TAMPERING]),
    "DELETE": ("delete every row of", [Stride.TAMPERING, Stride.DENIAL_OF_SERVICE]),
}
_ALL = ("read and change every row of", [Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING])
_SHARED = (
    " No row belongs to a user (no owner column, no foreign key to a table with one) and no"
    " column is sensitive: reference data published to every caller is by design."
)


def role_words(roles: set[str]) -> str:
    """Who a policy is for, as a reader says it: "anyone" for public, else the role names."""
    if roles == {"public"}:
        return "anyone"
    return " and ".join(sorted(roles))


@register
class PermissiveRlsPolicy(Rule):
    id = "TM102"
    name = "permissive-rls-policy"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        public = {b.name for b in facts.buckets if b.public}
        for table in facts.tables:
            if not table.rls_enabled:
                continue
            for p in table.policies:
                if not p.permissive or p.restrictive or bypass_only(p):
                    continue
                proven = proven_by(table, p)
                if proven == []:
                    continue  # the database shows no caller reaching rows not its own
                scope = bucket_scope(table, p)
                if scope and p.command.upper() == "SELECT" and scope <= public:
                    continue  # reading a public bucket's objects: TM104 reports the bucket
                roles = {r.lower() for r in p.roles} or {"public"}
                wide = bool(roles & OPEN_ROLES) or p.command != "SELECT"
                shared = p.command == "SELECT" and reference_data(table)
                who = role_words(roles)
                gives, stride = _GIVES.get(p.command.upper(), _ALL)
                what = table.name
                if scope:
                    gives = gives.replace("row", "object")
                    what = f"bucket {', '.join(sorted(scope))} ({table.name})"
                out.append(
                    Finding(
                        title=f'Policy "{p.name}" lets {who} {gives} {what}',
                        severity=Severity.LOW
                        if shared
                        else (Severity.HIGH if wide else Severity.MEDIUM),
                        stride=stride,
                        cwe=["CWE-284"],
                        source="rule",
                        rule_id=self.id,
                        claims=[
                            Claim(
                                kind="rls_permissive",
                                table=table.name,
                                name=p.name,
                                location=p.location,
                            )
                        ],
                        evidence=evidence(ctx, p.location),
                        attack=(
                            f"Call the database API as {', '.join(sorted(roles))} and "
                            f"{p.command} rows of {table.name}: "
                            f"the policy's condition ({p.using or p.check or 'none'}) "
                            "lets every row through."
                            + sentences(proven or [])
                            + (_SHARED if shared else "")
                        ),
                        mitigation=(
                            "Restrict the policy to the rows the caller owns, e.g. "
                            "USING (auth.uid() = owner), and limit it to the roles that need it."
                        ),
                    )
                )
        return out


_BUCKET = re.compile(r"\bbucket_id\s*=\s*'([^']*)'")


def bucket_scope(table: Table, policy: Policy) -> set[str]:
    """The buckets a ``storage.objects`` policy is scoped to (``bucket_id = 'avatars'``, the
    one open condition ``_rls`` allows there): it opens those buckets' objects, not every
    row of the table."""
    if table.name != "storage.objects":
        return set()
    return set(_BUCKET.findall(policy.using or policy.check or ""))


def reference_data(table: Table) -> bool:
    """The proof found the table's rows belong to no user, and no column is sensitive."""
    return (
        table.proof is not None
        and not table.proof.user_rows
        and not any(c.sensitive for c in table.columns)
    )


def proven_by(table: Table, policy: Policy) -> list[str] | None:
    """What the database showed for the policy's roles and commands (None: not proven)."""
    if table.proof is None or table.proof.note:
        return None
    relevant = [c for c in table.proof.checks if applies(policy, c)]
    if not relevant or all(proof_open(c) is None for c in relevant):
        return None
    return [
        describe(c, table.name, table.proof.database) for c in relevant if proof_open(c) is True
    ]
