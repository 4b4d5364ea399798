"""Route census: the routes the collectors find in real apps, against an oracle per app.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python benchmarks/routes.py --corpus DIR [--manifest FILE] [--app NAME ...]

``DIR`` holds one checkout per app, named ``OWNER+NAME`` (``CTFd+CTFd``), at the commit the
manifest pins (the apps' code is never committed here). The manifest
(``benchmarks/routes_manifest.json``) lists each app and its oracle:

- ``table``: the framework's own route table, dumped from the app installed in a scratch
  virtualenv (Flask ``url_map``, FastAPI ``app.routes``, Django's resolver, Express's router
  stack): ``[[METHOD, PATH], ...]``; ``ANY`` matches every method. Gives found and invented.
  A row may carry a third element, the auth status the framework's own data implies (FastAPI:
  from each route's dependant tree): then "table auth" counts the found routes that agree.
  ``mounts``: path prefixes whose pages the framework generates behind one mount the facts
  model as one route (``admin.site.urls`` is ``ANY /admin/``): a table row under a mount is
  found when the facts have the mount.
- ``count``: the number of routes an earlier, checked run found (no regression).
- ``sample``: routes checked by reading the code, each ``{method, path, auth, where}`` with
  ``where`` the ``file:line`` that decides (and ``file``, the route's own file, when routes
  of several hosts share the path). Gives found (of the sample) and auth right.

An app may have a table and a sample. Paths compare after the collectors' own normalisation
(``<int:id>``, ``(?P<id>...)`` and ``:id`` all become ``{id}``). Prints a Markdown table, one
row per app, then one per framework the apps are listed under (found, invented, auth
right), then one per framework that declared the routes (``Route.framework``: Flask, RESTX,
DRF, GraphQL, Express... each its own row): routes, ``unknown`` share, sample rows right.
``--manifest`` repeats (the Python and the JS manifest in one run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from threatmodel.code.pyast import normalize_angle, normalize_brace, normalize_regex
from threatmodel.code.walk import DEFAULT_MAX_FILE_BYTES, walk
from threatmodel.collect import collect_facts
from threatmodel.models import Route

MANIFEST = Path(__file__).resolve().parent / "routes_manifest.json"


def norm_path(path: str) -> str:
    """An oracle's path in the facts' spelling."""
    if path.startswith("action:") or path == "*":
        return path  # a Next.js server action (action:<file>#<function>); a catch-all "*"
    if any(c in path for c in "^$(") or "\\" in path:
        path = normalize_regex(path)
    path = normalize_brace(normalize_angle(path))
    if ":" in path:  # Express / Koa ``/users/:id``
        path = "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in path.split("/"))
    return "/" + path.lstrip("/")


def collect(root: Path) -> list[Route]:
    walked = walk(root, DEFAULT_MAX_FILE_BYTES)
    return list(collect_facts(root, walked.files, cache=None, jobs=2).facts.routes)


def _matches(method: str, path: str, routes: set[tuple[str, str]]) -> bool:
    if method == "ANY":
        return any(p == path for _m, p in routes)
    return (method, path) in routes or ("ANY", path) in routes


def route_for(routes: list[Route], key: tuple[str, str], mounts: list[str]) -> Route | None:
    """The route fact that serves ``(method, path)``: the same method, else ``ANY``, else (for
    ``ANY`` in an oracle) any method on that path; under a mount, the mount's route."""
    method, path = key
    mount = next((m for m in mounts if path.startswith(m)), None)
    if mount:
        path, method = mount, "ANY"
    by_route = {(r.method, r.path): r for r in routes}
    hit = by_route.get((method, path)) or by_route.get(("ANY", path))
    if hit is None and method == "ANY":
        hit = next((r for r in routes if r.path == path), None)
    return hit


