"""Verifier interface: one verifier per claim kind, registered by that kind (a stable id).

A verifier receives one claim of its kind plus the facts and a safe file reader, and
returns a ClaimResult: ``confirmed``, ``refuted`` with a one-line reason naming the
contradicting fact, or ``unverifiable`` when the code cannot decide. It never guesses.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from threatmodel.code.reader import RepoReader
from threatmodel.collect.scope import ScopeConfig
from threatmodel.models import Claim, Facts, Finding, ProofStep, Verdict


@dataclass(frozen=True)
class ClaimResult:
    verdict: Verdict
    reason: str = ""
    proof: tuple[ProofStep, ...] = ()  # the chain of facts and lines a confirmation rests on

    @classmethod
    def confirmed(cls, reason: str = "", proof: tuple[ProofStep, ...] = ()) -> ClaimResult:
        return cls(Verdict.CONFIRMED, reason, proof)

    @classmethod
    def refuted(cls, reason: str) -> ClaimResult:
        return cls(Verdict.REFUTED, reason)

    @classmethod
    def unverifiable(cls, reason: str) -> ClaimResult:
        return cls(Verdict.UNVERIFIABLE, reason)


@dataclass(frozen=True)
class VerifyContext:
    facts: Facts
    reader: RepoReader
    scope: ScopeConfig | None = None  # [tool.threatmodel.scope] of the scanned repository


class Verifier(ABC):
    kind: ClassVar[str]  # the claim kind this verifier decides; its registry id

    @abstractmethod
    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        """Decide one claim. Must not raise for bad input: refute or mark unverifiable."""

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        """Whether ``facts`` hold any subject a claim of this kind could be confirmed on.

        A verifier that looks its subject up in the facts (a table, a bucket, an env var)
        and refutes a claim when the facts hold none says so here: the LLM pass then leaves
        the kind out of its vocabulary (``threatmodel/vocabulary.py``). Kinds judged from
        code keep the default: the model may see what no collector found.
        """
        return True


_REGISTRY: dict[str, type[Verifier]] = {}
_LOAD_ERRORS: dict[str, str] = {}  # module -> why it could not be imported


def register(cls: type[Verifier]) -> type[Verifier]:
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"verifier for {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def all_verifiers() -> dict[str, Verifier]:
    import threatmodel.verify as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name not in ("interface", "evidence", "inputs"):
            try:
                importlib.import_module(f"{package.__name__}.{info.name}")
            except Exception as exc:  # a broken verifier module must be reported, not hidden
                _LOAD_ERRORS[info.name] = f"{type(exc).__name__}: {exc}"
    return {kind: cls() for kind, cls in sorted(_REGISTRY.items())}


def load_errors() -> dict[str, str]:
    """Verifier modules that failed to import in this process (stage health reports them)."""
    return dict(sorted(_LOAD_ERRORS.items()))
