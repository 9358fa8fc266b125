"""Files crafted by an adversary: forged offsets, lying headers, bombs, loops, files that change
while read. Each run is a subprocess bounded in memory (RLIMIT_AS) and CPU time (RLIMIT_CPU), so
a regression fails its test instead of taking the machine down, and must end with exit 2 and one
line naming the file: never a crash, a traceback, exit 3 or a hang.

Attacks that take seconds are marked slow: `pytest -m "not slow"` is the quick loop; `make test`
runs them all.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import refused, run_bounded

N = 1000
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
HEALTHY = SAMPLES / "healthy_binary.csv"


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
    refused(run_bounded(path), name, "offset")


def test_dictionary_indices_outside_the_dictionary_are_refused(tmp_path):
    path = tmp_path / "p.arrow"
    path.write_bytes(overrun_dictionary())
    refused(run_bounded(path), "p.arrow", "out of bounds")


def test_a_forged_arrow_file_on_stdin_is_refused():
    refused(
        run_bounded("-", "--input-format", "arrow", stdin=overrun_offsets()), "- as arrow", "offset"
    )


def test_a_forged_file_in_a_dataset_is_refused_by_name(tmp_path):
    (tmp_path / "run").mkdir()
    ipc = ipc_bytes(labelled_table())
    (tmp_path / "run" / "a.arrow").write_bytes(ipc)
    (tmp_path / "run" / "b.arrow").write_bytes(overrun_offsets())
    refused(run_bounded(tmp_path / "run"), "b.arrow", "offset")


def test_the_honest_files_the_forgeries_come_from_are_read(tmp_path):
    path = tmp_path / "p.arrow"
    path.write_bytes(ipc_bytes(labelled_table()))
    result = run_bounded(path, "--format", "json")
    assert result.returncode in (0, 1), result.stderr


# ---- config files: regular files only, of bounded size and nesting -----------------------------


def test_a_config_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "lossdoctor.toml"
    os.mkfifo(fifo)
    refused(run_bounded(HEALTHY, "--config", fifo, timeout=30), "lossdoctor.toml", "regular file")


def test_a_config_that_never_ends_is_refused_without_reading_it():
    refused(run_bounded(HEALTHY, "--config", "/dev/zero", timeout=30), "/dev/zero", "regular file")


def test_a_config_larger_than_the_limit_is_refused(tmp_path):
    config = tmp_path / "lossdoctor.toml"
    config.write_text("# padding\n" * 200_000 + 'fail-on = "warning"\n')
    refused(run_bounded(HEALTHY, "--config", config), "lossdoctor.toml", "larger than 1 MB")


@pytest.mark.parametrize("found", [False, True])
def test_a_config_nested_a_hundred_thousand_deep_is_refused(tmp_path, found):
    config = tmp_path / ("pyproject.toml" if found else "deep.toml")
    depth = 100_000
    config.write_text("[tool.lossdoctor]\nfail-on = " + "[" * depth + "]" * depth + "\n")
    args = [] if found else ["--config", config]
    refused(run_bounded(HEALTHY, *args, cwd=tmp_path), config.name, "nested too deeply")


def test_a_config_at_the_size_limit_is_still_read(tmp_path):
    config = tmp_path / "lossdoctor.toml"
    config.write_text("threshold = 0.3\n" + "#" * ((1 << 20) - 100) + "\n")
    result = run_bounded(HEALTHY, "--config", config, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["threshold"] == 0.3


# ---- bombs and lying sizes: gzip, .npy, .npz -------------------------------------------------


def gzip_bomb(path: Path, gigabytes: int) -> Path:
    """A header, then one gzip member of 64 MB of CSV rows repeated: each trailer is honest about
    its own member, and the last one says 64 MB of the whole."""
    rows = b"0,0.5\n" * ((64 << 20) // 6)
    member = gzip.compress(rows, compresslevel=1)
    with path.open("wb") as f:
        f.write(gzip.compress(b"label,prob\n"))
        for _ in range(gigabytes * 16):
            f.write(member)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_multi_member_gzip_bomb_is_refused_while_inflating(tmp_path, via):
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", gigabytes=4)  # 18 MB on disk
    result = run_bounded(bomb) if via == "file" else run_bounded("-", stdin=bomb)
    refused(result, "bomb.csv.gz" if via == "file" else "-", "of CSV text", "convert it to Parquet")


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return out.getvalue()


def lying_npy(rows: int) -> bytes:
    """A header declaring `rows` float64 values, followed by a thousand of them."""
    return npy_header((rows,)) + np.linspace(0, 1, N).tobytes()


def zip_bytes(name: str, data: bytes, method: int = zipfile.ZIP_STORED, **sizes: int) -> bytes:
    """A one-member zip archive written field by field: `sizes` (crc, file_size, compressed)
    may say what the data is not."""
    crc = sizes.get("crc", zlib.crc32(data) if method == zipfile.ZIP_STORED else 0)
    usize = sizes.get("file_size", len(data))
    csize = sizes.get("compressed", len(data))
    encoded = name.encode()
    fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0x21, crc, csize, usize)
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + fields
        + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, 0)
        + encoded
    )
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0
    )
    return local + data + central + end


def npz_bomb() -> bytes:
    """y_pred.npy inflating to 2 GiB of zeros from 9 MB: deflate blocks of 64 MB of zeros,
    each after a full flush, so one compressed block repeats."""
    header = npy_header((1 << 28,))
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(64 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = head + block * 32 + compressor.flush()
    crc = zlib.crc32(header)
    zeros = bytes(64 << 20)
    for _ in range(32):
        crc = zlib.crc32(zeros, crc)
    size = len(header) + (32 << 26)
    return zip_bytes(
        "y_pred.npy", data, zipfile.ZIP_DEFLATED, crc=crc, file_size=size, compressed=len(data)
    )


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_an_npy_header_declaring_terabytes_is_refused_before_allocating(tmp_path, via):
    labels = tmp_path / "y.npy"
    np.save(labels, np.arange(N) % 2)
    forged = lying_npy(1 << 40)
    if via == "file":
        (tmp_path / "p.npy").write_bytes(forged)
        result = run_bounded(tmp_path / "p.npy", "--labels", labels)
    else:
        result = run_bounded("-", "--labels", labels, "--input-format", "npy", stdin=forged)
    refused(result, "declares an array of shape (1099511627776,)", "holds 8,000 bytes")


def test_an_npz_member_declaring_2_to_the_33_rows_is_refused(tmp_path):
    out = io.BytesIO()
    np.savez(out, y_true=np.arange(N) % 2)
    with zipfile.ZipFile(out, "a") as z:
        z.writestr("y_pred.npy", lying_npy(1 << 33))
    (tmp_path / "p.npz").write_bytes(out.getvalue())
    refused(run_bounded(tmp_path / "p.npz"), "'y_pred.npy' in", "p.npz", "(8589934592,)")


def test_an_npz_member_inflating_past_memory_is_refused_before_inflating(tmp_path):
    path = tmp_path / "p.npz"
    bomb = npz_bomb()
    assert len(bomb) < 10 << 20
    out = io.BytesIO(bomb)
    with zipfile.ZipFile(out, "a") as z:
        z.writestr("y_true.npy", npy_header((N,), "<i8") + bytes(8 * N))
    path.write_bytes(out.getvalue())
    refused(run_bounded(path), "p.npz", "inflate to 2.1 GB", "memory available")


def test_an_honest_npz_written_field_by_field_is_read(tmp_path):
    """The archive writer of these tests makes archives numpy reads."""
    array = np.linspace(0, 1, N)
    member = npy_header((N,)) + array.tobytes()
    with zipfile.ZipFile(io.BytesIO(zip_bytes("y_pred.npy", member))) as z:
        np.testing.assert_array_equal(np.load(z.open("y_pred.npy")), array)


# ---- values that would blow up in numpy: megabyte labels, uint64 past int64 --------------------


def long_label_table(rows: int = N) -> pa.Table:
    """One label of a megabyte among short ones: as numpy text, 4 MB a row."""
    labels = ["cat", "dog"] * (rows // 2)
    labels[7] = "x" * (1 << 20)
    return pa.table({"label": labels, "prob": np.linspace(0.01, 0.99, rows)})


@pytest.mark.parametrize("name", ["p.parquet", "p.arrow", "p.csv", "run"])
def test_a_label_of_a_megabyte_is_refused_not_widened(tmp_path, name):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = tmp_path / name
    if name == "run":  # a dataset: read in batches
        path.mkdir()
        pq.write_table(long_label_table(), path / "part-0.parquet")
    elif name.endswith(".parquet"):
        pq.write_table(long_label_table(), path)
    elif name.endswith(".arrow"):
        path.write_bytes(ipc_bytes(long_label_table()))
    else:
        # pyarrow's reader (the stdlib's refuses fields over 128 kB)
        pacsv.write_csv(long_label_table(rows=200_000), path)
    refused(run_bounded(path), "column 'label'", "1,048,576 characters", "at most 1,000")


def test_labels_at_the_text_limit_are_read(tmp_path):
    import pyarrow.parquet as pq

    labels = ["a" * 1000, "b" * 1000] * (N // 2)
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": labels, "prob": np.linspace(0.01, 0.99, N)}), path)
    result = run_bounded(path, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["input"]["rows"] == N


@pytest.mark.parametrize("classes", [2, 3])
def test_uint64_labels_past_int64_are_refused(tmp_path, classes):
    import pyarrow.parquet as pq

    rows = np.arange(N)
    labels = (rows % classes).astype(np.uint64) + np.uint64(1 << 63)
    scores = np.random.default_rng(0).dirichlet(np.ones(classes), N)
    columns = {"label": labels} | {f"prob_{k}": scores[:, k] for k in range(classes)}
    pq.write_table(pa.table(columns), tmp_path / "p.parquet")
    refused(run_bounded(tmp_path / "p.parquet"), "column 'label'", "past 2**63 - 1")


def test_uint64_labels_within_int64_are_read_as_integers(tmp_path):
    import pyarrow.parquet as pq

    labels = (np.arange(N) % 2).astype(np.uint64)
    pq.write_table(
        pa.table({"label": labels, "prob": np.linspace(0.01, 0.99, N)}), tmp_path / "p.parquet"
    )
    result = run_bounded(tmp_path / "p.parquet", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["task"] == "binary"


# ---- lying row counts --------------------------------------------------------------------------


def rows_declared(count: int) -> bytes:
    """An IPC file of a thousand rows whose record batch and columns declare `count` rows."""
    table = pa.table({"label": np.arange(N) % 2, "prob": np.linspace(0.01, 0.99, N)})
    data = ipc_bytes(table)
    honest = struct.pack("<q", N)
    assert data.count(honest) == 3  # the batch's length and each column's
    return data.replace(honest, struct.pack("<q", count))


def parquet_rows_declared(count: int) -> bytes:
    """A Parquet file of a thousand rows whose footer declares `count` (the file's and its row
    group's num_rows, thrift varints, rewritten and the footer's length with them)."""
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table({"label": np.arange(N) % 2, "prob": np.linspace(0, 1, N)}), out)
    data = out.getvalue()
    length = struct.unpack("<i", data[-8:-4])[0]
    footer = data[-8 - length : -8]
    footer = footer.replace(b"\x16" + _varint(2 * N), b"\x16" + _varint(2 * count))  # zigzag
    forged = data[: -8 - length] + footer + struct.pack("<i", len(footer)) + b"PAR1"
    assert pq.ParquetFile(io.BytesIO(forged)).metadata.num_rows == count
    return forged


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


@pytest.mark.parametrize("as_dataset", [False, True])
def test_a_parquet_footer_declaring_2_to_the_40_rows_is_refused_before_allocating(
    tmp_path, as_dataset
):
    """pyarrow allocates for the declared rows first: unbounded, the machine runs out."""
    (tmp_path / "run").mkdir()
    for i in range(2):
        (tmp_path / "run" / f"part-{i}.parquet").write_bytes(parquet_rows_declared(1 << 40))
    path = tmp_path / "run" if as_dataset else tmp_path / "run" / "part-0.parquet"
    refused(run_bounded(path, timeout=60), "part-0.parquet declares 1,099,511,627,776 rows")


def test_an_arrow_file_declaring_2_to_the_40_rows_is_refused(tmp_path):
    (tmp_path / "p.arrow").write_bytes(rows_declared(1 << 40))
    refused(run_bounded(tmp_path / "p.arrow"), "p.arrow", "length 1099511627776")


def test_a_dataset_of_files_declaring_2_to_the_40_rows_is_refused_at_once(tmp_path):
    """A scan would first cut each batch into a billion slices."""
    (tmp_path / "run").mkdir()
    for i in range(3):
        (tmp_path / "run" / f"part-{i}.arrow").write_bytes(rows_declared(1 << 40))
    refused(run_bounded(tmp_path / "run", timeout=60), "part-0.arrow", "length 1099511627776")


# ---- datasets: symlink loops, files that change between passes ---------------------------------


def parquet_parts(directory: Path, files: int, rows: int = N) -> None:
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        labels = (np.arange(rows) + i) % 2
        table = pa.table({"label": labels, "prob": np.linspace(0.01, 0.99, rows)})
        pq.write_table(table, directory / f"part-{i:02d}.parquet")


def rows_read(*args: object) -> int:
    result = run_bounded(*args, "--format", "json", timeout=60)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["input"]["rows"]


@pytest.mark.parametrize("pattern", ["{root}/**/*.parquet", "{root}/**", "{root}"])
def test_symlink_loops_are_followed_once_and_every_file_read_once(tmp_path, pattern):
    root = tmp_path / "preds"
    parquet_parts(root / "day-1", 3)
    parquet_parts(root / "day-2", 2)
    (root / "day-1" / "up").symlink_to(root, target_is_directory=True)  # a loop
    (root / "day-2" / "self").symlink_to(root / "day-2", target_is_directory=True)  # another
    (root / "day-2" / "again.parquet").symlink_to(root / "day-1" / "part-00.parquet")
    (root / "latest").symlink_to(root / "day-2", target_is_directory=True)
    assert rows_read(pattern.format(root=root)) == 5 * N


def test_a_fifo_in_a_dataset_is_skipped_not_opened(tmp_path):
    parquet_parts(tmp_path / "run", 2)
    os.mkfifo(tmp_path / "run" / "000000_0")  # no extension: it would be sniffed
    assert rows_read(tmp_path / "run") == 2 * N


@pytest.mark.slow
def test_a_parquet_footer_declaring_2_to_the_40_rows_is_refused_by_the_dask_engine(tmp_path):
    pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "part-0.parquet").write_bytes(parquet_rows_declared(1 << 40))
    result = run_bounded(tmp_path / "run", "--engine", "dask", memory=4 << 30, timeout=120)
    refused(result, "part-0.parquet declares 1,099,511,627,776 rows")


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_json_lines_nested_two_hundred_thousand_deep_are_refused_before_parsing(tmp_path, via):
    """pyarrow's JSON parser aborts the process (std::bad_alloc) on such nesting."""
    depth = 200_000
    row = '{"label": 1, "prob": 0.5, "x": ' + '{"a": ' * depth + "1" + "}" * depth + "}\n"
    data = (row + '{"label": 0, "prob": 0.25}\n').encode()
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    result = (
        run_bounded(path)
        if via == "file"
        else run_bounded("-", "--input-format", "jsonl", stdin=data)
    )
    refused(result, "nests objects or lists more than 1,000 deep")


def test_json_lines_nested_as_predictions_are_read(tmp_path):
    rows = [{"label": i % 2, "probs": [0.3, 0.7], "meta": {"run": {"id": i}}} for i in range(N)]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run_bounded(path, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["input"]["rows"] == N
