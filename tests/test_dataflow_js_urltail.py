"""A URL object's path, query and fragment, set from input, never move its origin: a
redirect to a fixed ``new URL(...)`` whose ``pathname`` is the request's is no open
redirect; one whose ``host`` is the request's still is."""

from __future__ import annotations

from js_support import js_flows

CANONICAL = """\
export function canonical (req, res) {
  const url = new URL("https://app.example.com")
  url.pathname = req.path
  url.search = req.query.rest
  res.redirect(url.toString())
}
"""


def _redirects(text: str) -> list:
    return [f for f in js_flows({"r.js": text}) if f.claim == "open_redirect"]


def test_path_and_query_set_on_a_url_object_keep_its_host() -> None:
    flows = _redirects(CANONICAL)
    assert all(f.broken_by for f in flows), flows


def test_host_set_on_a_url_object_is_still_an_open_redirect() -> None:
    moved = CANONICAL.replace("url.pathname = req.path", "url.host = req.query.to")
    assert any(f.broken_by is None for f in _redirects(moved))
