"""Which claim kinds a repository's facts can support: the LLM pass lists only those.

Every call of a pass starts with the system prompt (its claim vocabulary) and the answer
schema (the kinds' enum); both are paid on every call. A kind whose verifier looks its
subject up in the facts, and refutes the claim when the facts hold none, cannot be
confirmed in a repository without that subject; its verifier says so
(``Verifier.can_confirm``: row-level security needs a table with RLS semantics, a bucket
claim a bucket, a browser-exposed secret a client-exposed variable, an RLS bypass a
service-role client or a database function or view). Those kinds are left out of the
vocabulary and the schema. The choice is made from the facts alone, once per pass, so every
call of a pass shares one prefix.

Kinds judged from code (an injection, a missing check, a cost) stay whatever the facts
hold: the model may see what no collector found.
"""

from __future__ import annotations

from threatmodel.models import CLAIM_KINDS, Facts
from threatmodel.verify.interface import all_verifiers


def supported_kinds(facts: Facts) -> tuple[str, ...]:
    """The claim kinds (in ``CLAIM_KINDS`` order) the facts can support."""
    verifiers = all_verifiers()
    return tuple(k for k in CLAIM_KINDS if k not in verifiers or verifiers[k].can_confirm(facts))
