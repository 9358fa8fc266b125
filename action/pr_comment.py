"""The GitHub Action's comment: one pull-request comment with lossdoctor's Markdown report, edited
on every push instead of a new one each time.

The comment is the one whose first line is the marker (a hidden HTML comment naming the workflow
and job). A token that may not write (a pull request from a fork, or a workflow without
`pull-requests: write`) cannot comment: the report is in the job summary already, so this says
so as a notice and exits 0. Standard library only: it runs on the runner's Python.

Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN, PULL_REQUEST (its number),
HEAD_REPOSITORY (owner/name of the pull request's head), MARKER, REPORT (the Markdown file).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

# GitHub refuses a comment body over 65,536 characters.
MAX_BODY = 65_536
PAGE = 100
CUT = "\n\n*The report is cut here; the job summary has all of it.*\n"


def main() -> int:
    env = os.environ
    repo, marker = env["GITHUB_REPOSITORY"], env["MARKER"]
    if env.get("HEAD_REPOSITORY", repo) != repo:
        notice(
            "a pull request from a fork gets a read-only token: the report is in the job summary"
        )
        return 0
    api = Api(env.get("GITHUB_API_URL", "https://api.github.com"), env["GITHUB_TOKEN"])
    issue = f"/repos/{repo}/issues/{env['PULL_REQUEST']}"
    with open(env["REPORT"], encoding="utf-8") as f:
        body = comment_body(marker, f.read())
    try:
        existing = find_comment(api, issue, marker)
        if existing is None:
            api.send("POST", f"{issue}/comments", {"body": body})
        else:
            api.send("PATCH", f"/repos/{repo}/issues/comments/{existing}", {"body": body})
    except urllib.error.HTTPError as error:
        permission = error.code in (401, 403, 404)
        why = "the token may not write (pull-requests: write)" if permission else error.reason
        notice(f"no comment ({error.code}: {why}); the report is in the job summary")
    except urllib.error.URLError as error:
        notice(
            f"no comment (cannot reach the API: {error.reason}); the report is in the job summary"
        )
    return 0


def comment_body(marker: str, report: str) -> str:
    """The marker on the first line, then the report, cut to what GitHub accepts."""
    body = f"{marker}\n{report}"
    if len(body) <= MAX_BODY:
        return body
    return body[: MAX_BODY - len(CUT)] + CUT


def find_comment(api: Api, issue: str, marker: str) -> int | None:
    """The id of the first comment whose first line is the marker, over every page."""
    page = 1
    while True:
        comments = api.send("GET", f"{issue}/comments?per_page={PAGE}&page={page}")
        for comment in comments:
            if (comment.get("body") or "").split("\n", 1)[0].strip() == marker:
                return comment["id"]
        if len(comments) < PAGE:
            return None
        page += 1


class Api:
    """GitHub's REST API with a token: JSON in, JSON out."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url.rstrip("/"), token

    def send(self, method: str, path: str, payload: dict | None = None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def notice(message: str) -> None:
    """A workflow command: shown on the run's summary page, and never a failure."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    print(f"::notice title=lossdoctor comment::{escaped}")


if __name__ == "__main__":
    sys.exit(main())
