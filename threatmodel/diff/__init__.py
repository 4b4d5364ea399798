"""``threatmodel diff``: what a change between two commits does to the threat model.

``run.py`` exports both commits (never touching the working tree), scans them with a shared
fact cache, computes the architecture delta (``threatmodel.delta``) and runs the LLM pass on
the changed components only (``focus.py``); ``github.py`` posts or updates the one marked
pull-request comment.
"""

from threatmodel.diff.run import DiffOptions, run_diff

__all__ = ["DiffOptions", "run_diff"]
