"""The GitHub Action (action.yml) and the README's workflow that uses it: actionlint passes on the
workflow as pasted and on the same workflow pointed at this checkout's action (so every `with:`
is checked against action.yml's inputs); the action's shell step runs here as the runner would
run it; its comment script keeps one comment up to date against a local stand-in of GitHub's API,
and leaves forks and read-only tokens to the job summary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
LOGITS = SAMPLES / "logits_saved_as_probabilities.parquet"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
USES = re.compile(r"^(\s*- uses: )([\w.-]+/[\w.-]+)@v1\s*$", flags=re.M)


def readme_workflow() -> str:
    """The README's workflow block, the one that uses this action."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
    (workflow,) = [block for block in blocks if "jobs:" in block]
    return workflow


def repository() -> str:
    """owner/name of the repository, from pyproject.toml's project URLs."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"]
    return url.removeprefix("https://github.com/")


# ---- actionlint -------------------------------------------------------------------------------

actionlint = pytest.mark.skipif(
    shutil.which(
        "actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    is None,
    reason="actionlint is a test extra on x86-64 Linux only",
)


def lint(tmp_path: Path, workflow: str, with_action: bool) -> subprocess.CompletedProcess:
    """actionlint on a scratch repository holding the workflow (and this action at its top)."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".github" / "workflows" / "predictions.yml").write_text(workflow, encoding="utf-8")
    if with_action:
        shutil.copy(ROOT / "action.yml", repo / "action.yml")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["actionlint", "-no-color"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=120,
    )


@actionlint
def test_actionlint_passes_on_the_readmes_workflow_as_pasted(tmp_path):
    done = lint(tmp_path, readme_workflow(), with_action=False)
    assert done.returncode == 0, done.stdout + done.stderr


@actionlint
def test_actionlint_passes_on_the_readmes_workflow_against_this_action(tmp_path):
    """`uses: ./` makes actionlint read action.yml: every input the README passes must exist."""
    workflow, count = USES.subn(r"\1./", readme_workflow())
    assert count == 1
    done = lint(tmp_path, workflow, with_action=True)
    assert done.returncode == 0, done.stdout + done.stderr


@actionlint
def test_actionlint_fails_on_an_input_the_action_does_not_have(tmp_path):
    workflow = USES.sub(r"\1./", readme_workflow()).replace("paths:", "path:")
    done = lint(tmp_path, workflow, with_action=True)
    assert done.returncode == 1
    assert 'input "path" is not defined in action' in done.stdout
    assert 'missing input "paths"' in done.stdout


# ---- the README's workflow and the action agree -----------------------------------------------


def test_the_readme_uses_this_repository_once_and_only_inputs_the_action_has():
    workflow = yaml.safe_load(readme_workflow())
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if "lossdoctor" in s.get("uses", "")]
    assert step["uses"] == f"{repository()}@v1"
    assert set(step["with"]) <= set(ACTION["inputs"])
    assert {name for name, spec in ACTION["inputs"].items() if spec.get("required")} <= set(
        step["with"]
    )
    assert job["permissions"]["pull-requests"] == "write"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "OWNER" not in readme
    assert f"https://github.com/{repository()}\n" in readme  # the pre-commit repo


def test_every_input_the_action_reads_is_declared_and_no_script_expands_an_expression():
    """Inputs reach the shell through env: only; an expression inside run: would be pasted into
    the script (GitHub's script injection)."""
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == set(ACTION["inputs"])
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], step.get("name")
    assert ACTION["runs"]["using"] == "composite"
    install = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Install lossdoctor")
    assert '"$GITHUB_ACTION_PATH"' in install["run"]


# ---- the action's shell step, run as the runner runs it ---------------------------------------


