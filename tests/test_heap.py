"""A large file read whole keeps its freed memory: its temporaries come from the heap, which
keeps what they free, rather than from mappings of their own, returned on every free."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from lossdoctor.heap import LARGE_FILE_BYTES

# The bytes of mappings of their own that glibc's allocator holds while a 128 MB array lives
# (mallinfo2's hblkhd), after keep_freed_memory(path).
MAPPED = """
import ctypes, sys
import numpy as np
from lossdoctor.heap import keep_freed_memory

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

keep_freed_memory(sys.argv[1])
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
temporary = np.ones(1 << 24)
print(mallinfo2().hblkhd)
"""
# The pool pyarrow allocates a file's columns from, after keep_freed_memory(path).
POOL = """
import sys
from lossdoctor.heap import keep_freed_memory

keep_freed_memory(sys.argv[1])
import pyarrow as pa

print(pa.default_memory_pool().backend_name)
"""
TEMPORARY_BYTES = 8 << 24

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


def run(script: str, path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def mapped_while_a_temporary_lives(path) -> int:
    return int(run(MAPPED, path))


@glibc
def test_a_large_files_temporaries_come_from_the_heap(tmp_path):
    large = tmp_path / "large.parquet"
    with open(large, "wb") as f:
        f.truncate(LARGE_FILE_BYTES)  # sparse: its size is all that is read
    assert mapped_while_a_temporary_lives(large) < TEMPORARY_BYTES


@glibc
def test_a_small_file_or_stdin_leaves_the_allocator_as_it_is(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("label,prob\n1,0.5\n")
    assert mapped_while_a_temporary_lives(small) >= TEMPORARY_BYTES
    assert mapped_while_a_temporary_lives("-") >= TEMPORARY_BYTES


@glibc
def test_a_large_files_columns_come_from_the_same_heap_and_a_small_files_do_not(tmp_path):
    large, small = tmp_path / "large.parquet", tmp_path / "small.csv"
    with open(large, "wb") as f:
        f.truncate(LARGE_FILE_BYTES)
    small.write_text("label,prob\n1,0.5\n")
    import pyarrow as pa

    assert run(POOL, large) == "system"
    assert run(POOL, small) == pa.default_memory_pool().backend_name


def test_the_command_keeps_freed_memory_and_the_library_leaves_its_callers_alone(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner

    import lossdoctor
    import lossdoctor.heap
    from lossdoctor.cli import cli

    told = []
    monkeypatch.setattr(lossdoctor.heap, "keep_freed_memory", told.append)
    path = tmp_path / "preds.csv"
    path.write_text("label,prob\n" + "".join(f"{i % 2},0.{i % 9 + 1}\n" for i in range(40)))
    lossdoctor.diagnose(str(path))
    assert told == []
    CliRunner().invoke(cli, ["check", str(path), "--format", "json"])
    assert told == [str(path)]


def test_the_command_keeps_freed_memory_before_streaming_a_dataset_and_the_library_does_not(
    tmp_path, monkeypatch
):
    """A dataset's batches are read and summarised on several threads: the heap is shared
    before the first of them reads."""
    from click.testing import CliRunner

    import lossdoctor
    import lossdoctor.heap
    from lossdoctor.cli import cli

    told = []
    monkeypatch.setattr(lossdoctor.heap, "keep_freed_memory", told.append)
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "parts").mkdir()
    for part in range(2):
        labels, scores = [i % 2 for i in range(40)], [(i % 9 + 1) / 10 for i in range(40)]
        table = pa.table({"label": labels, "prob": scores})
        pq.write_table(table, tmp_path / "parts" / f"part-{part}.parquet")
    lossdoctor.diagnose(str(tmp_path / "parts"))
    assert told == []
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "parts"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert told == [str(tmp_path / "parts")]


@glibc
def test_a_large_dataset_keeps_freed_memory_and_a_small_one_does_not(tmp_path):
    """Its files' sizes add up, under a directory (searched recursively) or a glob."""
    large, small = tmp_path / "large", tmp_path / "small"
    for folder in (large / "a" / "b", small):
        folder.mkdir(parents=True)
    for part in range(2):  # sparse: their sizes are all that is read
        with open(large / "a" / "b" / f"part-{part}.parquet", "wb") as f:
            f.truncate(LARGE_FILE_BYTES // 2)
        (small / f"part-{part}.parquet").write_bytes(b"PAR1")
    assert mapped_while_a_temporary_lives(large) < TEMPORARY_BYTES
    assert mapped_while_a_temporary_lives(f"{large}/**/*.parquet") < TEMPORARY_BYTES
    assert mapped_while_a_temporary_lives(small) >= TEMPORARY_BYTES
    assert mapped_while_a_temporary_lives(f"{small}/*.parquet") >= TEMPORARY_BYTES


@glibc
def test_a_glob_through_symlink_loops_is_sized_at_once(tmp_path):
    """The dataset's files are found as the dataset finds them, each directory once: a glob
    through two symlink loops would otherwise be followed 2**40 times."""
    inner = tmp_path / "a"
    inner.mkdir()
    (inner / "x").symlink_to("..")
    (inner / "y").symlink_to("..")
    (inner / "part.parquet").write_bytes(b"PAR1")
    done = subprocess.run(
        [sys.executable, "-c", MAPPED, f"{tmp_path}/**/*.parquet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= TEMPORARY_BYTES  # 4 bytes of files: nothing kept
