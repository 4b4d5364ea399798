"""Post or update the one marked threatmodel comment on a GitHub pull request (REST API).

Re-runs edit the comment that carries the marker instead of adding another: list the pull
request's issue comments (every page), PATCH the marked one, or POST a new one. When the
architecture did not change and there is no comment yet, nothing is posted at all.

The token comes from ``GITHUB_TOKEN``, the repository and pull request number from the
Actions environment (``GITHUB_REPOSITORY``, ``GITHUB_EVENT_PATH``) or flags, the API base
from ``GITHUB_API_URL``. The token is sent only in the Authorization header, only to the
API's own origin (a pagination link to another host is refused), and never appears in a
message: every error text is scrubbed of it before it is raised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from threatmodel import __version__
from threatmodel.errors import ConfigError, ThreatModelError

DEFAULT_API = "https://api.github.com"


class GitHubError(ThreatModelError):
    """The GitHub API refused or failed a request (message never holds the token)."""


@dataclass(frozen=True)
class Target:
    api_url: str
    repo: str  # OWNER/NAME
    pr: int
    token: str = field(repr=False)


@dataclass(frozen=True)
class PostResult:
    action: Literal["created", "updated", "skipped"]
    comment_id: int | None
    url: str | None


def resolve_target(repo: str | None, pr: int | None, env: dict[str, str] | None = None) -> Target:
    """Where to post, from flags first, then the GitHub Actions environment."""
    env = dict(os.environ) if env is None else env
    token = env.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "--post needs a token in GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: "
            "${{ secrets.GITHUB_TOKEN }}, with permissions: pull-requests: write)."
        )
    repo = repo or env.get("GITHUB_REPOSITORY")
    if not repo or repo.count("/") != 1 or not all(repo.split("/")):
        raise ConfigError("--post needs the repository: pass --repo OWNER/NAME.")
    if pr is None:
        pr = _pr_from_event(env.get("GITHUB_EVENT_PATH"))
    if pr is None or pr < 1:
        raise ConfigError(
            "--post needs the pull request number: pass --pr N (or run on a pull_request event)."
        )
    api = (env.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
    if urlsplit(api).scheme not in ("https", "http"):
        raise ConfigError(f"GITHUB_API_URL {api!r} is not an http(s) URL.")
    return Target(api_url=api, repo=repo, pr=pr, token=token)


def _pr_from_event(path: str | None) -> int | None:
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    pr = event.get("pull_request", {}).get("number") or event.get("number")
    return pr if isinstance(pr, int) else None


class CommentPoster:
    def __init__(self, target: Target, client: httpx.Client | None = None) -> None:
        self.target = target
        self._origin = urlsplit(target.api_url)[:2]
        self._client = client or httpx.Client(timeout=30.0, follow_redirects=False)
        self._headers = {
            "Authorization": f"Bearer {target.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"threatmodel/{__version__}",
        }

    def close(self) -> None:
        self._client.close()

    def find_marked(self, marker: str) -> dict[str, Any] | None:
        """The last comment of the pull request whose body ends with the marker."""
        t = self.target
        url: str | None = f"{t.api_url}/repos/{t.repo}/issues/{t.pr}/comments?per_page=100"
        found: dict[str, Any] | None = None
        while url:
            resp = self._request("GET", url)
            for c in resp.json():
                if isinstance(c, dict) and str(c.get("body") or "").rstrip().endswith(marker):
                    found = c
            url = resp.links.get("next", {}).get("url")
        return found

    def upsert(self, body: str, marker: str, create: bool = True) -> PostResult:
        """Edit the marked comment, or post one when ``create`` (else leave the PR alone)."""
        t = self.target
        existing = self.find_marked(marker)
        if existing is not None:
            url = f"{t.api_url}/repos/{t.repo}/issues/comments/{int(existing['id'])}"
            try:
                data = self._request("PATCH", url, {"body": body}).json()
                return PostResult("updated", int(data["id"]), data.get("html_url"))
            except GitHubError as exc:
                # Someone else's comment carrying our marker cannot be edited with this
                # token (403/404): post our own instead of failing the check.
                if "HTTP 403" not in str(exc) and "HTTP 404" not in str(exc):
                    raise
        if not create:
            return PostResult("skipped", None, None)
        url = f"{t.api_url}/repos/{t.repo}/issues/{t.pr}/comments"
        data = self._request("POST", url, {"body": body}).json()
        return PostResult("created", int(data["id"]), data.get("html_url"))

    def _request(self, method: str, url: str, payload: Any = None) -> httpx.Response:
        if urlsplit(url)[:2] != self._origin:
            raise GitHubError(f"refusing to send the token to {self._scrub(url)}: not the API.")
        try:
            resp = self._client.request(method, url, headers=self._headers, json=payload)
        except httpx.HTTPError as exc:
            raise GitHubError(
                f"GitHub API {method} {self._scrub(url)} failed: {self._scrub(str(exc))}"
            ) from None
        if resp.status_code >= 400:
            try:
                message = str(resp.json().get("message", ""))
            except ValueError:
                message = resp.text[:200]
            hint = {
                401: " (is GITHUB_TOKEN valid?)",
                403: " (the token needs pull-requests: write)",
                404: " (check --repo and --pr; the token needs access to the repository)",
            }.get(resp.status_code, "")
            raise GitHubError(
                f"GitHub API {method} {self._scrub(url)}: HTTP {resp.status_code} "
                f"{self._scrub(message)}{hint}"
            )
        return resp

    def _scrub(self, text: str) -> str:
        return text.replace(self.target.token, "***") if self.target.token else text


def post_comment(target: Target, body: str, marker: str, create: bool = True) -> PostResult:
    poster = CommentPoster(target)
    try:
        return poster.upsert(body, marker, create=create)
    finally:
        poster.close()
