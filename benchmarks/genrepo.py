"""Generate a synthetic web-app repository of N source files, in realistic proportions.

Per 100 files: 35 Python (Flask and FastAPI route modules, SQLAlchemy models, services
reading env vars, utilities), 45 TypeScript (Express routers, Next.js route handlers, React
components, utilities), 3 SQL migrations, 17 other (JSON, YAML, Markdown). Files are
60 to 200 lines, like application code. Deterministic for a given N and seed.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

PY_ROUTES = '''"""Routes for {name}."""
import os
from flask import Blueprint, jsonify, request
from .auth import login_required

bp = Blueprint("{name}", __name__, url_prefix="/{name}")
TIMEOUT = int(os.environ.get("{env}", "30"))


@bp.get("/")
@login_required
def list_{name}():
    rows = db.execute("SELECT * FROM {name} WHERE owner = ?", (request.user_id,))
    return jsonify([dict(r) for r in rows])


@bp.post("/<int:item_id>/archive")
def archive_{name}(item_id):
    db.execute("UPDATE {name} SET archived = 1 WHERE id = ?", (item_id,))
    return jsonify(ok=True)
'''

PY_FASTAPI = '''"""API for {name}."""
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

router = APIRouter(prefix="/v1/{name}")


class {cls}In(BaseModel):
    title: str
    body: str


async def current_user(token: str = ""):
    if not token:
        raise HTTPException(status_code=401)
    return token


@router.get("/{{item_id}}")
async def get_{name}(item_id: int, user=Depends(current_user)):
    return {{"id": item_id}}


@router.put("/{{item_id}}")
async def put_{name}(item_id: int, data: {cls}In):
    return {{"id": item_id, **data.dict()}}
'''

PY_MODEL = '''"""Models for {name}."""
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class {cls}(Base):
    __tablename__ = "{name}"
    id = Column(Integer, primary_key=True)
    title = Column(String(200))
    owner_token = Column(String(64))
'''

TS_EXPRESS = """import {{ Router }} from "express";
import {{ requireUser }} from "./auth";

const router = Router();
const LIMIT = Number(process.env.{env} ?? 50);

router.get("/{name}", requireUser, async (req, res) => {{
  const rows = await db.query("select * from {name} where owner = $1", [req.user.id]);
  res.json(rows.slice(0, LIMIT));
}});

router.delete("/{name}/:id", async (req, res) => {{
  await db.query("delete from {name} where id = $1", [req.params.id]);
  res.status(204).end();
}});

export default router;
"""

TS_NEXT = """import {{ NextResponse }} from "next/server";
import {{ getServerSession }} from "next-auth";

export async function GET(req: Request) {{
  const session = await getServerSession();
  if (!session) return NextResponse.json({{ error: "unauthorized" }}, {{ status: 401 }});
  return NextResponse.json({{ items: [], key: process.env.NEXT_PUBLIC_{env} }});
}}

export async function POST(req: Request) {{
  const body = await req.json();
  return NextResponse.json({{ created: body.title }});
}}
"""

TSX_COMPONENT = """import React, {{ useState }} from "react";

type Props = {{ title: string; items: string[] }};

export function {cls}List({{ title, items }}: Props) {{
  const [open, setOpen] = useState(false);
  return (
    <section>
      <h2 onClick={{() => setOpen(!open)}}>{{title}}</h2>
      {{open && <ul>{{items.map((i) => <li key={{i}}>{{i}}</li>)}}</ul>}}
    </section>
  );
}}
"""

UTIL_PY = '''def helper_{i}_{j}(values, factor={j}):
    """Scale and filter values."""
    out = []
    for v in values:
        if v % {mod} == 0:
            out.append(v * factor)
    return sorted(out)

'''

UTIL_TS = """export function helper{i}x{j}(values: number[], factor = {j}): number[] {{
  return values.filter((v) => v % {mod} === 0).map((v) => v * factor).sort((a, b) => a - b);
}}

"""

SQL = """create table public.{name} (
  id bigserial primary key,
  owner uuid not null references auth.users (id),
  title text
);
alter table public.{name} enable row level security;
create policy "{name} owner read" on public.{name}
  for select to authenticated using (auth.uid() = owner);
"""


def _pad(text: str, filler: str, rng: random.Random, i: int, lines: int) -> str:
    j = 0
    while text.count("\n") < lines:
        text += filler.format(i=i, j=j, mod=rng.randint(2, 9))
        j += 1
    return text


def generate(root: Path, n_files: int, seed: int = 7, git: bool = True) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    kinds = (
        ["py_routes"] * 10
        + ["py_fastapi"] * 8
        + ["py_model"] * 7
        + ["py_util"] * 10
        + ["ts_express"] * 12
        + ["ts_next"] * 8
        + ["tsx"] * 15
        + ["ts_util"] * 10
        + ["sql"] * 3
        + ["json"] * 7
        + ["yaml"] * 4
        + ["md"] * 6
    )
    for i in range(n_files):
        kind = kinds[i % len(kinds)]
        pkg = f"svc{i // 500:03d}"
        name = f"items{i}"
        fields = {"name": name, "cls": f"Item{i}", "env": f"SVC_{i % 97}_TIMEOUT"}
        lines = rng.randint(60, 200)
        if kind == "py_routes":
            path, text = (
                f"{pkg}/api/{name}.py",
                _pad(PY_ROUTES.format(**fields), UTIL_PY, rng, i, lines),
            )
        elif kind == "py_fastapi":
            path, text = (
                f"{pkg}/v1/{name}.py",
                _pad(PY_FASTAPI.format(**fields), UTIL_PY, rng, i, lines),
            )
        elif kind == "py_model":
            path, text = (
                f"{pkg}/models/{name}.py",
                _pad(PY_MODEL.format(**fields), UTIL_PY, rng, i, lines),
            )
        elif kind == "py_util":
            path, text = f"{pkg}/lib/util{i}.py", _pad("", UTIL_PY, rng, i, lines)
        elif kind == "ts_express":
            path, text = (
                f"web{pkg}/routes/{name}.ts",
                _pad(TS_EXPRESS.format(**fields), UTIL_TS, rng, i, lines),
            )
        elif kind == "ts_next":
            path = f"web{pkg}/app/api/{name}/route.ts"
            text = _pad(TS_NEXT.format(**fields), UTIL_TS, rng, i, lines)
        elif kind == "tsx":
            path, text = (
                f"web{pkg}/components/{name}.tsx",
                _pad(TSX_COMPONENT.format(**fields), UTIL_TS, rng, i, lines),
            )
        elif kind == "ts_util":
            path, text = f"web{pkg}/lib/util{i}.ts", _pad("", UTIL_TS, rng, i, lines)
        elif kind == "sql":
            path, text = f"supabase/migrations/{i:07d}_{name}.sql", SQL.format(**fields)
        elif kind == "json":
            path, text = (
                f"{pkg}/data/{name}.json",
                '{"name": "' + name + '", "values": [1, 2, 3]}\n',
            )
        elif kind == "yaml":
            path, text = f"{pkg}/config/{name}.yml", f"name: {name}\nreplicas: 2\n"
        else:
            path, text = f"docs/{pkg}/{name}.md", f"# {name}\n\nNotes about {name}.\n"
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if git:
        run = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
        run("init", "-q", "-b", "main")
        run("add", "-A")
        run("-c", "user.email=b@example.com", "-c", "user.name=bench", "commit", "-q", "-m", "gen")
    return root
