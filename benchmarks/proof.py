"""How long the RLS proof takes on a real PostgreSQL (target: 30 migrations, 20 tables, <= 30 s).

Generates a Supabase project in a temporary folder: ``--tables`` tables (owner-scoped,
public-read, anon-insert and RLS-off kinds in turn, some children of others by foreign key),
spread over ``--migrations`` migrations (the rest rename policies, add columns, create
buckets and storage policies), then runs the proof stage alone and the whole scan. Prints a
Markdown row per size: migrations, tables, statements applied, tables proven, checks run,
proof seconds (server start, shim, migrations, seeding, probes and cleanup) and whole-scan
seconds.

    python benchmarks/proof.py [--migrations 30] [--tables 20] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.measure import table  # noqa: E402
from threatmodel.collect.proof import ProveOptions, prove, sql_projects  # noqa: E402
from threatmodel.config import Settings  # noqa: E402
from threatmodel.scan import ScanOptions, run_scan  # noqa: E402

_POLICIES = (
    'create policy "own {t}" on public.{t} for all to authenticated\n'
    "  using (auth.uid() = user_id) with check (auth.uid() = user_id);\n",
    'create policy "read {t}" on public.{t} for select using (true);\n',
    'create policy "send {t}" on public.{t} for insert to anon with check (true);\n',
    "",
)


def generate(root: Path, migrations: int, tables: int) -> None:
    """A Supabase project with the given numbers of migrations and tables."""
    folder = root / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (root / "supabase" / "config.toml").write_text('project_id = "bench"\n')
    files: list[list[str]] = [[] for _ in range(migrations)]
    for i in range(tables):
        t = f"t{i:02d}"
        parent = f"t{i - 1:02d}" if i % 3 == 2 else None
        ref = f",\n  parent_id uuid references public.{parent} (id)" if parent else ""
        sql = (
            f"create table public.{t} (\n  id uuid primary key default gen_random_uuid(),\n"
            f"  user_id uuid not null references auth.users (id),\n  title text not null,\n"
            f"  status text not null default 'draft' check (status in ('draft', 'done')),\n"
            f"  created_at timestamptz default now(){ref}\n);\n"
        )
        kind = i % 4
        if kind != 3:
            sql += f"alter table public.{t} enable row level security;\n"
        sql += _POLICIES[kind].format(t=t)
        files[i % migrations].append(sql)
    for j in range(tables, migrations):
        t = f"t{(j * 7) % tables:02d}"
        files[j].append(
            f"alter table public.{t} add column if not exists note_{j} text;\n"
            "insert into storage.buckets (id, name, public)"
            f" values ('b{j}', 'b{j}', {j % 2 == 0});\n"
            f'create policy "own files {j}" on storage.objects for select to authenticated\n'
            f"  using (bucket_id = 'b{j}' and owner = auth.uid());\n"
        )
    for n, parts in enumerate(files):
        (folder / f"2024010100{n:04d}_m{n}.sql").write_text("".join(parts) or "select 1;\n")


def measure(migrations: int, tables: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tm-proof-bench-") as tmp:
        root = Path(tmp) / "repo"
        generate(root, migrations, tables)
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        start = time.monotonic()
        outcome = prove(root, sql_projects(root, files), ProveOptions())
        proof_s = time.monotonic() - start
        if outcome.run.status != "proven":
            raise SystemExit(f"proof did not run: {outcome.run.message}")
        proven = [t for p in outcome.projects.values() for t in p.tables.values()]
        settings = Settings(provider=None, cache_dir=Path(tmp) / "cache")
        start = time.monotonic()
        report = run_scan(root, settings, ScanOptions(use_cache=False))
        scan_s = time.monotonic() - start
        return {
            "migrations": migrations,
            "tables": tables,
            "statements": outcome.run.statements,
            "skipped": len(outcome.run.skipped),
            "tables proven": len(proven),
            "checks": sum(len(t.checks) for t in proven),
            "disagreements": len(report.proof.disagreements) if report.proof else 0,
            "proof s": proof_s,
            "scan s": scan_s,
            "target s": 30.0,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--migrations", type=int, default=30)
    ap.add_argument("--tables", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    rows = [measure(args.migrations, args.tables) for _ in range(args.repeat)]
    print(table(rows))


if __name__ == "__main__":
    main()
