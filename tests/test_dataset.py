"""lossdoctor.io.dataset and io.stream: a directory or glob of Parquet/Arrow files streamed in
batches, and the refusal of a CSV file too large for memory."""

from __future__ import annotations

import gzip
import io
import operator
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_array_equal

from lossdoctor.engines.local import Streaming
from lossdoctor.io import (
    DEFAULT_BATCH_ROWS,
    Batch,
    is_dataset,
    memory,
    open_dataset,
    read_predictions,
)
from lossdoctor.io import csv as io_csv
from lossdoctor.io import stream as io_stream
from tests.conftest import one_line, raises

ROOT = Path(__file__).resolve().parents[1]


def table(start: int, n: int) -> pa.Table:
    """Rows start..start+n-1: the label and score are computed from the dataset-wide row number."""
    rows = np.arange(start, start + n)
    return pa.table(
        {
            "label": (rows % 3 == 0).astype(np.int8),
            "prob": (rows / 1000).astype(np.float32),
            "junk": rows.astype(str),
        }
    )


def write_parts(directory: Path, sizes: list[int], row_group: int = 4) -> pa.Table:
    """Parquet files part-00.parquet... of the given sizes; the concatenated table."""
    directory.mkdir(parents=True, exist_ok=True)
    start, tables = 0, []
    for i, n in enumerate(sizes):
        t = table(start, n)
        pq.write_table(t, directory / f"part-{i:02d}.parquet", row_group_size=row_group)
        tables.append(t)
        start += n
    return pa.concat_tables(tables)


def gather(batches: list[Batch]) -> tuple[np.ndarray, np.ndarray]:
    y = np.concatenate([b.predictions.y_true for b in batches])
    p = np.concatenate([b.predictions.y_score for b in batches])
    return y, p


# ---- what is a dataset -------------------------------------------------------------------------


def test_directories_and_patterns_are_datasets_but_files_are_not(tmp_path):
    (tmp_path / "d").mkdir()
    odd = tmp_path / "preds[1].parquet"
    pq.write_table(table(0, 3), odd)
    assert is_dataset(str(tmp_path / "d"))
    assert is_dataset(str(tmp_path / "*.parquet"))
    assert is_dataset(str(tmp_path / "part-?.parquet"))
    assert not is_dataset(str(odd))  # a file whose name looks like a pattern is a file
    assert not is_dataset(str(tmp_path / "missing.parquet"))


# ---- rows, order, batches ----------------------------------------------------------------------


def test_many_files_yield_the_rows_of_the_concatenated_table_in_order(tmp_path):
    whole = write_parts(tmp_path / "d", [10, 7, 0, 23, 1, 9])
    data = open_dataset(str(tmp_path / "d"), batch_rows=8)
    batches = list(data.batches())
    y, p = gather(batches)
    assert_array_equal(y, whole.column("label").to_numpy())
    assert_array_equal(p, whole.column("prob").to_numpy())
    assert y.dtype == np.int8 and p.dtype == np.float32
    assert [b.first_row for b in batches] == [0, 8, 16, 24, 32, 40, 48]
    assert [len(b.predictions.y_score) for b in batches] == [8, 8, 8, 8, 8, 8, 2]
    assert data.n_rows == whole.num_rows == 50
    assert data.label_columns == ("label",) and data.prediction_columns == ("prob",)
    assert data.format == "parquet dataset"


@pytest.mark.parametrize("batch_rows", [1, 3, 4, 5, 100])
def test_batches_never_exceed_batch_rows_and_first_rows_count_every_row(tmp_path, batch_rows):
    whole = write_parts(tmp_path, [5, 6, 2], row_group=4)
    batches = list(open_dataset(str(tmp_path), batch_rows=batch_rows).batches())
    sizes = [len(b.predictions.y_true) for b in batches]
    assert all(s == batch_rows for s in sizes[:-1]) and 0 < sizes[-1] <= batch_rows
    assert [b.first_row for b in batches] == list(np.cumsum([0, *sizes[:-1]]))
    assert_array_equal(gather(batches)[1], whole.column("prob").to_numpy())


