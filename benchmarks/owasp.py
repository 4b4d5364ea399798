"""Score ``threatmodel scan`` and Bandit on OWASP BenchmarkPython, and ``verify`` on Bandit.

Usage: ``python benchmarks/owasp.py PATH [--work DIR] [--no-bandit] [--no-verify]``, PATH a
checkout of github.com/OWASP-Benchmark/BenchmarkPython (GPL: never copied here). Findings are
mapped to test cases by file and to categories by CWE (the answer key's CWE column against
the claim registry's / Bandit rule's CWEs). Per category TPR, FPR and Youden (TPR - FPR) for
the whole suite, for 00001-00899 (the tuning slice) and for 00900+ (scored only, never read).
``--detail`` lists the mistakes (scan and verify) of the tuning slice only.
Bandit is installed into a scratch venv under --work. ``verify`` is run over the checkout's
``results/BenchmarkPython-Bandit.sarif``: how many of Bandit's true and false positives it
refutes (a Bandit result counts for a test case when its category is the case's).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import venv
from collections import defaultdict
from pathlib import Path

from threatmodel.claims import REGISTRY
from threatmodel.verify.inputs import BANDIT_KINDS, CWE_KINDS

TEST = re.compile(r"BenchmarkTest(\d{5})")
TUNE_LAST = 899
SLICES = {"all": (0, 10**6), "00001-00899": (1, TUNE_LAST), "00900+": (TUNE_LAST + 1, 10**6)}


def expected(root: Path) -> dict[str, tuple[str, bool, str]]:
    out = {}
    with (root / "expectedresults-0.1.csv").open() as fh:
        for row in csv.reader(fh):
            if row and not row[0].startswith("#"):
                out[row[0].strip()] = (row[1].strip(), row[2].strip() == "true", row[3].strip())
    return out


def category_of_cwe(answers: dict[str, tuple[str, bool, str]]) -> dict[str, str]:
    return {cwe: cat for cat, _, cwe in answers.values()}


def kind_categories(answers: dict[str, tuple[str, bool, str]]) -> dict[str, str]:
    """claim kind -> benchmark category, through the registry's CWEs."""
    by_cwe = category_of_cwe(answers)
    out = {}
    for kind, spec in REGISTRY.items():
        for cwe in spec.cwe:
            cat = by_cwe.get(cwe.removeprefix("CWE-"))
            if cat:
                out[kind] = cat
    return out


def score(
    answers: dict[str, tuple[str, bool, str]], flagged: set[tuple[str, str]]
) -> dict[str, dict[str, tuple[float, float, float, int]]]:
    out: dict[str, dict[str, tuple[float, float, float, int]]] = {}
    for name, (lo, hi) in SLICES.items():
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fn fp tn
        for test, (cat, real, _) in answers.items():
            m = TEST.search(test)
            if not m or not lo <= int(m.group(1)) <= hi:
                continue
            hit = (test, cat) in flagged
            c = counts[cat]
            c[0 if real and hit else 1 if real else 2 if hit else 3] += 1
        table = {}
        for cat, (tp, fn, fp, tn) in sorted(counts.items()):
            tpr = tp / (tp + fn) if tp + fn else 0.0
            fpr = fp / (fp + tn) if fp + tn else 0.0
            table[cat] = (tpr, fpr, tpr - fpr, tp + fn + fp + tn)
        out[name] = table
    return out


def show(title: str, table: dict[str, dict[str, tuple[float, float, float, int]]]) -> None:
    print(f"\n## {title}")
    cats = sorted(table["all"])
    print(f"{'category':16}" + "".join(f"{s:>26}" for s in table))
    print(f"{'':16}" + "".join(f"{'TPR   FPR   Youden   n':>26}" for _ in table))
    for cat in cats:
        cells = ""
        for s in table:
            tpr, fpr, y, n = table[s].get(cat, (0, 0, 0, 0))
            cells += f"{tpr:>8.2f}{fpr:>6.2f}{y:>+8.2f}{n:>4}"
        print(f"{cat:16}{cells}")
    avg = "".join(
        f"{sum(v[2] for v in table[s].values()) / max(len(table[s]), 1):>+22.3f}    " for s in table
    )
    print(f"{'average Youden':16}{avg}")


def run_scan(root: Path, work: Path) -> set[tuple[str, str]]:
    out = work / "scan.json"
    cmd = [sys.executable, "-m", "threatmodel", "scan", str(root), "--provider", "none"]
    cmd += ["--format", "json", "-o", str(out), "--no-cache", "-q", "--no-baseline"]
    subprocess.run(cmd, check=False)
    report = json.loads(out.read_text())
    answers = expected(root)
    cats = kind_categories(answers)
    flagged = set()
    for f in report["findings"]:
        if f.get("verdict") == "refuted":
            continue
        for c in f.get("claims") or []:
            loc = c.get("location") or {}
            m = TEST.search(loc.get("path") or "")
            if m and c["kind"] in cats:
                flagged.add((f"BenchmarkTest{m.group(1)}", cats[c["kind"]]))
    return flagged


