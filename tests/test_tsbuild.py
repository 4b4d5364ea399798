"""Files the TypeScript build leaves out (``collect/tsbuild.py``) are not production code."""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.collect.scope import Classifier
from threatmodel.collect.tsbuild import TsBuild, _pattern

TSCONFIG = """\
{
  // JSON with comments and trailing commas, as tsc reads it
  "compilerOptions": { "outDir": "./build", /* inline */ "paths": { "@x/*": ["./*"] } },
  "include": ["src/**/*.ts", "snippets/**/*.ts", "*.ts"],
  "exclude": ["node_modules", "snippets/**", "src/legacy", "frontend",],
}
"""


def repo(tmp_path: Path, files: dict[str, str]) -> RepoReader:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return RepoReader(tmp_path)


FILES = {
    "tsconfig.json": TSCONFIG,
    "snippets/fix_1.ts": "export const a = (req: any) => eval(req.body.x)\n",
    "snippets/fix_2.ts": "import { b } from '../src/legacy/only-snippets'\n",
    "src/legacy/only-snippets.ts": "export const b = 1\n",
    "src/legacy/kept.ts": "export const c = 1\n",
    "src/app.ts": "import { c } from './legacy/kept'\nexport const d = c\n",
    "frontend/tsconfig.json": '{ "files": ["src/main.ts"] }\n',
    "frontend/src/main.ts": "export const e = 1\n",
    "frontend/src/app/view.ts": "export const f = 1\n",
}


def test_excluded_and_imported_by_nothing_built(tmp_path: Path) -> None:
    build = TsBuild(repo(tmp_path, FILES))
    assert build.excluded("snippets/fix_1.ts") == "tsconfig.json"
    # imported only from an excluded file: still out of the build
    assert build.excluded("src/legacy/only-snippets.ts") == "tsconfig.json"
    # excluded, but a built file imports it: tsc compiles it
    assert build.excluded("src/legacy/kept.ts") is None
    assert build.excluded("src/app.ts") is None
    # the nearest tsconfig decides: frontend's own has no exclude; ``files`` alone says
    # nothing about what its imports pull in
    assert build.excluded("frontend/src/app/view.ts") is None
    assert build.excluded("README.md") is None


def test_the_classifier_calls_them_examples(tmp_path: Path) -> None:
    scope = Classifier(repo(tmp_path, FILES))
    assert scope.at("snippets/fix_1.ts", 1) == "example"
    assert scope.file("src/app.ts") == "production"
    assert scope.file("src/legacy/kept.ts") == "production"


def test_no_tsconfig_or_a_broken_one_excludes_nothing(tmp_path: Path) -> None:
    reader = repo(tmp_path, {"tsconfig.json": "{ not json", "a/b.ts": "export const x = 1\n"})
    assert TsBuild(reader).excluded("a/b.ts") is None


def test_tsconfig_globs() -> None:
    cases = [
        ("snippets/**", "snippets/a/b.ts", True),
        ("**/*.d.ts", "types.d.ts", True),
        ("**/*.d.ts", "a/b/types.d.ts", True),
        ("src/legacy", "src/legacy/x.ts", True),
        ("src/legacy", "src/legacyx.ts", False),
        ("./dist/", "dist/main.js", True),
        ("src/*.spec.ts", "src/a/b.spec.ts", False),
        ("src/?.ts", "src/a.ts", True),
    ]
    for glob, path, expected in cases:
        assert bool(_pattern(glob).match(path)) is expected, (glob, path)