def test_files_are_read_in_sorted_path_order_directory_by_directory(tmp_path):
    for name, start in [("b/x.parquet", 4), ("a-b/x.parquet", 2), ("a/z.parquet", 1)]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        pq.write_table(table(start, 1), tmp_path / name)
    (tmp_path / "a" / "y.parquet").write_bytes((tmp_path / "b/x.parquet").read_bytes())
    data = open_dataset(str(tmp_path))
    names = [Path(f).relative_to(tmp_path).as_posix() for f in data.files]
    assert names == ["a/y.parquet", "a/z.parquet", "a-b/x.parquet", "b/x.parquet"]
    assert_array_equal(gather(list(data.batches()))[1], np.float32([4, 1, 2, 4]) / 1000)


def test_batches_start_over_and_report_progress(tmp_path):
    write_parts(tmp_path, [6, 5])
    data = open_dataset(str(tmp_path), batch_rows=4)
    seen: list[int] = []
    first = gather(list(data.batches(seen.append)))
    second = gather(list(data.batches()))
    assert seen == [4, 4, 3]
    assert_array_equal(first[1], second[1])


def test_n_rows_and_n_bytes_come_from_the_files_without_reading_them(tmp_path, monkeypatch):
    write_parts(tmp_path, [1000, 1, 234], row_group=100)
    monkeypatch.setattr(io_stream.Dataset, "_record_batches", lambda self: pytest.fail("read"))
    data = open_dataset(str(tmp_path))
    assert data.n_rows == 1235
    assert data.n_bytes == sum(os.path.getsize(f) for f in data.files)
    assert data.batch_rows == DEFAULT_BATCH_ROWS


def test_wide_rows_make_smaller_batches(tmp_path, monkeypatch):
    rows = np.full((50, 100), 0.01, dtype=np.float32)
    pq.write_table(pa.table({"label": np.arange(50) % 100, "probs": list(rows)}), tmp_path / "w.pq")
    monkeypatch.setattr(io_stream, "MAX_BATCH_BYTES", 4000)  # ten rows of 100 float32
    data = open_dataset(str(tmp_path))
    batches = list(data.batches())
    assert 8 <= data.batch_rows <= 10
    assert all(b.predictions.y_score.shape[1:] == (100,) for b in batches)
    assert sum(len(b.predictions.y_score) for b in batches) == 50


def test_batches_hold_the_same_arrays_as_the_single_file(tmp_path):
    """Lists become (N, K), a prob_0..K-1 family is stacked, names match case-insensitively."""
    scores = np.random.default_rng(0).dirichlet(np.ones(3), 40).astype(np.float32)
    t = pa.table(
        {
            "Y_True": pa.array(np.arange(40) % 3),
            "logits": pa.array(list(scores), type=pa.list_(pa.float32())),
            **{f"prob_{k}": scores[:, k] for k in range(3)},
        }
    )
    pq.write_table(t, tmp_path / "one.parquet")
    for i, part in enumerate([t.slice(0, 15), t.slice(15)]):
        pq.write_table(part, tmp_path / f"d-{i}.parquet")
    glob = str(tmp_path / "d-*.parquet")
    for pred_cols in (["LOGITS"], ["prob_*"]):
        whole = read_predictions(str(tmp_path / "one.parquet"), pred_cols=pred_cols)
        batches = list(open_dataset(glob, pred_cols=pred_cols, batch_rows=7).batches())
        y, p = gather(batches)
        assert p.shape == whole.y_score.shape == (40, 3)
        assert p.dtype == whole.y_score.dtype and y.dtype == whole.y_true.dtype
        assert_array_equal(p, whole.y_score)
        assert_array_equal(y, whole.y_true)
        first = batches[0].predictions
        assert first.prediction_columns == whole.prediction_columns
        assert first.declared_logits == whole.declared_logits


# ---- globs, directories, partitions, formats ---------------------------------------------------


