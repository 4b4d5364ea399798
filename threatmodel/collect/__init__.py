"""Collect layer: walk the repository and turn its files into Facts with real parsers.

One module per framework or artefact; each registers a Collector (see interface.py).
"""

from threatmodel.collect._run import CollectResult, collect_facts

__all__ = ["CollectResult", "collect_facts"]
