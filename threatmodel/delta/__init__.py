"""The architecture delta between two sets of Facts, and the diff report built around it.

``threatmodel diff`` collects facts at a base and a head commit; this package says what
changed in between, in the terms a reviewer cares about: routes added or removed or whose auth
weakened, middleware, tables, RLS and policies (a policy that now lets every row through),
buckets made public, new env vars and hardcoded secrets, dependencies, security settings,
dynamic sinks. Each change says whether it raises risk, so the PR comment can lead with them.

It is pure data and comparison, importing only ``models``: it sits in the models layer so that
both ``diff`` (which computes it, with git) and ``render`` (which prints it) can use it.
"""

from threatmodel.delta.compare import classify_findings, compute_delta
from threatmodel.delta.escalation import escalations
from threatmodel.delta.model import Change, DiffReport, Escalation, RefInfo
from threatmodel.delta.surface import weak_setting

__all__ = [
    "Change",
    "DiffReport",
    "Escalation",
    "RefInfo",
    "classify_findings",
    "compute_delta",
    "escalations",
    "weak_setting",
]
