"""threatmodel benchmarks. Each prints a Markdown table; see benchmarks/README.md.

python benchmarks/run.py scale [--sizes 1000,10000,50000]
python benchmarks/run.py real PATH
python benchmarks/run.py incremental [--size 10000] [PATH]
python benchmarks/run.py tokens PATH [PATH ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.genrepo import generate  # noqa: E402
from benchmarks.measure import Measurement, measure, table  # noqa: E402

PY = sys.executable
BIN = Path(PY).parent


def scan_cmd(root: Path, *extra: str, out: str = "/dev/null") -> list[str]:
    return [
        str(BIN / "threatmodel"),
        "scan",
        str(root),
        "--provider",
        "none",
        "--format",
        "json",
        "--out",
        out,
        "--quiet",
        *extra,
    ]


def compare(label: str, root: Path, cache: Path) -> list[dict[str, object]]:
    """Scan (cold cache), parse floor and bandit on one tree, as rows.

    "Cold" is the fact cache: the tool's own modules are read from their bytecode, as an
    installed tool's are (pip compiles them at install; an editable install writes them on
    its first run). Where ``PYTHONDONTWRITEBYTECODE`` is set (this project's CI machine sets
    it), every run would compile ~270 modules from source first (~0.3 s): the scans get a
    bytecode folder of their own (``PYTHONPYCACHEPREFIX``), filled by one run before the
    timed ones, and one more cold scan is timed the machine's way, from source, for the
    record."""
    files = int(
        subprocess.run(
            [PY, str(HERE / "floor.py"), str(root)], capture_output=True, text=True, check=True
        ).stdout
    )
    env = {"THREATMODEL_CACHE_DIR": str(cache)}
    from_source = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    if from_source:
        env |= {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache) + "-pyc"}
        # one whole scan (its own cache) imports every module a scan of this tree needs
        prime = {**env, "THREATMODEL_CACHE_DIR": str(cache) + "-prime"}
        measure("compile the tool's modules", scan_cmd(root), env=prime)
    shutil.rmtree(cache, ignore_errors=True)
    results: list[Measurement] = [
        measure("floor (parse once, 1 process)", [PY, str(HERE / "floor.py"), str(root)]),
        measure("threatmodel scan (cold)", scan_cmd(root), env=env),
        measure("threatmodel scan (warm cache)", scan_cmd(root), env=env),
    ]
    if from_source:
        shutil.rmtree(cache, ignore_errors=True)
        machine = {"THREATMODEL_CACHE_DIR": str(cache)}
        what = "threatmodel scan (cold, its modules compiled from source)"
        results.append(measure(what, scan_cmd(root), env=machine))
    bandit = shutil.which("bandit", path=str(BIN)) or shutil.which("bandit")
    if bandit:
        results.append(
            measure("bandit -r", [bandit, "-r", "-q", "-f", "json", "-o", "/dev/null", str(root)])
        )
    floor = results[0]
    return [
        {
            "tree": label,
            "files parsed": files,
            "what": m.label,
            "wall s": m.wall_s,
            "cpu s": m.cpu_s,
            "peak MiB": m.peak_mib,
            "wall x floor": m.wall_s / floor.wall_s,
            "cpu x floor": m.cpu_s / floor.cpu_s,
            "wall ms/file": 1000 * m.wall_s / max(files, 1),
        }
        for m in results
    ]


def cmd_scale(args: argparse.Namespace) -> None:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            root = generate(Path(tmp) / f"repo{n}", n)
            rows += compare(f"generated {n}", root, Path(tmp) / "cache")
            shutil.rmtree(root)
    print(table(rows))


def cmd_real(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as tmp:
        print(table(compare(Path(args.path).name, Path(args.path).resolve(), Path(tmp) / "cache")))


def _git(root: Path, *a: str) -> str:
    return subprocess.run(["git", *a], cwd=root, check=True, capture_output=True, text=True).stdout


def _change_one_file(root: Path) -> None:
    """Append a function to the first tracked Python or JS/TS file (sorted by path)."""
    tracked = _git(root, "ls-files").splitlines()
    rel = next(p for p in sorted(tracked) if p.endswith((".py", ".ts", ".js")))
    path = root / rel
    added = (
        "\n\ndef added_later():\n    return 1\n"
        if rel.endswith(".py")
        else "\nexport function addedLater() {\n  return 1;\n}\n"
    )
    path.write_text(path.read_text("utf-8") + added, "utf-8")


def cmd_incremental(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as tmp:
        if args.path:
            root = Path(tmp) / "repo"
            subprocess.run(
                ["git", "clone", "-q", str(Path(args.path).resolve()), str(root)], check=True
            )
        else:
            root = generate(Path(tmp) / "repo", args.size)
        env = {"THREATMODEL_CACHE_DIR": str(Path(tmp) / "cache")}
        full = measure("full scan (cold cache)", scan_cmd(root), env=env)
        same = measure("re-scan, nothing changed", scan_cmd(root), env=env)
        _change_one_file(root)
        rescan = measure("re-scan after a one-file change", scan_cmd(root), env=env)
        rows = [full, same, rescan]
        _git(
            root,
            "-c",
            "user.email=b@example.com",
            "-c",
            "user.name=bench",
            "commit",
            "-qam",
            "one file",
        )
        rows.append(
            measure(
                "diff HEAD~1..HEAD (one-file commit)",
                [
                    str(BIN / "threatmodel"),
                    "diff",
                    "--base",
                    "HEAD~1",
                    "--head",
                    "HEAD",
                    str(root),
                    "--provider",
                    "none",
                    "--out",
                    "/dev/null",
                ],
                env=env,
            )
        )
        print(
            table(
                [
                    {
                        "what": m.label,
                        "wall s": m.wall_s,
                        "cpu s": m.cpu_s,
                        "peak MiB": m.peak_mib,
                        "% of full": 100 * m.wall_s / full.wall_s,
                    }
                    for m in rows
                ]
            )
        )


def cmd_tokens(args: argparse.Namespace) -> None:
    from benchmarks.tokens import token_rows

    print(table(token_rows([Path(p).resolve() for p in args.paths])))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scale")
    p.add_argument("--sizes", default="1000,10000,50000")
    p.set_defaults(func=cmd_scale)
    p = sub.add_parser("real")
    p.add_argument("path")
    p.set_defaults(func=cmd_real)
    p = sub.add_parser("incremental")
    p.add_argument("path", nargs="?")
    p.add_argument("--size", type=int, default=10000)
    p.set_defaults(func=cmd_incremental)
    p = sub.add_parser("tokens")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_tokens)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
