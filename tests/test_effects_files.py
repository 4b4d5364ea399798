"""effects_files.module_files: the basename index answers exactly what a scan of every file did."""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.collect import effects_files


def _scan_all(files: list[str], module: str) -> list[str]:
    """The rule the index must keep: a suffix match, then the module at a path boundary."""
    wanted = (f"{module}.py", f"{module}/__init__.py")
    return [f for f in files if f.endswith(wanted) and (f in wanted or f"/{module}" in f)][:3]


def test_index_matches_a_scan_of_every_file(tmp_path: Path) -> None:
    for rel in [
        "app/views.py",
        "app/myviews.py",
        "views.py",
        "app/views/__init__.py",
        "other/app/views.py",
        "b/app/views.py",
        "c/app/views.py",
        "pkg/__init__.py",
        "__init__.py",
        "pkg/sub/__init__.py",
        "pkg/sub/mod.py",
        "xpkg/sub/mod.py",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    reader = RepoReader(tmp_path)
    files = effects_files.code_files(reader)
    modules = ["app/views", "views", "app", "pkg", "pkg/sub", "sub/mod", "pkg/sub/mod", "mod"]
    for module in [*modules, "iews", "nothing/here", "typing"]:
        assert effects_files.module_files(reader, module) == _scan_all(files, module), module
    # the cap keeps the first three in walk order
    assert len(effects_files.module_files(reader, "app/views")) == 3
    assert effects_files.module_files(reader, "pkg/sub") == ["pkg/sub/__init__.py"]
