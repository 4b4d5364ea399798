"""A Next.js + Supabase app read the way its code runs (round 9, on an unseen chat app):

- a client component's writes run in the browser, under the visitor's own session: the page
  route writes nothing (TM101) and spends nothing (TM121);
- a Supabase query's filter value picks rows, it is not their content: a path read from the
  row is stored data, not the request's;
- a ``storage.objects`` policy scoped to a bucket opens that bucket, not the table, and
  reading a bucket that is public anyway is TM104's finding, not a second one;
- the Supabase CLI's published local keys (``"iss": "supabase-demo"``) are no secret.

The apps are written here for these tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from js_support import js_flows

from tests.test_precision import by_rule, scan
from threatmodel.code.reader import RepoReader
from threatmodel.code.secret_values import find_tokens
from threatmodel.models import Bucket, Facts, Location, Policy, Table
from threatmodel.rules.interface import RuleContext
from threatmodel.rules.permissive_policy import PermissiveRlsPolicy

CLIENT_PAGE = """\
"use client"

import { saveDraft } from "@/db/drafts"

export default function DraftPage() {
  return <button onClick={() => saveDraft({ text: "hi" })}>Save</button>
}
"""
DRAFTS = """\
import { supabase } from "@/lib/browser-client"

export const saveDraft = async (draft: { text: string }) => {
  const { data } = await supabase.from("drafts").insert(draft).select("*").single()
  return data
}
"""


def test_a_client_pages_writes_are_the_browsers(tmp_path: Path) -> None:
    report = scan(
        tmp_path,
        {
            "package.json": '{"dependencies": {"next": "14.1.0"}}',
            "next.config.js": "module.exports = {}\n",
            "tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./*"]}}}',
            "app/drafts/page.tsx": CLIENT_PAGE,
            "db/drafts.ts": DRAFTS,
            "lib/browser-client.ts": "export const supabase: any = {}\n",
        },
    )
    assert [r.path for r in report.facts.routes] == ["/drafts"], report.facts.routes
    assert by_rule(report, "TM101") == []


def test_a_filter_value_is_not_the_rows_content() -> None:
    text = """
        import { createClient } from "@supabase/supabase-js"
        export async function POST(req: Request) {
          const admin = createClient(process.env.URL!, process.env.KEY!)
          const id = (await req.formData()).get("id") as string
          const { data: meta } = await admin.from("files").select("*").eq("id", id).single()
          await admin.storage.from("files").download(meta.file_path)
          await admin.storage.from("files").download(id)
          return new Response("ok")
        }
    """
    flows = [f for f in js_flows({"app/api/f/route.ts": text}) if f.claim == "path_traversal"]
    kinds = {(f.sink_location.line, f.source_kind) for f in flows}
    # the stored path is the database's; the request's own value is the request's
    assert kinds == {(7, "database"), (8, "request")}


def _storage(*buckets: Bucket) -> Facts:
    policy = Policy(
        name="read avatars",
        command="SELECT",
        using="(bucket_id = 'avatars'::text)",
        permissive=True,
        location=Location(path="supabase/migrations/1_init.sql", line=3),
    )
    table = Table(
        name="storage.objects",
        source="sql",
        rls_enabled=True,
        policies=[policy],
        location=Location(path="supabase/migrations/1_init.sql", line=1),
    )
    return Facts(tables=[table], buckets=list(buckets))


def test_a_bucket_scoped_policy_names_its_bucket(tmp_path: Path) -> None:
    loc = Location(path="supabase/migrations/1_init.sql", line=2)
    ctx = RuleContext(root=tmp_path, reader=RepoReader(tmp_path))
    rule = PermissiveRlsPolicy()
    # a public bucket: every object is readable by its URL anyway (TM104 says so)
    assert rule.check(_storage(Bucket(name="avatars", public=True, location=loc)), ctx) == []
    (finding,) = rule.check(_storage(Bucket(name="avatars", public=False, location=loc)), ctx)
    assert finding.title == 'Policy "read avatars" lets anyone read every object of bucket ' + (
        "avatars (storage.objects)"
    )


def _jwt(payload: dict[str, str]) -> str:
    def part(d: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc"


def test_the_local_stacks_published_keys_are_no_secret() -> None:
    demo = _jwt({"iss": "supabase-demo", "role": "service_role"})
    real = _jwt({"iss": "supabase", "ref": "abcdefgh", "role": "service_role"})
    found = {value for kind, _, value in find_tokens(f"a = '{demo}'\nb = '{real}'\n")}
    assert real in found and demo not in found
