"""Collect layer: walk the repository and turn its files into Facts with real parsers.

The engine (``_run.py``: extract, cache, link; ``registry.py``: which collectors run) and
the collectors that are not a web framework (SQL, ORM, env, secrets, dependencies, sinks,
effects); the frameworks' collectors live in ``frameworks/<name>/``, the Python ones run by
``pyweb.py``. Each collector implements ``code.collector.Collector``.
"""

from threatmodel.collect._run import CollectResult, collect_facts

__all__ = ["CollectResult", "collect_facts"]
