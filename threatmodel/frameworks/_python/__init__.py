"""Helpers every Python web framework shares: guard analysis, name resolution, settings.

``guards.py`` (with ``cond.py`` and ``reject.py``) decides whether a function rejects a
caller without an identity; ``link.py`` follows names across files and holds the guard
table; ``settings.py`` reads framework settings.
"""

from threatmodel.frameworks.base import RequestSources

GUARDS = ("threatmodel.frameworks._python.guards",)

# Request objects of Python web frameworks without a folder of their own (Bottle).
OTHER_SOURCES = RequestSources(objects=frozenset({"bottle.request"}))