def test_a_glob_takes_only_the_files_it_matches_and_a_directory_everything_below(tmp_path):
    write_parts(tmp_path / "train", [3, 4])
    write_parts(tmp_path / "test", [5])
    assert open_dataset(str(tmp_path / "train" / "*.parquet")).n_rows == 7
    assert open_dataset(str(tmp_path / "t*")).n_rows == 12  # matched directories are read whole
    assert open_dataset(str(tmp_path / "**" / "part-00.parquet")).n_rows == 8
    assert open_dataset(str(tmp_path)).n_rows == 12


def test_hidden_files_and_underscore_names_are_skipped(tmp_path):
    whole = write_parts(tmp_path, [3, 2])
    (tmp_path / "_SUCCESS").write_bytes(b"")
    pq.write_metadata(whole.schema, tmp_path / "_common_metadata")
    (tmp_path / ".tmp").mkdir()
    pq.write_table(table(0, 99), tmp_path / ".tmp" / "part-99.parquet")
    (tmp_path / "README.md").write_text("predictions of run 7\n")
    data = open_dataset(str(tmp_path))
    assert [Path(f).name for f in data.files] == ["part-00.parquet", "part-01.parquet"]
    assert data.n_rows == 5


def test_files_without_an_extension_are_recognised_by_their_first_bytes(tmp_path):
    pq.write_table(table(0, 3), tmp_path / "000000_0")
    feather.write_feather(table(3, 2), tmp_path / "000001_0")
    data = open_dataset(str(tmp_path))
    assert data.format == "parquet+arrow dataset" and data.n_rows == 5


def test_hive_partition_columns_are_ignored_unless_asked_for(tmp_path):
    for split, start in [("a", 0), ("b", 3)]:
        (tmp_path / f"split={split}").mkdir()
        pq.write_table(table(start, 3), tmp_path / f"split={split}" / "part.parquet")
    plain = open_dataset(str(tmp_path))
    assert plain.n_rows == 6 and plain.label_columns == ("label",)
    with raises("--label-col 'split' matches no column") as e:
        open_dataset(str(tmp_path), label_cols=["split"])
    assert "(columns: label, prob, junk)" in one_line(e)
    hive = open_dataset(str(tmp_path / "split=*"), label_cols=["split"], partitioning="hive")
    y, p = gather(list(hive.batches()))
    assert_array_equal(y, ["a", "a", "a", "b", "b", "b"])
    assert_array_equal(p, np.arange(6, dtype=np.float32) / 1000)
    assert hive.label_columns == ("split",)


def test_unknown_partitioning_is_refused(tmp_path):
    write_parts(tmp_path, [2])
    with raises("unknown partitioning 'directory'; use hive") as e:
        open_dataset(str(tmp_path), partitioning="directory")
    one_line(e)