def run_step(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The "Run lossdoctor" step: bash -eo pipefail, the inputs in env, as on a runner."""
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "check")
    tmp_path.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    (tmp_path / "temp").mkdir()
    files = {name: tmp_path / name for name in ("output", "summary.md")}
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
        **{key: inputs.get(key.lower(), "") for key in step["env"]},
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=SAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = dict(line.split("=", 1) for line in files["output"].read_text().splitlines())
    return done, outputs


def test_the_step_runs_lossdoctor_with_annotations_summary_and_report(tmp_path):
    done, outputs = run_step(tmp_path, paths=f"{LOGITS.name}\n  imbalanced.parquet ")
    assert done.returncode == 0, done.stderr  # the code is the last step's to return
    assert outputs["exit-code"] == "1"
    report = Path(outputs["report"]).read_text(encoding="utf-8")
    assert report.index(LOGITS.name) < report.index("imbalanced.parquet")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary == report
    assert f"::error file={LOGITS.name},title=Logits saved as probabilities" in done.stdout


def test_the_step_passes_gates_line_by_line_and_fail_on_and_args(tmp_path):
    gates = "roc_auc >= 0.999\n\n  log_loss <= 10\n"
    done, outputs = run_step(
        tmp_path, paths="healthy_binary.parquet", gates=gates, fail_on="never", args="--no-config"
    )
    assert outputs["exit-code"] == "0", done.stderr  # fail-on never: the failed gate reports only
    report = Path(outputs["report"]).read_text(encoding="utf-8")
    assert "Gate failed: roc\\_auc \\>= 0.999" in report
    assert "Gate failed: log\\_loss" not in report
    failed = run_step(tmp_path / "again", paths="healthy_binary.parquet", gates=gates)[1]
    assert failed["exit-code"] == "1"


def test_the_step_reports_a_missing_file_as_exit_code_2(tmp_path):
    done, outputs = run_step(tmp_path, paths="no_such_file.parquet")
    assert outputs["exit-code"] == "2"
    assert "::error file=no_such_file.parquet," in done.stdout


# ---- the comment ------------------------------------------------------------------------------

MARKER = "<!-- lossdoctor: predictions / lossdoctor -->"


class FakeGitHub(BaseHTTPRequestHandler):
    """The four endpoints the script uses, over comments kept in memory."""

    comments: list[dict]
    calls: list[tuple[str, str]]
    refuse_writes = False

    def log_message(self, *args):  # quiet test output
        pass

    def reply(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.calls.append(("GET", self.path))
        match = re.fullmatch(r"/repos/o/r/issues/7/comments\?per_page=(\d+)&page=(\d+)", self.path)
        per_page, page = int(match[1]), int(match[2])
        self.reply(200, self.comments[(page - 1) * per_page : page * per_page])

    def write(self, method: str) -> dict | None:
        self.calls.append((method, self.path))
        assert self.headers["Authorization"] == "Bearer t0ken"
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.refuse_writes:
            self.reply(403, {"message": "Resource not accessible by integration"})
            return None
        return body

    def do_POST(self):
        body = self.write("POST")
        if body is not None:
            self.comments.append({"id": 1000 + len(self.comments), "body": body["body"]})
            self.reply(201, self.comments[-1])

    def do_PATCH(self):
        body = self.write("PATCH")
        if body is not None:
            comment_id = int(self.path.rsplit("/", 1)[1])
            (comment,) = [c for c in self.comments if c["id"] == comment_id]
            comment["body"] = body["body"]
            self.reply(200, comment)


@pytest.fixture
def github():
    handler = type("Handler", (FakeGitHub,), {"comments": [], "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def comment(tmp_path: Path, server, report: str, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "report.md").write_text(report, encoding="utf-8")
    variables = {
        "GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_TOKEN": "t0ken",
        "PULL_REQUEST": "7",
        "HEAD_REPOSITORY": "o/r",
        "MARKER": MARKER,
        "REPORT": str(tmp_path / "report.md"),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "action" / "pr_comment.py")],
        env={"PATH": os.environ["PATH"], **variables, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_first_run_posts_a_comment_and_the_next_edits_it(tmp_path, github):
    handler = github.RequestHandlerClass
    handler.comments += [{"id": i, "body": f"review {i}"} for i in range(150)]  # two pages
    assert comment(tmp_path, github, "### first\n").returncode == 0
    assert comment(tmp_path, github, "### second\n").returncode == 0
    ours = [c for c in handler.comments if c["body"].startswith(MARKER)]
    assert [c["body"] for c in ours] == [f"{MARKER}\n### second\n"]
    writes = [call for call in handler.calls if call[0] != "GET"]
    assert writes == [
        ("POST", "/repos/o/r/issues/7/comments"),
        ("PATCH", f"/repos/o/r/issues/comments/{ours[0]['id']}"),
    ]


def test_a_comment_of_another_job_or_a_quote_of_the_marker_is_not_ours(tmp_path, github):
    handler = github.RequestHandlerClass
    other = "<!-- lossdoctor: predictions / other-job -->\n### theirs\n"
    quote = f"> {MARKER}\nwhat is this?"
    handler.comments += [{"id": 1, "body": other}, {"id": 2, "body": quote}]
    assert comment(tmp_path, github, "### ours\n").returncode == 0
    assert [c["body"] for c in handler.comments[:2]] == [other, quote]
    assert handler.comments[2]["body"] == f"{MARKER}\n### ours\n"


def test_a_pull_request_from_a_fork_is_left_to_the_job_summary(tmp_path, github):
    done = comment(tmp_path, github, "### report\n", HEAD_REPOSITORY="someone/r")
    assert done.returncode == 0
    assert done.stdout.startswith("::notice title=lossdoctor comment::")
    assert "job summary" in done.stdout
    assert github.RequestHandlerClass.calls == []


def test_a_read_only_token_is_a_notice_not_a_failure(tmp_path, github):
    github.RequestHandlerClass.refuse_writes = True
    done = comment(tmp_path, github, "### report\n")
    assert done.returncode == 0, done.stderr
    assert "::notice title=lossdoctor comment::no comment (403" in done.stdout
    assert github.RequestHandlerClass.comments == []


def test_a_report_longer_than_github_accepts_is_cut_with_a_pointer_to_the_summary(tmp_path, github):
    sys.path.insert(0, str(ROOT / "action"))
    try:
        from pr_comment import MAX_BODY
    finally:
        sys.path.pop(0)
    assert comment(tmp_path, github, "x" * (2 * MAX_BODY)).returncode == 0
    (posted,) = github.RequestHandlerClass.comments
    assert len(posted["body"]) == MAX_BODY
    assert posted["body"].startswith(MARKER) and posted["body"].endswith("all of it.*\n")
