"""Which collectors run: every module of ``collect/`` and every framework's modules.

A collector registers itself (``code.collector.register``) when its module is imported, so
discovery is importing: the modules of this package whose names do not start with ``_``,
and every module of ``frameworks/`` (the frameworks' registered collectors: Express,
NestJS, Next.js, Supabase Edge Functions; the Python frameworks are called by pyweb.py).
"""

from __future__ import annotations

import importlib
import pkgutil

import threatmodel.collect as package
import threatmodel.frameworks as frameworks
from threatmodel.code.collector import Collector, registered


def all_collectors() -> list[Collector]:
    """One instance of every registered collector, in id order (deterministic)."""
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    for info in pkgutil.walk_packages(frameworks.__path__, f"{frameworks.__name__}."):
        importlib.import_module(info.name)
    return registered()
