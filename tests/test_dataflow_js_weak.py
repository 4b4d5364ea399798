"""Weak allow-list checks in JS/TS (``dataflow/jsweak.py``): a substring, unpinned-prefix or
unanchored-regex test of input sanitizes nothing; the flow through it names the check and
points at its line and at the allow-list data it reads."""

from __future__ import annotations

import pytest
from js_support import js_flows

from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow

ALLOW_LIB = """\
export const allowedTargets = new Set([
  'https://docs.example.org',
  'https://shop.example.org/store',
])

export const isAllowed = (url: string) => {
  let ok = false
  for (const allowed of allowedTargets) {
    ok = ok || url.includes(allowed)
  }
  return ok
}

export const isListed = (url: string) => allowedTargets.has(url)
"""

ROUTE = """\
import { type Request, type Response } from 'express'
import * as security from '../lib/security'

export function go (req: Request, res: Response) {
  const target = req.query.to as string
  if (security.{check}(target)) {
    res.redirect(target)
  }
}
"""


def run(files: dict[str, str]) -> list[Flow]:
    return js_flows(files)


def redirects(flows: list[Flow]) -> list[Flow]:
    return [f for f in flows if f.claim == "open_redirect"]


def test_a_substring_allow_list_in_another_file_is_named_with_its_data() -> None:
    flows = run(
        {"lib/security.ts": ALLOW_LIB, "routes/go.ts": ROUTE.replace("{check}", "isAllowed")}
    )
    (flow,) = redirects(flows)
    assert proves(flow)  # not sanitized: https://evil.net/?https://docs.example.org passes
    assert any("weak check: .includes(allowed) is a substring test" in s for s in flow.sanitizers)
    lib = [s.line for s in flow.steps if s.path == "lib/security.ts"]
    assert lib == [9, 2, 3]  # the test, then each allowed entry
    assert flow.steps[-1].path == "routes/go.ts" and flow.steps[-1].line == 7


def test_an_exact_membership_check_leaves_no_mark() -> None:
    flows = run(
        {"lib/security.ts": ALLOW_LIB, "routes/go.ts": ROUTE.replace("{check}", "isListed")}
    )
    (flow,) = redirects(flows)
    assert not any(s.startswith(("~", "weak")) for s in flow.sanitizers)
    assert all(s.path == "routes/go.ts" for s in flow.steps)


def inline(cond: str) -> Flow:
    code = f"""\
    const ALLOWED = ['https://a.example.org/', 'https://b.example.org']
    module.exports = (req, res) => {{
      const target = req.query.next
      if ({cond}) {{
        res.redirect(target)
      }}
    }}
    """
    (flow,) = redirects(run({"app.js": code}))
    return flow


@pytest.mark.parametrize(
    ("cond", "what"),
    [
        ("target.includes('example.org')", ".includes('example.org') is a substring test"),
        ("target.indexOf('example.org') !== -1", ".indexOf('example.org') is a substring"),
        ("target.startsWith('https://example.org')", "prefix that does not end the host"),
        ("ALLOWED.some(p => target.startsWith(p))", "prefix that does not end the host"),
        ("/example\\.org/.test(target)", "has no ^...$ anchors"),
        ("target.match(/^https:\\/\\/example\\.org/)", "has no ^...$ anchors"),
    ],
)
def test_weak_inline_checks_are_named(cond: str, what: str) -> None:
    flow = inline(cond)
    assert proves(flow)
    assert any(s.startswith("weak check:") and what in s for s in flow.sanitizers), flow.sanitizers
    assert any(s.line == 4 for s in flow.steps[:-1])


def test_the_data_of_an_iterated_allow_list_are_steps() -> None:
    flow = inline("ALLOWED.some(p => target.startsWith(p))")
    assert [s.line for s in flow.steps if s.line == 1] == [1]  # where the entries are


@pytest.mark.parametrize(
    "cond",
    [
        "target.startsWith('https://example.org/')",  # the host ends: pinned
        "target.startsWith('/account')",  # a path on this site
        "/^https:\\/\\/example\\.org\\/[a-z]*$/.test(target)",  # anchored both ends
        "['https://a.example.org/x'].includes(target)",  # exact membership
        "target.includes('..')",  # a character test, not an allow-list
    ],
)
def test_strong_or_unrelated_checks_are_not_called_weak(cond: str) -> None:
    flow = inline(cond)
    assert not any(s.startswith(("weak", "~")) for s in flow.sanitizers), flow.sanitizers


def test_a_weak_check_never_becomes_the_break() -> None:
    code = """\
    const path = require('path')
    const fs = require('fs')
    module.exports = (req, res) => {
      const name = req.query.name
      if (name.includes('report')) {
        fs.readFile(path.basename(name), () => {})
      }
    }
    """
    flows = [f for f in run({"app.js": code}) if f.claim == "path_traversal"]
    assert flows
    for f in flows:
        assert f.broken_by is None or not f.broken_by.startswith(("~", "weak"))
        assert not any(s.startswith("~") for s in f.sanitizers)


def test_an_encoded_component_names_no_host() -> None:
    """``encodeURIComponent`` leaves no ':', '/', '?' or '#': the value cannot choose where a
    redirect or a fetch goes, even through a helper that builds the URL."""
    code = """\
    const toast = (path, message) => `${path}?error=${encodeURIComponent(message)}`
    module.exports = (req, res) => {
      const url = new URL(req.url)
      res.redirect(toast(`${url.origin}/signin`, req.query.code))
      res.redirect(encodeURIComponent(req.query.next))
      fetch(encodeURIComponent(req.query.next))
      res.redirect(req.query.next)
    }
    """
    flows = run({"app.js": code})
    assert {(f.claim, f.sink_location.line) for f in flows if proves(f)} == {("open_redirect", 7)}
