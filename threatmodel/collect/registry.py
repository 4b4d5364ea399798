"""Which collectors run: every module of ``collect/`` and every framework's routes module.

A collector registers itself (``code.collector.register``) when its module is imported, so
discovery is importing: the modules of this package whose names do not start with ``_``,
and the ``routes`` module of every framework in ``frameworks/registry.py`` (Express, NestJS,
Next.js and Supabase Edge Functions register their own collectors; the Python frameworks
are run by pyweb.py).
"""

from __future__ import annotations

import importlib
import pkgutil

import threatmodel.collect as package
from threatmodel.code.collector import Collector, registered
from threatmodel.frameworks.registry import FRAMEWORKS


def all_collectors() -> list[Collector]:
    """One instance of every registered collector, in id order (deterministic)."""
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    for fw in FRAMEWORKS:
        importlib.import_module(fw.routes)
    return registered()
