"""Progress reporting without printing: layers call a Progress; the CLI draws it.

Kept beside models.py (bottom layer) so every layer can report progress on long work
while only cli/ touches the terminal.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, stage: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...  # a line worth showing the user (a warning)
    def finish(self) -> None: ...


class NullProgress:
    """A Progress that stays silent (library use, tests, --quiet)."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def finish(self) -> None:
        pass
