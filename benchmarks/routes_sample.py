"""Draw a seeded random sample of routes for hand-checking (the census's ``sample`` oracle).

Usage::

    .venv/bin/python benchmarks/routes_sample.py --dump DIR --app NAME [--seed N] [--n 25]
        [--method-prefix QUERY,MUTATION]

Draws from the app's route table in the manifest when it has one (so "found" is measured
against routes the framework really serves), else from the routes the collectors found
(``routes.py --dump DIR`` writes them): then the sample measures auth only. Prints one line
per route with what the tool says and where, for a person to check against the code; the
checked rows go into the manifest's ``sample`` with the seed recorded in ``sample_seed``.
Rows already in the sample are skipped.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.routes import MANIFEST, norm_path, route_for
from threatmodel.models import Route


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", type=Path, required=True)
    ap.add_argument("--app", required=True)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--n", type=int, default=25)
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--method-prefix", default="", help="only these methods (comma-separated)")
    args = ap.parse_args(argv)
    app = next(a for a in json.loads(args.manifest.read_text())["apps"] if a["name"] == args.app)
    facts = [
        Route.model_validate(r) for r in json.loads((args.dump / f"{args.app}.json").read_text())
    ]
    by_key = {(r.method, r.path): r for r in facts}
    mounts = [norm_path(x) for x in app["oracle"].get("mounts", [])]
    have = {(s["method"], norm_path(s["path"])) for s in app["oracle"].get("sample", [])}
    if "table" in app["oracle"]:
        pool = sorted({(m.upper(), norm_path(p)) for m, p, *_ in app["oracle"]["table"]})
    else:
        pool = sorted(by_key)
    pool = [k for k in pool if k[0] not in ("HEAD", "OPTIONS") and k not in have]
    if args.method_prefix:
        pool = [k for k in pool if k[0] in args.method_prefix.split(",")]
    rng = random.Random(args.seed)
    for key in rng.sample(pool, min(args.n, len(pool))):
        r = route_for(facts, key, mounts)
        if r is None:
            print(f"{key[0]} {key[1]}\tMISSING")
            continue
        loc = f"{r.location.path}:{r.location.line}"
        print(f"{key[0]} {key[1]}\t{r.auth.status.value}\t{r.auth.mechanism}\t{loc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
