"""The Referer header as a redirect target (``jsexpr.previous_page``): the page the browser
comes from, Express's ``res.redirect('back')``, is no open redirect however it is read; the
same header sent elsewhere, or another header, is still input."""

from __future__ import annotations

from js_support import js_flows

APP = """\
const express = require('express')
const app = express()
app.post('/a', (req, res) => res.redirect(req.get('Referrer') || '/'))
app.post('/b', (req, res) => res.redirect(req.headers.referer))
app.post('/c', (req, res) => res.redirect(req.headers['referer']))
app.post('/d', (req, res) => res.redirect(req.get('X-Next')))
app.post('/e', (req, res) => res.send(req.get('Referer')))
"""

NEXT = """\
import { NextResponse } from "next/server";
export async function GET(req: Request) {
  return NextResponse.redirect(req.headers.get("referer") ?? "/");
}
"""


def test_referer_is_the_previous_page_not_an_open_redirect() -> None:
    flows = [f for f in js_flows({"app.js": APP}) if f.source_kind == "request"]
    redirects = {f.sink_location.line: f for f in flows if f.claim == "open_redirect"}
    for line in (3, 4, 5):
        assert redirects[line].broken_by == "the browser's previous page (Referer)"
    assert redirects[6].broken_by is None  # another header: the client chooses it
    xss = [f for f in flows if f.claim == "xss" and f.sink_location.line == 7]
    assert xss and all(f.broken_by is None for f in xss)  # still input elsewhere


def test_referer_from_a_fetch_request_headers() -> None:
    flows = [f for f in js_flows({"app/back/route.ts": NEXT}) if f.claim == "open_redirect"]
    assert flows and all(f.broken_by for f in flows if f.source_kind == "request")