def bandit_results(root: Path, work: Path) -> list[dict[str, object]]:
    env = work / "bandit-venv"
    if not (env / "bin" / "bandit").exists():
        venv.create(env, with_pip=True)
        subprocess.run([str(env / "bin" / "pip"), "install", "-q", "bandit"], check=True)
    out = work / "bandit.json"
    subprocess.run(
        [str(env / "bin" / "bandit"), "-q", "-r", "testcode", "-f", "json", "-o", str(out)],
        cwd=root,
        check=False,
    )
    return list(json.loads(out.read_text())["results"])


def bandit_category(test_id: str, cwe: str, cats: dict[str, str]) -> str | None:
    kind = BANDIT_KINDS.get(test_id) or CWE_KINDS.get(cwe)
    return cats.get(kind) if kind else None


def tuning(test: str) -> bool:
    """In the tuning slice 00001-00899 (the only cases whose ids may be shown)."""
    m = TEST.search(test)
    return bool(m) and 1 <= int(m.group(1)) <= TUNE_LAST


def show_misses(answers: dict[str, tuple[str, bool, str]], flagged: set[tuple[str, str]]) -> None:
    """Scan mistakes in the tuning slice only (00900+ is scored, never shown)."""
    print("\n## scan mistakes in 00001-00899")
    for test, (cat, real, _) in sorted(answers.items()):
        if tuning(test) and ((test, cat) in flagged) != real:
            print(f"{'missed' if real else 'false alarm'}: {test} {cat}")


def run_verify(
    root: Path, work: Path, answers: dict[str, tuple[str, bool, str]], detail: bool = False
) -> None:
    sarif = root / "results" / "BenchmarkPython-Bandit.sarif"
    out = work / "verify.json"
    cmd = [sys.executable, "-m", "threatmodel", "verify", str(sarif), "--repo", str(root)]
    subprocess.run([*cmd, "-f", "json", "-o", str(out), "--no-cache", "-q"], check=False)
    report = json.loads(out.read_text())
    cats = kind_categories(answers)
    tally: dict[str, dict[str, int]] = {"true": defaultdict(int), "false": defaultdict(int)}
    # (slice, category) -> [true positives, of them refuted, false positives, of them refuted]
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for f in report["findings"] + report.get("suppressed", []):
        kinds = [c["kind"] for c in f.get("claims") or []]
        loc = (f.get("evidence") or [{}])[0].get("path", "")
        m = TEST.search(loc)
        if not m or not kinds:
            continue
        test = f"BenchmarkTest{m.group(1)}"
        cat, real, _ = answers.get(test, ("", False, ""))
        if cats.get(kinds[0]) != cat:
            continue
        side = "true" if real else "false"
        tally[side][str(f.get("verdict"))] += 1
        refuted = f.get("verdict") == "refuted"
        for name, (lo, hi) in SLICES.items():
            if lo <= int(m.group(1)) <= hi:
                cell = cells[(name, cat)]
                cell[0 if real else 2] += 1
                cell[1 if real else 3] += int(refuted)
        wrong = (real and refuted) or (not real and not refuted)
        if detail and wrong and tuning(test):
            print(f"  {side} positive {test} {cat}: {f.get('verdict')}")
    for side in ("true", "false"):
        total = sum(tally[side].values())
        refuted = tally[side].get("refuted", 0)
        share = f" ({refuted / total:.1%} refuted)" if total else ""
        print(f"Bandit {side} positives: {total}, verdicts {dict(tally[side])}{share}")
    show_verify(cells)


def show_verify(cells: dict[tuple[str, str], list[int]]) -> None:
    """Per slice and category: Bandit's true positives refuted / all, false ones refuted / all."""
    print(f"\n{'category':16}" + "".join(f"{s:>24}" for s in SLICES))
    print(f"{'':16}" + "".join(f"{'TP refuted  FP refuted':>24}" for _ in SLICES))
    for cat in sorted({c for _, c in cells}):
        row = ""
        for name in SLICES:
            tp, tp_ref, fp, fp_ref = cells.get((name, cat), [0, 0, 0, 0])
            row += f"{f'{tp_ref}/{tp}':>13}{f'{fp_ref}/{fp}':>11}"
        print(f"{cat:16}{row}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--work", type=Path, default=Path(".owasp-work"))
    ap.add_argument("--no-bandit", action="store_true")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument(
        "--detail", action="store_true", help="list the mistakes of 00001-00899 (never 00900+)"
    )
    args = ap.parse_args()
    root: Path = args.path.resolve()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    answers = expected(root)
    flagged_scan = run_scan(root, work)
    show("threatmodel scan --provider none", score(answers, flagged_scan))
    if args.detail:
        show_misses(answers, flagged_scan)
    if not args.no_bandit:
        cats = kind_categories(answers)
        flagged = set()
        for r in bandit_results(root, work):
            m = TEST.search(str(r["filename"]))
            cwe = str((r.get("issue_cwe") or {}).get("id", ""))  # type: ignore[union-attr]
            cat = bandit_category(str(r["test_id"]), cwe, cats)
            if m and cat:
                flagged.add((f"BenchmarkTest{m.group(1)}", cat))
        show("bandit", score(answers, flagged))
    if not args.no_verify:
        print("\n## threatmodel verify over results/BenchmarkPython-Bandit.sarif")
        run_verify(root, work, answers, args.detail)


if __name__ == "__main__":
    main()
