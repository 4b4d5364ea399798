"""Does the LLM see the vulnerable code? ``scan --plan --format json`` over labelled apps.

For each app: the share of documented vulnerable lines (±3) that some request quotes (a
numbered line ``N|code`` of an excerpt headed ``--- label: path lines a-b``: a line folded
into a ``…`` marker is not quoted, or a ``path:line | code`` fact line), the tokens
the pass would send ÷ the app's source tokens, the fixed tokens per call, and whether the
prefix (system prompt + schema) is long enough to be read from the prompt cache from the
second call on. No LLM call is made.

    python -m benchmarks.context --corpus /work/corpus

Apps and their labels: ``benchmarks/context_manifest.json`` (hand-labelled file:line from
each app's docs, pinned commits); juice-shop's ``vuln-code-snippet vuln-line`` markers and
OWASP BenchmarkPython's ``expectedresults-0.1.csv`` (true cases 00001-00899 only, every
``--bench-step``-th) are read from the checkouts. A BenchmarkPython case is present when its
two documented lines are quoted (±3): the line of its POST handler that reads the request
and the line of the sink its category names (``_BENCH_SINK``: ``cur.execute`` for sqli,
``subprocess`` for cmdi, the handler's last ``return`` for xss, ...), both found by reading
the case's file, not from the tool's own flows. (Until round 4 the rule was "every line of
the handler quoted", which stopped measuring anything once quiet lines are folded.)
Checkouts live under ``--corpus`` as ``OWNER+NAME``.
Targets (issue 19): ≥ 95% of lines present; tokens ≤ 0.25 x source on apps over 100 files.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from threatmodel.code.source import detect_language
from threatmodel.code.walk import walk
from threatmodel.summarize import count_tokens

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "context_manifest.json"
WINDOW = 3
_EXCERPT = re.compile(r"^--- .*?: (\S+) lines (\d+)-(\d+)$")
_NUMBERED = re.compile(r"^(\d+)\|")
_FACT_LINE = re.compile(r"(?:^|\s)([\w./@+-]+\.\w+):(\d+) \|", re.M)
# The marker in a comment (`// ...` or `# ...`), followed by a challenge name: juice-shop's
# own marker parser (lib/codingChallenges.ts) holds the words inside its regexes, which
# label nothing.
_MARKER = re.compile(r"(?://|#)\s*vuln-code-snippet vuln-line\s+\w")
_SOURCE_EXT = (".html", ".jinja", ".j2", ".ejs", ".hbs", ".vue", ".svelte", ".pug")


def plan(root: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "threatmodel", "scan", str(root), "--plan", "-f", "json", "-q"]
    cmd += ["--provider", "none"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def quoted(data: dict[str, Any]) -> dict[str, list[tuple[int, int]]]:
    """Lines each request shows, by path: an excerpt's numbered lines, and fact lines."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for req in data["requests"]:
        path = None  # the excerpt being read: its body runs to the next blank line
        for text in req["prompt"].splitlines():
            head = _EXCERPT.match(text)
            if head:
                path = head.group(1)
            elif not text.strip():
                path = None
            elif path and (num := _NUMBERED.match(text)):
                spans.setdefault(path, []).append((int(num.group(1)), int(num.group(1))))
        for m in _FACT_LINE.finditer(req["prompt"]):
            line = int(m.group(2))
            spans.setdefault(m.group(1), []).append((line, line))
    return spans


def present(spans: dict[str, list[tuple[int, int]]], path: str, line: int) -> bool:
    return any(a <= line + WINDOW and b >= line - WINDOW for a, b in spans.get(path, []))


def source_tokens(root: Path) -> tuple[int, int]:
    """(files the walk keeps, tokens of its code and template files)."""
    files = walk(root).files
    total = 0
    for f in files:
        if detect_language(f) in ("python", "javascript", "typescript", "tsx", "jsx") or (
            f.endswith(_SOURCE_EXT)
        ):
            try:
                total += count_tokens((root / f).read_text(errors="replace"))
            except OSError:
                continue
    return len(files), total


def marker_labels(root: Path) -> list[tuple[str, int]]:
    out = []
    for f in walk(root).files:
        if detect_language(f) is None or "/test" in f or f.startswith("test"):
            continue
        try:
            lines = (root / f).read_text(errors="replace").splitlines()
        except OSError:
            continue
        out += [(f, i) for i, text in enumerate(lines, 1) if _MARKER.search(text)]
    return out