def score(app: dict[str, Any], routes: list[Route]) -> dict[str, Any]:
    """One app's row: routes, found, invented, auth right, unknown share."""
    oracle = app["oracle"]
    facts = {(r.method, r.path) for r in routes if r.method not in ("HEAD", "OPTIONS")}
    row: dict[str, Any] = {"app": app["name"], "routes": len(facts)}
    unknown = sum(1 for r in routes if r.auth.status.value == "unknown")
    row["unknown"] = f"{unknown}/{len(routes)}"
    if "table" in oracle:
        table = {(m.upper(), norm_path(p)) for m, p, *_ in oracle["table"]}
        table = {t for t in table if t[0] not in ("HEAD", "OPTIONS")}
        mounts = [norm_path(x) for x in oracle.get("mounts", [])]

        def found(m: str, p: str) -> bool:
            mount = next((x for x in mounts if p.startswith(x)), None)
            return _matches("ANY", mount, facts) if mount else _matches(m, p, facts)

        row["found"] = f"{sum(found(m, p) for m, p in table)}/{len(table)}"
        row["invented"] = sum(1 for m, p in facts if not _matches(m, p, table))
        graded = [(m.upper(), norm_path(p), a) for m, p, *rest in oracle["table"] for a in rest]
        if graded:
            status = {(r.method, r.path): r.auth.status.value for r in routes}
            got = [status.get((m, p), status.get(("ANY", p))) for m, p, _a in graded]
            right = sum(g == a for g, (_m, _p, a) in zip(got, graded, strict=True))
            row["table auth"] = f"{right}/{sum(g is not None for g in got)}"
    elif "count" in oracle:
        row["found"] = f"{len(routes)}/{oracle['count']}"  # every route fact, as counted
    if "sample" in oracle:
        # pages of different hosts (Next.js host folders) share a path: "file" picks one
        by_file = {(r.method, r.path, r.location.path): r for r in routes}
        hits = right = 0
        misses: list[str] = []
        graded: list[tuple[str, bool]] = []  # (framework of the route, auth right) per row
        for s in oracle["sample"]:
            key = (s["method"], norm_path(s["path"]))
            r = by_file.get((*key, s["file"])) if "file" in s else None
            r = r or route_for(routes, key, [norm_path(x) for x in oracle.get("mounts", [])])
            hits += r is not None
            ok = r is not None and r.auth.status.value == s["auth"]
            graded.append((r.framework if r else app["frameworks"][0], ok))
            if ok:
                right += 1
            else:
                said = r.auth.status.value if r else "missing"
                misses.append(f"{key[0]} {key[1]}: {said}, expected {s['auth']} ({s['where']})")
        n = len(oracle["sample"])
        row["sample found"] = f"{hits}/{n}"
        row["auth right"] = f"{right}/{n}"
        row["misses"] = misses
        row["graded"] = graded
    return row


def by_framework(routes: list[Route], row: dict[str, Any], acc: dict[str, dict[str, int]]) -> None:
    """Add one app's routes (by the framework that declared each) and graded sample rows."""
    for r in routes:
        a = acc.setdefault(r.framework, defaultdict(int))
        a["routes"] += 1
        a["unknown"] += r.auth.status.value == "unknown"
    for fw, ok in row.get("graded", []):
        a = acc.setdefault(fw, defaultdict(int))
        a["checked"] += 1
        a["right"] += ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True, help="folder of OWNER+NAME checkouts")
    ap.add_argument(
        "--manifest", type=Path, action="append", help="repeatable; default: the Python one"
    )
    ap.add_argument("--app", action="append", help="only these apps (by name)")
    ap.add_argument("--verbose", action="store_true", help="list the sample's misses")
    ap.add_argument("--dump", type=Path, help="write each app's routes to DIR/<app>.json")
    args = ap.parse_args(argv)
    apps = [a for m in args.manifest or [MANIFEST] for a in json.loads(m.read_text())["apps"]]
    acc: dict[str, dict[str, int]] = {}
    cols = ["app", "framework", "commit", "routes", "found", "invented", "sample found"]
    cols += ["auth right", "table auth", "unknown"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    per_fw: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for app in apps:
        if args.app and app["name"] not in args.app:
            continue
        root = args.corpus / app["repo"].replace("/", "+") / app.get("root", "")
        if not root.is_dir():
            print(f"| {app['name']} | not found at {root} |", file=sys.stderr)
            continue
        routes = collect(root)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            rows = [r.model_dump(mode="json") for r in routes]
            (args.dump / f"{app['name']}.json").write_text(json.dumps(rows, indent=1))
        row = score(app, routes)
        by_framework(routes, row, acc)
        row["framework"] = ",".join(app["frameworks"])
        row["commit"] = app["commit"][:10]
        print("| " + " | ".join(str(row.get(c, "n/a")) for c in cols) + " |")
        if args.verbose:
            for m in row.get("misses", []):
                print(f"|   miss: {m} |")
        per_fw[row["framework"]].append(row)
    print("\n| framework | apps | found | invented | auth right | table auth |")
    print("|---|---|---|---|---|---|")
    for fw, rows in sorted(per_fw.items()):
        print(
            f"| {fw} | {len(rows)} | {_sum(rows, 'found')} | {_total(rows)} | "
            f"{_sum(rows, 'auth right')} | {_sum(rows, 'table auth')} |"
        )
    print("\n| route framework | routes | unknown | sample auth right |")
    print("|---|---|---|---|")
    for fw, a in sorted(acc.items()):
        unk = f"{a['unknown']} ({100 * a['unknown'] / a['routes']:.1f}%)" if a["routes"] else "0"
        right = f"{a['right']}/{a['checked']}" if a["checked"] else "n/a"
        print(f"| {fw} | {a['routes']} | {unk} | {right} |")
    return 0


def _sum(rows: list[dict[str, Any]], col: str) -> str:
    pairs = [tuple(int(x) for x in r[col].split("/")) for r in rows if col in r]
    if not pairs:
        return "n/a"
    a, b = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return f"{a}/{b} ({100 * a / b:.1f}%)" if b else "n/a"


def _total(rows: list[dict[str, Any]]) -> str:
    vals = [r["invented"] for r in rows if "invented" in r]
    return str(sum(vals)) if vals else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
