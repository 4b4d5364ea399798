"""Which claim kinds a repository's facts can support: the LLM pass lists only those.

Every call of a pass starts with the system prompt (its claim vocabulary) and the answer
schema (the kinds' enum); both are paid on every call. A kind whose verifier looks its
subject up in the facts, and refutes the claim when the facts hold none, cannot be
confirmed in a repository without that subject: row-level security needs a table with RLS
semantics, a bucket claim a bucket, a browser-exposed secret a client-exposed variable, an
RLS bypass a service-role client or a database function or view. Those kinds are left out
of the vocabulary and the schema when the facts hold none of their subjects. The choice is
made from the facts alone, once per pass, so every call of a pass shares one prefix.

Kinds judged from code (an injection, a missing check, a cost) stay whatever the facts
hold: the model may see what no collector found.
"""

from __future__ import annotations

from collections.abc import Callable

from threatmodel.models import CLAIM_KINDS, Facts


def _rls(facts: Facts) -> bool:
    return any(t.rls_enabled is not None for t in facts.tables)


# kind -> whether the facts hold what its verifier looks the claim's subject up in
NEEDS: dict[str, Callable[[Facts], bool]] = {
    "rls_disabled": _rls,
    "rls_permissive": _rls,
    "rls_bypass": lambda f: (
        bool(f.functions or f.views) or any(s.kind == "rls_bypass" for s in f.sinks)
    ),
    "public_bucket": lambda f: bool(f.buckets),
    "client_exposed_secret": lambda f: any(v.client_exposed for v in f.env_vars),
}


def supported_kinds(facts: Facts) -> tuple[str, ...]:
    """The claim kinds (in ``CLAIM_KINDS`` order) the facts can support."""
    return tuple(k for k in CLAIM_KINDS if k not in NEEDS or NEEDS[k](facts))
