"""Per-field taint for JS/TS objects that cross a call (issue 18): a function returning
``{...row, key: input}`` taints only ``key``; a reader of ``.url`` or ``{ url }`` (directly,
or through another function that destructures its parameter) gets ``url``'s labels and the
spread's, not the request key's. An object passed to a function outside the repository
stays whole: what that function moves between fields is not known."""

from __future__ import annotations

from js_support import js_flows

from threatmodel.dataflow.proof import proves

FILES = {
    "lib/db/get-link.ts": """\
        import { conn } from './connection'
        import { decodeKey } from './keys'
        const getLinkHelper = async ({ domain, key }: { domain: string; key: string }) => {
          const { rows } = (await conn.execute('SELECT * FROM Link WHERE key = ?', [key])) || {}
          if (!rows || rows.length === 0) return null
          const link = rows[0]
          return {
            ...link,
            key: decodeKey({ domain, key }),
          }
        }
        export const getLink = async ({ domain, key }: { domain: string; key: string }) => {
          const pending = getLinkHelper({ domain, key }).finally(() => {})
          return await pending
        }
        """,
    "lib/db/keys.ts": """\
        export function decodeKey({ domain, key }: { domain: string; key: string }) {
          return domain.endsWith('.x') ? decodeURIComponent(key) : key
        }
        """,
    "lib/format.ts": """\
        export function formatLink(link: any) {
          const { id, url, expiredUrl, key } = link
          return {
            id,
            ...(url && { url }),
            ...(expiredUrl && { expiredUrl }),
            key,
          }
        }
        """,
    "middleware.ts": """\
        import { NextRequest, NextResponse } from 'next/server'
        import { getLink } from './lib/db/get-link'
        import { formatLink } from './lib/format'
        export async function GET(req: NextRequest) {
          const key = req.nextUrl.searchParams.get('k')
          const found = await getLink({ domain: 'a', key })
          const cached = formatLink(found)
          const { expiredUrl, url } = cached
          if (expiredUrl) return NextResponse.redirect(expiredUrl)
          if (found.url) return NextResponse.redirect(found.url)
          if (cached.key) return NextResponse.redirect(cached.key)
          const copy = structuredClone(found)
          if (copy.url) return NextResponse.redirect(copy.url)
          return NextResponse.redirect(url)
        }
        """,
}


def _request_lines(files: dict[str, str], path: str) -> set[int]:
    return {
        f.sink_location.line
        for f in js_flows(files)
        if proves(f) and f.sink_location.path == path and f.source_kind == "request"
    }


def test_a_field_read_gets_that_fields_labels_through_calls() -> None:
    lines = _request_lines(FILES, "middleware.ts")
    # 9, 10, 14: the stored row's urls (through formatLink's destructured parameter, a
    # direct read, a destructuring); 11: the request key itself, carried field by field;
    # 13: an object a package function returned stays whole, so its url may be the key
    assert lines == {11, 13}


def test_a_parameters_field_reaches_a_sink_in_the_callee() -> None:
    files = {
        "lib/run.ts": """\
            import { exec } from 'child_process'
            export function run(opts: any) {
              const { cmd } = opts
              exec(cmd)
              exec(opts.other.cmd)
              ;[1].forEach(() => exec(opts.cmd))
            }
            """,
        "app/route.ts": """\
            import { NextRequest } from 'next/server'
            import { run } from '../lib/run'
            export async function POST(req: NextRequest) {
              const body = await req.json()
              run(body)
              return new Response('ok')
            }
            """,
    }
    lines = _request_lines(files, "lib/run.ts")
    # 6: a callback reaching a sink with its parent's parameter's field (a closure)
    assert lines == {4, 5, 6}


def test_a_returned_objects_field_is_its_own_labels_not_its_siblings() -> None:
    files = {
        "lib/pick.ts": """\
            export function split(input: string) {
              return { raw: input, safe: '/home' }
            }
            export function wrap(input: string) {
              return split(input)
            }
            """,
        "app/route.ts": """\
            import { NextRequest, NextResponse } from 'next/server'
            import { wrap } from '../lib/pick'
            export async function GET(req: NextRequest) {
              const got = wrap(req.nextUrl.searchParams.get('to'))
              if (got.safe) return NextResponse.redirect(got.safe)
              const { raw } = got
              return NextResponse.redirect(raw)
            }
            """,
    }
    assert _request_lines(files, "app/route.ts") == {7}


def test_fields_are_followed_four_calls_deep() -> None:
    files = {
        **FILES,
        "lib/cache.ts": """\
            import { getLink } from './db/get-link'
            import { formatLink } from './format'
            class LinkCache {
              async get({ domain, key }: { domain: string; key: string }) {
                const found = await getLink({ domain, key })
                return formatLink(found)
              }
            }
            export const linkCache = new LinkCache()
            """,
        "app/route.ts": """\
            import { NextRequest, NextResponse } from 'next/server'
            import { linkCache } from '../lib/cache'
            export async function GET(req: NextRequest) {
              const key = req.nextUrl.searchParams.get('k')
              const { expiredUrl, key: same } = await linkCache.get({ domain: 'a', key })
              if (same) return NextResponse.redirect(same)
              return NextResponse.redirect(expiredUrl)
            }
            """,
    }
    assert _request_lines(files, "app/route.ts") == {6}


def test_an_object_literal_passed_keeps_its_fields() -> None:
    files = {
        "lib/run.ts": """\
            import { exec } from 'child_process'
            export function one(opts: any) { exec(opts.cmd) }
            export function two({ cmd, extra }: any) { exec(cmd) }
            export function three(opts: any) { exec(opts.cmd) }
            export function four(opts: any) { exec(opts.cmd) }
            export function five(opts: any) { exec(opts.cmd) }
            """,
        "app/route.ts": """\
            import { NextRequest } from 'next/server'
            import { one, two, three, four, five } from '../lib/run'
            export async function POST(req: NextRequest) {
              const body = await req.json()
              one({ cmd: 'ls', note: body.note })
              two({ cmd: 'ls', extra: body.extra })
              three({ ...body, cmd: 'ls' })
              four({ note: 'x', ...body })
              five({ cmd: body.cmd })
              return new Response('ok')
            }
            """,
    }
    # 2-4: ``cmd`` is a constant in the literal passed (a later key overrides a spread);
    # 5: a spread of the body that names no ``cmd`` of its own; 6: the client's ``cmd``
    assert _request_lines(files, "lib/run.ts") == {5, 6}
