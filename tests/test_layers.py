"""The package's layers import only leftwards (DESIGN.md "Layers"), read from the source.

``model -> code -> frameworks -> dataflow -> collect -> ...``, with ``claims/`` beside them
as data. Every import counts, including those inside functions and under TYPE_CHECKING: a
lazy import upwards is still a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "threatmodel"
# Modules of the package's top level that belong to the model layer (the bottom).
MODEL = {"threatmodel", "threatmodel.models", "threatmodel.errors", "threatmodel.progress"}
# What each checked layer may import (besides the standard library and third parties).
ALLOWED = {
    "model": {"model"},
    "code": {"model", "code"},
    "claims": {"model", "claims"},
    "frameworks": {"model", "code", "claims", "frameworks"},
    "dataflow": {"model", "code", "claims", "frameworks", "dataflow"},
    "collect": {"model", "code", "claims", "frameworks", "dataflow", "collect"},
}


def layer(module: str) -> str:
    """``model``, a package's layer (``code``, ``collect`` ...) or a top-level module's name."""
    if module in MODEL:
        return "model"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every ``threatmodel`` module a file imports (a ``from X import name`` counts X)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "threatmodel"}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            if (node.module or "").split(".")[0] == "threatmodel":
                mod = node.module or ""
                out |= {_submodule(mod, a.name) for a in node.names}
    return out


def _submodule(module: str, name: str) -> str:
    """``from threatmodel import dataflow`` imports the package ``threatmodel.dataflow``;
    ``from threatmodel import __version__`` only the package itself."""
    base = PACKAGE.parent.joinpath(*module.split("."), name)
    is_module = base.with_suffix(".py").exists() or (base / "__init__.py").exists()
    return f"{module}.{name}" if module == "threatmodel" and is_module else module


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_layer_names_are_known() -> None:
    # A renamed folder must not silently drop out of the check.
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert set(ALLOWED) - {"model"} <= packages


@pytest.mark.parametrize("checked", sorted(ALLOWED))
def test_layer_imports_only_leftwards(checked: str) -> None:
    wrong = []
    for path in sources():
        mod = module_name(path)
        if layer(mod) != checked:
            continue
        for dep in sorted(imported(path)):
            dep_layer = layer(dep)
            if dep_layer not in ALLOWED[checked]:
                wrong.append(f"{mod} imports {dep} ({dep_layer})")
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_imports_the_cli() -> None:
    wrong = [
        f"{module_name(p)} imports {d}"
        for p in sources()
        if layer(module_name(p)) not in ("cli", "__main__")
        for d in imported(p)
        if layer(d) == "cli"
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # The checker itself: an upward import in a framework module is found.
    bad = tmp_path / "bad.py"
    bad.write_text("from threatmodel.collect.sql import SqlCollector\nimport threatmodel.cli\n")
    assert {layer(d) for d in imported(bad)} == {"collect", "cli"}
