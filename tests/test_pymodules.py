"""code.pymodules: which file a Python import names, the one rule every reader of imports uses."""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.pymodules import ModuleIndex, module_names
from threatmodel.code.reader import RepoReader
from threatmodel.collect import effects_files
from threatmodel.frameworks._python.resolve import Resolver

FILES = [
    "views.py",
    "app/__init__.py",
    "app/views.py",
    "app/auth.py",
    "src/app/views.py",
    "bad/lib.py",
    "good/lib.py",
    "bad/views.py",
    "demos/polls/pollsapp/views.py",
    "demos/polls/pollsapp/routes.py",
    "pkg/__init__.py",
    "pkg/sub/__init__.py",
    "pkg/sub/mod.py",
    "README.md",
]


def test_module_names_are_every_tail() -> None:
    assert module_names("src/app/views.py") == ["src.app.views", "app.views", "views"]
    assert module_names("pkg/sub/__init__.py") == ["pkg.sub", "sub"]


def test_the_root_first_then_the_deepest_folder_holding_the_importer() -> None:
    index = ModuleIndex(FILES)
    # the root's module wins wherever the importer is: the root is on sys.path
    assert index.files_of("app.views", "src/app/urls.py") == ["app/views.py", "src/app/views.py"]
    # no root module: the one whose folder holds the importer (its script's sys.path entry)
    assert index.file_of("lib", "bad/views.py") == "bad/lib.py"
    assert index.file_of("lib", "good/main.py") == "good/lib.py"
    # a folder above the importer (an app named from ``demos/polls``)
    assert index.file_of("pollsapp.views", "demos/polls/pollsapp/routes.py") == (
        "demos/polls/pollsapp/views.py"
    )
    # held by no folder: the shallowest, so a name is still followed
    assert index.files_of("lib", "elsewhere/x.py") == ["bad/lib.py", "good/lib.py"]
    assert index.file_of("nothing.here") is None
    assert index.file_of("README") is None  # not Python


def test_relative_imports_name_one_place() -> None:
    index = ModuleIndex(FILES)
    assert index.files_of("mod", "pkg/sub/x.py", level=1) == ["pkg/sub/mod.py"]
    assert index.files_of("sub", "pkg/sub/mod.py", level=2) == ["pkg/sub/__init__.py"]
    assert index.files_of("", "pkg/sub/mod.py", level=1) == ["pkg/sub/__init__.py"]
    assert index.files_of("views", "app/auth.py", level=1) == ["app/views.py"]
    # a relative import climbing above the repository names nothing
    assert index.files_of("x", "pkg/mod.py", level=3) == []


def test_every_reader_of_imports_asks_the_same_index(tmp_path: Path) -> None:
    for rel in FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("def f():\n    pass\n")
    (tmp_path / "node_modules/dep").mkdir(parents=True)
    (tmp_path / "node_modules/dep/lib.py").write_text("x = 1\n")
    reader = RepoReader(tmp_path)
    # the reader lists what the walk lists: vendored code is no module of the app
    assert "node_modules/dep/lib.py" not in reader.files
    assert reader.python_modules.file_of("lib", "bad/views.py") == "bad/lib.py"
    assert "README.md" not in effects_files.code_files(reader)
    resolver = Resolver({path: {} for path in FILES if path.endswith(".py")})
    for module, importer in [("lib", "bad/views.py"), ("app.views", "src/app/urls.py")]:
        assert resolver.module_file(module, importer) == reader.python_modules.file_of(
            module, importer
        )


def test_a_package_wins_over_a_module_of_the_same_name() -> None:
    # Python's path finder looks for ``a/__init__.py`` before ``a.py`` in each folder
    index = ModuleIndex(["util.py", "util/__init__.py", "util/text.py", "app/views.py"])
    assert index.files_of("util", "app/views.py") == ["util/__init__.py", "util.py"]
    assert index.files_of("util", "app/views.py", level=2) == ["util/__init__.py", "util.py"]
    assert index.file_of("util.text") == "util/text.py"
