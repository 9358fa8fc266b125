"""The pre-commit hook, run by pre-commit itself: `pre-commit try-repo` installs this repository's
hook (pip installs lossdoctor into the hook's own environment, about 40 s) and runs it on a
scratch git repository, as a user's commit would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
FINDING = "preds.parquet: error logits-vs-probabilities: Logits saved as probabilities"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git"),
]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess:
    # The hook's environment is thrown away after the test: pip compiles no bytecode into it.
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PRE_COMMIT_COLOR": "never",
        "PIP_NO_COMPILE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "lossdoctor", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_hook_prints_one_line_per_finding_and_passes_over_other_tables(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copy(SAMPLES / "logits_saved_as_probabilities.parquet", repo / "preds.parquet")
    shutil.copy(SAMPLES / "healthy_binary.csv", repo / "healthy.csv")
    (repo / "cities.csv").write_text("city,population\nParis,2100000\n", encoding="utf-8")
    git(repo, "add", ".")

    failed = try_repo(repo, tmp_path / "cache")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    output = failed.stdout.split("- exit code: 1", 1)[1].strip().splitlines()
    assert FINDING in output
    (note,) = [line for line in output if "cities.csv" in line]
    assert note.startswith("lossdoctor: note: skipped cities.csv: not a predictions file")
    assert "files:" in note
    # One line per finding and nothing else: no report, no pictures, no healthy file's notes.
    assert sorted(output) == sorted([FINDING, note])

    git(repo, "rm", "-q", "--cached", "preds.parquet")
    passed = try_repo(repo, tmp_path / "cache")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
