from __future__ import annotations

import logging
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossdoctor
from lossdoctor.errors import InputError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def findings_of(y_true, y_pred, check_id: str | None = None, **options):
    """The findings `diagnose` returns, optionally only those of one check. No finding reads
    the bootstrap's intervals: none are drawn unless asked for."""
    options.setdefault("bootstrap", 0)
    report = lossdoctor.diagnose(y_true, y_pred, **options)
    return [f for f in report.findings if check_id is None or f.check == check_id]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def healthy_binary(rng):
    """A model that ranks well and is calibrated: labels drawn from its own probabilities."""
    p = rng.uniform(0.02, 0.98, 400)
    y = (rng.uniform(size=400) < p).astype(int)
    return y, p


@pytest.fixture
def healthy_multiclass(rng):
    logits = rng.normal(size=(600, 4)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in proba])
    return y, proba


def calibrated_multiclass(n: int, k: int, scale: float, seed: int):
    """Labels drawn from softmax probabilities of random logits: a calibrated model."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * scale
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (proba.cumsum(axis=1) < rng.uniform(size=(n, 1))).sum(axis=1)
    return y, proba


def multilabel(n: int = 200, k: int = 4) -> lossdoctor.Report:
    """A multi-label report built from arithmetic, for renderer tests and golden files."""
    rows = np.arange(n)
    y = ((rows[:, None] * (np.arange(k) + 3)) % 5 < 2).astype(int)
    proba = np.clip(0.15 + 0.7 * y + 0.1 * np.sin(rows[:, None] + np.arange(k)), 0.01, 0.99)
    return lossdoctor.diagnose(y, proba, task="multilabel")


def raises(match: str) -> pytest.RaisesContext:
    """Bad input: an InputError whose message matches."""
    return pytest.raises(InputError, match=match)


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    """The error's message, which must be one line."""
    message = str(excinfo.value)
    assert "\n" not in message
    return message


@pytest.fixture(scope="session")
def dask_scheduler() -> str:
    """An in-process Dask cluster, shared by every test that needs one; its address."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


# ---- lossdoctor in a child process, bounded: for crafted files -----------------------------------

MEMORY = 1536 << 20  # address space of a run: far below what a bomb would take
CPU_SECONDS = 60
WALL_SECONDS = 120


def run_bounded(
    *args: object,
    stdin: bytes | Path | None = None,
    memory: int = MEMORY,
    cwd: Path | None = None,
    timeout: float = WALL_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """`lossdoctor check ARGS` in a child process held to `memory` bytes and CPU_SECONDS."""
    if isinstance(stdin, Path):
        with stdin.open("rb") as f:
            return bounded_process(*args, stdin=f, memory=memory, cwd=cwd).finish(timeout)
    run = bounded_process(*args, stdin=subprocess.PIPE, memory=memory, cwd=cwd)
    return run.finish(timeout, stdin or b"")


class Run:
    """A run of lossdoctor in a child process, under way."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def finish(
        self, timeout: float, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Its exit; past `timeout` seconds it is killed and the test fails."""
        try:
            out, err = self.process.communicate(stdin, timeout=timeout)
        finally:
            self.process.kill()
            self.process.wait()
        return subprocess.CompletedProcess(
            self.process.args,
            self.process.returncode,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
        )


def bounded_process(
    *args: object, stdin: Any = subprocess.DEVNULL, memory: int = MEMORY, cwd: Path | None = None
) -> Run:
    """`lossdoctor check ARGS` started in a child process held to `memory` bytes of address
    space and CPU_SECONDS of CPU time."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))

    command = [sys.executable, "-m", "lossdoctor", "check", *map(str, args)]
    return Run(
        subprocess.Popen(
            command,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=limit,
            cwd=cwd,
        )
    )


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2 and one line on stderr that says each fragment."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("lossdoctor: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]
