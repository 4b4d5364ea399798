"""What an ``if`` test tells the JS engine (``dataflow/jsnarrow.py``, ``jsdecide.py``): an
equality with a literal fixes a name or a member expression in its branch; a request's path
starts with '/', so after a fixed host it cannot move the browser; a repository yes/no check
the engine cannot read leaves a flow for review (``Flow.unread_checks``), while a weak
allow-list test keeps it proof and a function answering a string is no check."""

from __future__ import annotations

from js_support import js_flows

from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow

APEX = """\
export default function apex() {
  return async function apexMiddleware(ctx, next) {
    if (ctx.headers.host {op} "example.org") {
      ctx.redirect(`https://www.${ctx.headers.host}${ctx.path}`);
    } else {
      return next();
    }
  };
}
"""

EXPRESS = """\
const express = require('express')
const app = express()
app.get('/a', (req, res) => {
  let to = req.query.to
  if (to !== 'https://docs.example.org/') return res.sendStatus(400)
  res.redirect(to)
})
app.get('/b', (req, res) => {
  let to = req.query.to
  if (to === '/home') {
    to = req.query.other
    res.redirect(to)
  }
})
app.get('/c', (req, res) => res.redirect('https://example.org' + req.path))
app.get('/d', (req, res) => res.redirect(req.path))
"""

CHECKS = """\
export function staysHome({ target, base }: { target: string; base: string | URL }): boolean {
  try {
    return new URL(target, base).origin === new URL(base).origin;
  } catch (e) {
    return false;
  }
}

export function nearby(u) {
  if (u.length > 200) {
    return false
  }
  return !u.startsWith('//')
}

export function listed(u) {
  for (const allowed of ['https://example.org']) {
    if (u.includes(allowed)) return true
  }
  return false
}

export const local = (u: string) => u.startsWith('/') && !u.startsWith('//')

export function isTarget(u: unknown): u is string {
  return typeof u === 'string' && u.length < 100
}

export function cleaned(u) {
  if (u.length > 200) return ''
  return u.trim()
}
"""

MIDDLEWARE = """\
import { NextRequest, NextResponse } from "next/server";
import { staysHome, nearby, listed, cleaned, local, isTarget } from "./checks";

export async function middleware(req: NextRequest) {
  const q = Object.fromEntries(req.nextUrl.searchParams.entries());
  if (q.next && staysHome({ target: q.next, base: req.url })) {
    return NextResponse.redirect(new URL(q.next, req.url));
  }
  const to = req.nextUrl.searchParams.get("to");
  if (!nearby(to)) {
    return NextResponse.redirect(new URL("/", req.url));
  }
  if (listed(q.back)) {
    return NextResponse.redirect(q.back);
  }
  if (cleaned(q.then)) {
    return NextResponse.redirect(q.then);
  }
  if (local(q.there)) {
    return NextResponse.redirect(q.there);
  }
  if (isTarget(q.where)) {
    return NextResponse.redirect(q.where);
  }
  return NextResponse.redirect(to);
}
"""


def _redirects(flows: list[Flow]) -> dict[int, list[Flow]]:
    out: dict[int, list[Flow]] = {}
    for f in flows:
        if f.claim == "open_redirect" and f.source_kind == "request" and not f.broken_by:
            out.setdefault(f.sink_location.line, []).append(f)
    return out


def test_equality_with_a_literal_fixes_a_member_expression() -> None:
    assert not _redirects(js_flows({"mw/apex.ts": APEX.replace("{op}", "===")}))
    # no test: the Host header chooses the redirect's host
    open_ = _redirects(js_flows({"mw/apex.ts": APEX.replace("{op}", "!==")}))
    assert "ctx.headers" in {f.source for f in open_[4]}


def test_equality_narrows_a_name_until_it_is_assigned_again() -> None:
    got = _redirects(js_flows({"app.js": EXPRESS}))
    assert 6 not in got  # ``to`` is the literal past the refusal
    assert [f.source for f in got[12]] == ["req.query"]  # reassigned in the branch


def test_request_path_after_a_fixed_host_stays_there() -> None:
    got = _redirects(js_flows({"app.js": EXPRESS}))
    assert 15 not in got  # https://example.org/...
    assert [f.source for f in got[16]] == ["req.path"]  # alone it may be //evil.example


def test_unread_yes_no_check_leaves_the_flow_for_review() -> None:
    got = _redirects(js_flows({"checks.ts": CHECKS, "middleware.ts": MIDDLEWARE}))
    through_object = [f for f in got[7] if f.source == "req.nextUrl.searchParams"]
    assert through_object and all(f.unread_checks == ["staysHome()"] for f in through_object)
    assert not any(proves(f) for f in through_object)
    # ``if (!nearby(to)) return``: past the refusal the check held
    assert all(f.unread_checks == ["nearby()"] for f in got[25])


def test_an_arrow_of_boolean_methods_and_a_type_predicate_are_yes_no_checks() -> None:
    got = _redirects(js_flows({"checks.ts": CHECKS, "middleware.ts": MIDDLEWARE}))
    assert got[20] and all(f.unread_checks == ["local()"] for f in got[20])
    assert got[23] and all(f.unread_checks == ["isTarget()"] for f in got[23])