def test_feather_and_parquet_files_mix_in_sorted_path_order(tmp_path):
    feather.write_feather(table(0, 3), tmp_path / "0.feather")
    pq.write_table(table(3, 2), tmp_path / "1.parquet")
    with (
        pa.OSFile(str(tmp_path / "2.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, table(5, 4).schema) as writer,
    ):
        writer.write_table(table(5, 4), max_chunksize=3)
    data = open_dataset(str(tmp_path), batch_rows=4)
    batches = list(data.batches())
    assert data.format == "parquet+arrow dataset" and data.n_rows == 9
    assert batches[0].predictions.format == "parquet+arrow dataset"
    assert batches[0].predictions.source == str(tmp_path)
    assert_array_equal(gather(batches)[1], np.arange(9, dtype=np.float32) / 1000)


# ---- refusals: one line, saying what to do -----------------------------------------------------


def test_a_pattern_matching_nothing_is_one_line(tmp_path):
    with raises("no file matches .*quote it") as e:
        open_dataset(str(tmp_path / "*.parquet"))
    one_line(e)


def test_a_directory_without_parquet_or_arrow_files_is_one_line(tmp_path):
    with raises("no prediction file in it .*; pass a file, or a directory or glob") as e:
        open_dataset(str(tmp_path))
    one_line(e)
    np.save(tmp_path / "scores.npy", np.zeros(3))
    with raises("found only scores.npy;"):
        open_dataset(str(tmp_path))


@pytest.mark.parametrize("pattern", ["", "*.csv*"])
def test_csv_files_are_not_streamed(tmp_path, pattern):
    (tmp_path / "a.csv").write_text("label,prob\n1,0.5\n")
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(b"label,prob\n0,0.25\n"))
    with raises("CSV files are read whole, not streamed; convert them to Parquet") as e:
        open_dataset(str(tmp_path / pattern) if pattern else str(tmp_path))
    assert "a.csv, b.csv.gz" in one_line(e)
    assert "pyarrow.csv" in str(e.value)


def test_csv_files_next_to_parquet_files_are_not_skipped_silently(tmp_path):
    write_parts(tmp_path, [2])
    (tmp_path / "extra.csv").write_text("label,prob\n1,0.5\n")
    with raises("next to Parquet/Arrow files; .*pass a glob of the others") as e:
        open_dataset(str(tmp_path))
    one_line(e)
    assert open_dataset(str(tmp_path / "*.parquet")).n_rows == 2


def test_a_file_missing_a_chosen_column_is_one_line(tmp_path):
    write_parts(tmp_path, [2])
    pq.write_table(table(2, 2).drop_columns(["prob"]), tmp_path / "part-01.parquet")
    with raises("part-01.parquet has no column 'prob', which .*part-00.parquet has") as e:
        open_dataset(str(tmp_path))
    one_line(e)


def test_columns_that_are_not_chosen_may_differ_between_files(tmp_path):
    write_parts(tmp_path, [2])
    pq.write_table(table(2, 2).drop_columns(["junk"]), tmp_path / "part-01.parquet")
    assert open_dataset(str(tmp_path)).n_rows == 4


def test_a_chosen_column_of_another_type_is_one_line(tmp_path):
    write_parts(tmp_path, [2])
    t = table(2, 2)
    t = t.set_column(1, "prob", t.column("prob").cast(pa.float64()))
    pq.write_table(t, tmp_path / "part-01.parquet")
    with raises("column 'prob' is float in .*part-00.parquet but double in .*part-01") as e:
        open_dataset(str(tmp_path))
    assert "same column types" in one_line(e)


def test_a_chosen_column_saved_twice_is_one_line(tmp_path):
    write_parts(tmp_path, [2])
    t = table(2, 2)
    pq.write_table(t.append_column("prob", t.column("prob")), tmp_path / "part-01.parquet")
    with raises("column 'prob' appears 2 times in .*part-01.parquet; write each column once") as e:
        open_dataset(str(tmp_path))
    one_line(e)


def test_an_unreadable_file_is_one_line_naming_it(tmp_path):
    write_parts(tmp_path, [2])
    (tmp_path / "part-01.parquet").write_bytes(b"PAR1 but nothing else")
    with raises("cannot read .*part-01.parquet as parquet") as e:
        open_dataset(str(tmp_path))
    one_line(e)


def test_a_dataset_of_empty_files_is_one_line(tmp_path):
    write_parts(tmp_path, [0, 0])
    with raises("no rows in .*; save at least one prediction") as e:
        open_dataset(str(tmp_path))
    one_line(e)


def test_bad_values_in_a_batch_are_refused_as_for_a_single_file(tmp_path):
    rows = pa.array([[0.5, 0.5], [1.0]], type=pa.list_(pa.float64()))
    pq.write_table(pa.table({"label": [0, 1], "probs": rows}), tmp_path / "p.parquet")
    with raises("rows of list column 'probs' in .* have different lengths") as e:
        list(open_dataset(str(tmp_path)).batches())
    one_line(e)


# ---- import cost -------------------------------------------------------------------------------


def test_pyarrow_dataset_is_imported_only_when_a_dataset_is_opened(tmp_path):
    write_parts(tmp_path, [3])
    code = (
        "import sys; from lossdoctor.io import is_dataset, open_dataset; "
        "loaded = lambda: 'pyarrow.dataset' in sys.modules; "
        "before = (is_dataset(sys.argv[1]), loaded()); open_dataset(sys.argv[1]); "
        "print(before, loaded())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "(True, False) True"


# ---- a CSV file too large for memory -----------------------------------------------------------


def big_csv(path: Path, rows: int = 2000) -> Path:
    text = "label,prob\n" + "".join(f"{i % 2},{i / rows:.6f}\n" for i in range(rows))
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())
    return path


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz"])
def test_a_csv_file_larger_than_the_available_memory_is_refused(tmp_path, monkeypatch, name):
    path = big_csv(tmp_path / name)
    # 22 kB of text, which parsed may take four times as much: 80 kB is not enough
    monkeypatch.setattr(memory, "available", lambda: 80_000)
    with raises(r"whole \(up to 4 times its size\), but only 80,000 bytes of memory") as e:
        read_predictions(str(path))
    message = one_line(e)
    assert "convert it to Parquet to stream it" in message
    assert "of CSV text" in message


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz"])
def test_a_csv_file_that_fits_in_memory_is_read(tmp_path, monkeypatch, name):
    path = big_csv(tmp_path / name)
    monkeypatch.setattr(memory, "available", lambda: 10**6)
    assert len(read_predictions(str(path)).y_score) == 2000
    monkeypatch.setattr(memory, "available", lambda: None)  # the system does not say
    assert len(read_predictions(str(path)).y_score) == 2000


def test_a_gzipped_csv_size_is_read_from_its_trailer(tmp_path):
    path = big_csv(tmp_path / "p.csv.gz", rows=5000)
    text = len(gzip.decompress(path.read_bytes()))
    assert io_csv._gz_text_size(str(path), path.stat().st_size) == text


def test_available_memory_is_memavailable(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemAvailable:    2000000 kB\n")
    monkeypatch.setattr(memory, "_MEMINFO", str(meminfo))
    assert memory._meminfo() == 2_048_000_000
    monkeypatch.setattr(memory, "_MEMINFO", str(tmp_path / "absent"))
    assert memory._meminfo() is None


@pytest.mark.parametrize(
    ("limit", "usage", "room"),
    [("4294967296\n", "1073741824\n", 3 << 30), ("max\n", "1073741824\n", None)],
)
def test_available_memory_is_the_least_of_the_system_the_cgroup_and_the_rlimit(
    tmp_path, monkeypatch, limit, usage, room
):
    (tmp_path / "memory.max").write_text(limit)
    (tmp_path / "memory.current").write_text(usage)
    monkeypatch.setattr(
        memory, "_CGROUPS", ((str(tmp_path / "memory.max"), str(tmp_path / "memory.current")),)
    )
    assert memory._cgroup_room() == room
    monkeypatch.setattr(memory, "_meminfo", lambda: 8 << 30)
    monkeypatch.setattr(memory, "_rlimit_room", lambda: None)
    assert memory.available() == (room or 8 << 30)
    monkeypatch.setattr(memory, "_rlimit_room", lambda: 1 << 30)
    assert memory.available() == 1 << 30


def test_the_address_space_rlimit_counts_what_the_process_already_holds(monkeypatch):
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda kind: (4 << 30, resource.RLIM_INFINITY))
    monkeypatch.setattr(memory, "_field", lambda path, name: 1 << 30)  # VmSize
    assert memory._rlimit_room() == 3 << 30
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (resource.RLIM_INFINITY,) * 2)
    assert memory._rlimit_room() is None


