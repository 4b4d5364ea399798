"""Module-level singletons in JS/TS: ``export const cache = new Cache()`` exposes the class's
methods to other files (``cache.get()`` is ``Cache.get``), and a lookup on an instance of a
package's class (``export const redis = new Redis()``) returns what is stored, not the key."""

from __future__ import annotations

from js_support import js_flows

from threatmodel.dataflow.proof import proves

FILES = {
    "lib/upstash.ts": """\
        import { Redis } from '@upstash/redis'
        export const redis = new Redis({ url: process.env.URL })
        """,
    "lib/cache.ts": """\
        import { redis } from './upstash'
        class LinkCache {
          async get({ domain, key }: { domain: string, key: string }) {
            return await redis.get(`link:${domain}:${key}`)
          }
          echo (x: string) { return x }
        }
        export const linkCache = new LinkCache()
        """,
    "app/route.ts": """\
        import { NextRequest, NextResponse } from 'next/server'
        import { linkCache } from '../lib/cache'
        import { redis } from '../lib/upstash'
        export async function GET(req: NextRequest) {
          const key = req.nextUrl.searchParams.get('k')
          const link = await linkCache.get({ domain: 'a', key })
          const direct = await redis.get(key)
          const written = await redis.set(key, 'x')
          const back = linkCache.echo(key)
          if (link) return NextResponse.redirect(link.url)
          if (direct) return NextResponse.redirect(direct)
          if (written) return NextResponse.redirect(written)
          return NextResponse.redirect(back)
        }
        """,
}


def test_singleton_methods_resolve_and_lookups_return_what_is_stored() -> None:
    lines = {f.sink_location.line for f in js_flows(FILES) if proves(f)}
    # 10: a stored link found by the key; 11: a stored value; 12: a write's answer is not
    # known to be clean (an unknown method passes its input on); 13: echo returns its input
    assert lines == {12, 13}


def test_a_star_reexport_carries_an_objects_methods() -> None:
    files = {
        **FILES,
        "lib/store/redis.ts": FILES["lib/upstash.ts"],
        "lib/store/index.ts": "export * from './redis'\n",
        "app/other.ts": """\
            import { NextRequest, NextResponse } from 'next/server'
            import { redis } from '../lib/store'
            export async function GET(req: NextRequest) {
              const found = await redis.get(req.nextUrl.searchParams.get('k'))
              return NextResponse.redirect(found)
            }
            """,
    }
    assert not [f for f in js_flows(files) if proves(f) and f.sink_location.path == "app/other.ts"]


def test_a_lookup_on_a_client_an_exported_object_holds_returns_what_is_stored() -> None:
    files = {
        "lib/store.ts": """\
            import { createClient } from 'redis'
            function connect() { return createClient({ url: process.env.URL }) }
            const client = globalThis.store || connect()
            export default { client, enabled: true }
            """,
        "app/q/route.ts": """\
            import { NextResponse } from 'next/server'
            import store from '../../lib/store'
            export async function GET(req: Request, { params }: { params: { slug: string } }) {
              const { slug } = params
              const link = await store.client.fetch(`link:${slug}`, async () => null, 60)
              if (link) return NextResponse.redirect(link.url)
              const sent = await store.client.publish(slug)
              return NextResponse.redirect(sent)
            }
            """,
    }
    # 6: what the key found; 8: an unknown method passes its input on
    lines = {f.sink_location.line for f in js_flows(files) if proves(f)}
    assert lines == {8}


def test_a_lookup_through_a_root_alias_import_returns_what_is_stored() -> None:
    files = {
        "src/lib/upstash.ts": FILES["lib/upstash.ts"],
        "src/app/route.ts": """\
            import { NextRequest, NextResponse } from 'next/server'
            import { redis } from '@/lib/upstash'
            export async function GET(req: NextRequest) {
              const key = req.nextUrl.searchParams.get('k')
              const found = await redis.get(`link:${key}`)
              if (found) return NextResponse.redirect(found)
              return NextResponse.redirect(await redis.publish(key))
            }
            """,
    }
    # 6: what the key found; 7: an unknown method passes its input on
    assert {f.sink_location.line for f in js_flows(files) if proves(f)} == {7}
