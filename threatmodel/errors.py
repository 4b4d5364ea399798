"""Typed errors. Each layer raises its own subclass; only the CLI turns them into exit codes.

Every message says what went wrong and how to fix it, in one line a user can act on.
"""

from __future__ import annotations


class ThreatModelError(Exception):
    """Base of every error the tool raises on purpose. Exit code 2 unless stated."""

    exit_code = 2


class UsageError(ThreatModelError):
    """Bad flags or arguments."""


class ConfigError(ThreatModelError):
    """Configuration that cannot work (unknown provider, missing key, bad pyproject table)."""


class RepositoryError(ThreatModelError):
    """The path is missing, not a directory, not readable, or a git ref does not exist."""


class CollectError(ThreatModelError):
    """A collector failed in a way that is not a per-file parse error."""


class ProviderError(ThreatModelError):
    """An LLM provider failed after retries (network, auth, quota)."""


class BudgetExceeded(ThreatModelError):
    """A --max-cost / --max-tokens budget was reached; partial results are kept."""


class InputFormatError(ThreatModelError):
    """A findings file (for `verify`) or a baseline is not in a format we read."""


class StageFailed(ThreatModelError):
    """A pipeline stage could not run (e.g. a verifier crashed): never silently skipped."""
