"""Re-export of threatmodel.redact (kept here because other modules import it from render)."""

from threatmodel.redact import MASK, Redactor, mask_line, mask_tokens, redact_report

__all__ = ["MASK", "Redactor", "mask_line", "mask_tokens", "redact_report"]
