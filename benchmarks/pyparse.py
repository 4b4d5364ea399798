"""How many Python files the running interpreter's ``ast.parse`` refuses, and how many the
tool's own parse (``threatmodel.code.pyparse``) still cannot read. Prints a Markdown table.

python benchmarks/pyparse.py PATH [PATH ...]

Under Python 3.11 a repository written for 3.12+ (PEP 701 f-strings, PEP 695 type
parameters) fails ``ast.parse`` in many files; the tool must read them all the same. The
"not Python" column lists the files it could not read (e.g. Python 2), so they can be
looked at.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from threatmodel.code.pyparse import NotPython, parse_python


def count(root: Path) -> tuple[int, int, list[str], float]:
    """(files, refused by ast.parse, not read by parse_python, seconds in parse_python)."""
    files = refused = 0
    unread: list[str] = []
    spent = 0.0
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.parts or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        files += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
        except (SyntaxError, ValueError):
            refused += 1
        started = time.perf_counter()
        try:
            parse_python(text)
        except (NotPython, RecursionError, MemoryError) as exc:
            unread.append(f"{path.relative_to(root)}: {exc}")
        spent += time.perf_counter() - started
    return files, refused, unread, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}\n")
    print("| tree | .py files | ast.parse refuses | threatmodel cannot read | parse s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    unread_all: list[str] = []
    for root in args.paths:
        files, refused, unread, spent = count(root)
        print(f"| {root.name} | {files} | {refused} | {len(unread)} | {spent:.1f} |")
        unread_all += [f"{root.name}/{u}" for u in unread]
    if unread_all:
        print("\nNot Python:\n" + "\n".join(f"- {u}" for u in unread_all))


if __name__ == "__main__":
    main()
