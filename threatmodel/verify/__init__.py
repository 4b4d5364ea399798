"""Verify layer: the LLM proposes, these deterministic checks dispose (see interface.py)."""

from threatmodel.verify._run import VerifyOutcome, verify_findings
from threatmodel.verify.interface import VerifyContext

__all__ = ["VerifyContext", "VerifyOutcome", "verify_findings"]
