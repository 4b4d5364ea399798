"""Host pins in JS/TS (``dataflow/jspin.py``): an exact test of ``new URL(x)``'s host against
constants breaks an ssrf / open-redirect flow of ``x``, inline or through a repository
function (in another file); substring tests, ignored results and request-built sets do not."""

from __future__ import annotations

from js_support import js_flows

from threatmodel.models import Flow

INLINE = """\
const HOSTS = new Set(['api.example.com', 'api2.example.com'])

export async function handler (req, res) {
  const x = req.query.url
  const u = new URL(x)
  if (!HOSTS.has(u.hostname)) return res.end()
  const r = await fetch(x)
  res.json(await r.json())
}
"""

LIB = """\
const HOSTS = new Set(['api.example.com', 'api2.example.com'])

export function ok (url: string): boolean {
  try {
    const p = new URL(url)
    return p.protocol === 'https:' && HOSTS.has(p.hostname)
  } catch {
    return false
  }
}

export function loose (url: string): boolean {
  try {
    const p = new URL(url)
    return p.hostname.endsWith('example.com')
  } catch {
    return false
  }
}
"""

CALLER = """\
import { {check} } from './lib'

async function download (url: string) {
  const r = await fetch(url)
  return r.text()
}

export async function verify (req) {
  const x = req.headers.get('cert-url')
  if (!x) return false
  if (!{check}(x)) {
    return false
  }
  return download(x)
}
"""


def _ssrf(flows: list[Flow]) -> list[Flow]:
    return [f for f in flows if f.claim == "ssrf"]


def test_inline_host_pin_breaks_ssrf() -> None:
    flows = _ssrf(js_flows({"api/h.js": INLINE}))
    assert flows and all(f.broken_by for f in flows)


def test_function_host_pin_breaks_ssrf_across_files() -> None:
    flows = _ssrf(js_flows({"lib.ts": LIB, "route.ts": CALLER.replace("{check}", "ok")}))
    assert flows and all(f.broken_by for f in flows), flows


def test_same_file_function_pin() -> None:
    text = LIB + CALLER.replace("{check}", "ok").split("\n", 1)[1]
    flows = _ssrf(js_flows({"route.ts": text}))
    assert flows and all(f.broken_by for f in flows), flows


def test_suffix_check_stays_a_flow() -> None:
    flows = _ssrf(js_flows({"lib.ts": LIB, "route.ts": CALLER.replace("{check}", "loose")}))
    assert any(f.broken_by is None for f in flows)


def test_inline_suffix_and_ignored_result_stay_flows() -> None:
    suffix = INLINE.replace("!HOSTS.has(u.hostname)", "!u.hostname.endsWith('example.com')")
    assert any(f.broken_by is None for f in _ssrf(js_flows({"api/h.js": suffix})))
    ignored = INLINE.replace(
        "if (!HOSTS.has(u.hostname)) return res.end()", "HOSTS.has(u.hostname)"
    )
    assert any(f.broken_by is None for f in _ssrf(js_flows({"api/h.js": ignored})))


def test_request_built_set_is_no_allow_list() -> None:
    text = INLINE.replace(
        "if (!HOSTS.has(u.hostname))", "if (!new Set(req.body.hosts).has(u.hostname))"
    )
    assert any(f.broken_by is None for f in _ssrf(js_flows({"api/h.js": text})))


REDIRECT = """\
export function go (req, res) {
  const to = req.query.to
  if (new URL(to).origin === 'https://app.example.com') {
    res.redirect(to)
  }
}
"""


def test_origin_equality_breaks_open_redirect() -> None:
    flows = [f for f in js_flows({"r.js": REDIRECT}) if f.claim == "open_redirect"]
    assert flows and all(f.broken_by for f in flows), flows
    based = REDIRECT.replace("new URL(to)", "new URL(to, 'https://app.example.com')")
    flows = [f for f in js_flows({"r.js": based}) if f.claim == "open_redirect"]
    assert any(f.broken_by is None for f in flows)
