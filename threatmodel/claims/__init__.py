"""The claim registry: one folder per claim kind, its spec and its catalog rows as data.

``REGISTRY`` maps a kind to its ``KindSpec``; the dataflow engine reads the sink,
sanitizer and guard rows from it, the LLM vocabulary and report help text read the spec.
Kinds not (yet) moved here keep their description in ``llm/schema.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from threatmodel.claims.spec import KindSpec, SinkRow

__all__ = ["REGISTRY", "KindSpec", "SinkRow", "spec"]


def _load() -> dict[str, KindSpec]:
    out: dict[str, KindSpec] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found: KindSpec = module.SPEC
        assert found.kind == info.name, f"claims/{info.name} declares kind {found.kind}"
        out[found.kind] = found
    return out


REGISTRY: dict[str, KindSpec] = _load()


def spec(kind: str) -> KindSpec | None:
    return REGISTRY.get(kind)