def lying_multi_member_gzip(members: int) -> bytes:
    """Members of 100,000 bytes of CSV rows each; the last trailer speaks for one member."""
    rows = b"0,0.5\n1,0.25\n" * 7_143
    return gzip.compress(b"label,prob\n") + gzip.compress(rows) * members


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_gzip_text_is_counted_while_inflating_whatever_the_trailer_says(tmp_path, monkeypatch, via):
    data = lying_multi_member_gzip(members=40)  # 4 MB of text from 12 kB
    path = tmp_path / "p.csv.gz"
    path.write_bytes(data)
    # 1 MB of memory: the trailer's 100 kB would pass, the 4 MB inflated may not
    monkeypatch.setattr(memory, "available", lambda: 1_000_000)
    monkeypatch.setattr(io_csv, "_GZ_MIN_RATIO", 0)  # no estimate from the gzip size either
    monkeypatch.setattr(io_csv, "_GZ_STDLIB_MAX", 0)  # pyarrow's reader, not the stdlib's
    if via == "file":
        with raises(r"p\.csv\.gz holds at least .* of CSV text") as e:
            read_predictions(str(path))
    else:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
        with raises(r"- holds at least .* of CSV text") as e:
            read_predictions("-")
    one_line(e)
    monkeypatch.setattr(memory, "available", lambda: 100_000_000)
    assert len(read_predictions(str(path)).y_score) == 40 * 14_286