# The sink line of a BenchmarkPython case by its category (the expectedresults CSV's second
# column): the call the category's vulnerability is about, as the cases write it.
_BENCH_SINK = {
    "cmdi": r"subprocess\.\w+\(|os\.(?:system|popen)\(",
    "codeinj": r"\b(?:eval|exec)\(",
    "deserialization": r"yaml\.load\(|pickle\.loads?\(|marshal\.loads?\(|jsonpickle\.decode\(",
    "hash": r"hashlib\.\w+\(",
    "ldapi": r"\.search\(",
    "pathtraver": r"\bopen\(|os\.(?:remove|unlink|listdir)\(|send_file\(|shutil\."
    r"|\.(?:exists|read_text|read_bytes)\(",
    "redirect": r"redirect\(",
    "securecookie": r"set_cookie\(",
    "sqli": r"\.execute\w*\(",
    "trustbound": r"session\[",
    "weakrand": r"random\.\w+\(",
    "xpathi": r"\.xpath\(|\bXPath\(",
    "xxe": r"\bparse(?:String)?\(|fromstring\(",
}
# `request.form...`, or the request handed to a wrapper (`request_wrapper(request)`).
_REQUEST_READ = re.compile(r"^(?!\s*(?:import|from)\s).*\brequest\b(?!\.path\b)")


def bench_cases(root: Path, step: int) -> list[tuple[str, int, int]]:
    """(file, request-read line, sink line) of sampled true cases 00001-00899."""
    out = []
    with (root / "expectedresults-0.1.csv").open() as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    true = [(r[0], r[1].strip()) for r in rows if r[2].strip() == "true" and int(r[0][-5:]) <= 899]
    for name, category in true[::step]:
        path = f"testcode/{name}.py"
        # By lines, not ast: a third of the cases use Python 3.12 f-strings.
        lines = (root / path).read_text().splitlines()
        # The case's last route handler (POST, where the request data is used) to the end.
        heads = [i for i, t in enumerate(lines, 1) if t.lstrip().startswith("@app.route")]
        if not heads:
            continue
        body = list(enumerate(lines, 1))[heads[-1] :]
        read = next((i for i, t in body if _REQUEST_READ.search(t)), None)
        sink_re = re.compile(_BENCH_SINK.get(category, r"^\s*return\b"))
        after = [(i, t) for i, t in body if read is not None and i >= read]
        sink = next((i for i, t in after if sink_re.search(t)), None)
        if category == "xss":  # the response the request data is written into
            sink = max((i for i, t in after if t.strip().startswith("return")), default=None)
        if read is None or sink is None:
            print(f"    {path}: no request read or {category} sink line found; left out")
            continue
        out.append((path, read, sink))
    return out


def report(name: str, root: Path, labels: list[tuple[str, int]], cases: Any = ()) -> None:
    data = plan(root)
    spans = quoted(data)
    files, src = source_tokens(root)
    hit = [lab for lab in labels if present(spans, *lab)]
    if cases:
        labels = [(p, a) for p, a, _b in cases]
        hit = [(p, a) for p, a, b in cases if present(spans, p, a) and present(spans, p, b)]
    sent = data["input_tokens"]
    prefix = data["prefix_tokens"]
    share = len(hit) / len(labels) if labels else 0.0
    print(
        f"{name:<22} files {files:>5}  lines present {len(hit):>3}/{len(labels):<3} "
        f"({share:6.1%})  tokens sent {sent:>8,} / source {src:>9,} = {sent / max(src, 1):5.2f}"
        f"  requests {len(data['requests']):>3}  fixed/call {data['fixed_tokens_per_call']:,}"
        f"  prefix {prefix:,} ({'cached from call 2' if prefix >= 1024 else 'too short to cache'})"
    )
    for lab in labels:
        if lab not in hit:
            print(f"    missing {lab[0]}:{lab[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True, help="folder of OWNER+NAME checkouts")
    ap.add_argument("--bench-step", type=int, default=10, help="BenchmarkPython sample step")
    ap.add_argument(
        "--bench-root",
        type=Path,
        help="BenchmarkPython checkout to plan (default: the corpus's); e.g. a copy holding only "
        "cases 00001-00899 with their templates, which plans in a minute, not an hour",
    )
    args = ap.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    for app in manifest["apps"]:
        root = args.corpus / app["repo"].replace("/", "+")
        if root.exists():
            report(app["name"], root, [(lab["path"], lab["line"]) for lab in app["labels"]])
    juice = args.corpus / "juice-shop+juice-shop"
    if juice.exists():
        report("juice-shop (markers)", juice, marker_labels(juice))
    bench = args.bench_root or args.corpus / "OWASP-Benchmark+BenchmarkPython"
    if bench.exists():
        report("BenchmarkPython 1-899", bench, [], bench_cases(bench, args.bench_step))


if __name__ == "__main__":
    main()
