"""Files crafted by an adversary: forged offsets, lying headers, bombs, loops, files that change
while read. Each run is a subprocess bounded in memory (RLIMIT_AS) and CPU time (RLIMIT_CPU), so
a regression fails its test instead of taking the machine down, and must end with exit 2 and one
line naming the file: never a crash, a traceback, exit 3 or a hang.

Attacks that take seconds are marked slow: `pytest -m "not slow"` is the quick loop; `make test`
runs them all.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

MEMORY = 1536 << 20  # address space of a run: far below what a bomb would take
CPU_SECONDS = 60
WALL_SECONDS = 120
N = 1000
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
HEALTHY = SAMPLES / "healthy_binary.csv"


def lossdoctor(
    *args: object,
    stdin: bytes | Path | None = None,
    memory: int = MEMORY,
    cwd: Path | None = None,
    timeout: float = WALL_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """`lossdoctor check ARGS` in a child process held to `memory` bytes and CPU_SECONDS."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))

    command = [sys.executable, "-m", "lossdoctor", "check", *map(str, args)]
    if isinstance(stdin, Path):
        with stdin.open("rb") as f:
            completed = subprocess.run(
                command, stdin=f, capture_output=True, preexec_fn=limit, timeout=timeout, cwd=cwd
            )
    else:
        completed = subprocess.run(
            command, input=stdin, capture_output=True, preexec_fn=limit, timeout=timeout, cwd=cwd
        )
    return subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
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


def labelled_table() -> pa.Table:
    labels = [f"c{i % 7:03d}" for i in range(N)]  # four characters each
    return pa.table({"label": labels, "prob": np.linspace(0.01, 0.99, N)})


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def forged(data: bytes, honest: np.ndarray, lie: np.ndarray) -> bytes:
    """The file with one buffer (found by its bytes) replaced by another of the same size."""
    at = data.find(honest.tobytes())
    assert at > 0 and lie.nbytes == honest.nbytes
    return data[:at] + lie.tobytes() + data[at + honest.nbytes :]


def overrun_offsets() -> bytes:
    """An IPC file whose string offsets point far outside the data buffer; the first and last
    offsets stay honest, so the reader's size checks pass. pyarrow dereferences them unvalidated."""
    honest = np.arange(N + 1, dtype=np.int32) * 4
    lie = honest.copy()
    lie[1:N] = 1 << 28
    return forged(ipc_bytes(labelled_table()), honest, lie)


def overrun_dictionary() -> bytes:
    """Dictionary indices far beyond the dictionary's length."""
    table = labelled_table()
    table = table.set_column(0, "label", table.column("label").dictionary_encode())
    honest = np.arange(N, dtype=np.int32) % 7
    return forged(ipc_bytes(table), honest, honest + (1 << 28))


@pytest.mark.parametrize("name", ["p.arrow", "p.feather", "p.ipc"])
def test_string_offsets_outside_the_data_are_refused_before_any_kernel(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(overrun_offsets())
    refused(lossdoctor(path), name, "offset")


def test_dictionary_indices_outside_the_dictionary_are_refused(tmp_path):
    path = tmp_path / "p.arrow"
    path.write_bytes(overrun_dictionary())
    refused(lossdoctor(path), "p.arrow", "out of bounds")


def test_a_forged_arrow_file_on_stdin_is_refused():
    refused(
        lossdoctor("-", "--input-format", "arrow", stdin=overrun_offsets()), "- as arrow", "offset"
    )


def test_a_forged_file_in_a_dataset_is_refused_by_name(tmp_path):
    (tmp_path / "run").mkdir()
    ipc = ipc_bytes(labelled_table())
    (tmp_path / "run" / "a.arrow").write_bytes(ipc)
    (tmp_path / "run" / "b.arrow").write_bytes(overrun_offsets())
    refused(lossdoctor(tmp_path / "run"), "b.arrow", "offset")


def test_the_honest_files_the_forgeries_come_from_are_read(tmp_path):
    path = tmp_path / "p.arrow"
    path.write_bytes(ipc_bytes(labelled_table()))
    result = lossdoctor(path, "--format", "json")
    assert result.returncode in (0, 1), result.stderr


# ---- config files: regular files only, of bounded size and nesting -----------------------------


def test_a_config_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "lossdoctor.toml"
    os.mkfifo(fifo)
    refused(lossdoctor(HEALTHY, "--config", fifo, timeout=30), "lossdoctor.toml", "regular file")


def test_a_config_that_never_ends_is_refused_without_reading_it():
    refused(lossdoctor(HEALTHY, "--config", "/dev/zero", timeout=30), "/dev/zero", "regular file")


def test_a_config_larger_than_the_limit_is_refused(tmp_path):
    config = tmp_path / "lossdoctor.toml"
    config.write_text("# padding\n" * 200_000 + 'fail-on = "warning"\n')
    refused(lossdoctor(HEALTHY, "--config", config), "lossdoctor.toml", "larger than 1 MB")


@pytest.mark.parametrize("found", [False, True])
def test_a_config_nested_a_hundred_thousand_deep_is_refused(tmp_path, found):
    config = tmp_path / ("pyproject.toml" if found else "deep.toml")
    depth = 100_000
    config.write_text("[tool.lossdoctor]\nfail-on = " + "[" * depth + "]" * depth + "\n")
    args = [] if found else ["--config", config]
    refused(lossdoctor(HEALTHY, *args, cwd=tmp_path), config.name, "nested too deeply")


def test_a_config_at_the_size_limit_is_still_read(tmp_path):
    config = tmp_path / "lossdoctor.toml"
    config.write_text("threshold = 0.3\n" + "#" * ((1 << 20) - 100) + "\n")
    result = lossdoctor(HEALTHY, "--config", config, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["threshold"] == 0.3