def test_stdin_is_counted_as_it_is_read(monkeypatch):
    text = b"label,prob\n" + b"0,0.5\n" * 500_000  # 3 MB
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text)))
    monkeypatch.setattr(memory, "available", lambda: 1_000_000)
    with raises(r"stdin \(-\) holds more than the 1\.0 MB of memory available; save the data"):
        read_predictions("-")


# ---- a dataset that changes while it is read ---------------------------------------------------


def fixed_size_parquet(path: Path, seed: int) -> None:
    """Uncompressed and without dictionaries: the same size whatever the values."""
    rng = np.random.default_rng(seed)
    data = pa.table({"label": rng.integers(0, 2, 500), "prob": rng.uniform(0, 1, 500)})
    pq.write_table(data, path, compression="none", use_dictionary=False)


def rewrite_in_place(path: Path, seed: int) -> None:
    """Other rows, the same size and the same modification time: only the footer tells."""
    before = path.stat()
    fixed_size_parquet(path, seed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def count_rows(batch) -> int:
    return len(batch.predictions.y_score)


@pytest.mark.parametrize("change", ["same-size", "appended", "removed"])
def test_a_file_that_changes_between_passes_is_refused(tmp_path, change):
    for i in range(3):
        fixed_size_parquet(tmp_path / f"part-{i}.parquet", i)
    engine = Streaming(open_dataset(str(tmp_path)))
    assert engine.map_reduce(count_rows, operator.add) == 1500
    target = tmp_path / "part-1.parquet"
    if change == "same-size":
        rewrite_in_place(target, 99)
    elif change == "appended":
        with target.open("ab") as f:
            f.write(b"\0")
    else:
        target.unlink()
    with raises(r"part-1\.parquet changed while it was read .*run again once the files") as e:
        engine.map_reduce(count_rows, operator.add)
    one_line(e)


def test_a_file_rewritten_during_a_pass_is_refused_at_its_end(tmp_path):
    for i in range(2):
        fixed_size_parquet(tmp_path / f"part-{i}.parquet", i)

    def rewrite_during(batch) -> int:
        if batch.first_row == 0:  # once: batches are summarised two at a time, on threads
            rewrite_in_place(tmp_path / "part-0.parquet", 7)
        return count_rows(batch)

    engine = Streaming(open_dataset(str(tmp_path), batch_rows=100))
    with raises(r"part-0\.parquet changed while it was read \(rewritten in place\)"):
        engine.map_reduce(rewrite_during, operator.add)


def test_an_unchanged_dataset_reads_the_same_on_every_pass(tmp_path):
    for i in range(2):
        fixed_size_parquet(tmp_path / f"part-{i}.parquet", i)
    (tmp_path / "part-0.parquet").touch()  # touched before opening: no change after
    engine = Streaming(open_dataset(str(tmp_path)))
    assert [engine.map_reduce(count_rows, operator.add) for _ in range(3)] == [1000] * 3


def test_a_glob_follows_glob_rules_for_hidden_names(tmp_path):
    write_parts(tmp_path / "runs" / ".staging", [2])
    write_parts(tmp_path / "runs" / "final", [3])
    assert open_dataset(str(tmp_path / "runs" / "*" / "*.parquet")).n_rows == 3
    assert open_dataset(str(tmp_path / "runs" / "**" / "*.parquet")).n_rows == 3
    assert open_dataset(str(tmp_path / "runs" / ".staging" / "*.parquet")).n_rows == 2
    assert open_dataset(str(tmp_path / "r*" / ".staging" / "*.parquet")).n_rows == 2
    assert open_dataset(str(tmp_path / "r*" / ".*" / "*.parquet")).n_rows == 2
