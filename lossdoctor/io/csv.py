"""CSV (plain or gzipped): the stdlib reads small files, pyarrow large ones, with limits on
what is read before anything can say the file is no table of predictions."""

from __future__ import annotations

import csv
import io
import os
import zlib
from collections.abc import Sequence

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import memory
from lossdoctor.io.arrow import arrow_columns, arrow_errors, dedup
from lossdoctor.io.predictions import _check_text_width
from lossdoctor.io.sources import _GZIP, _Loader, _Src, _stream, head_bytes, open_regular, reading

_CSV_STDLIB_MAX = 2_000_000  # below this the stdlib beats pyarrow's import time
_GZ_STDLIB_MAX = 1_000_000  # compressed bytes: the uncompressed size is unknown
_GZ_INFLATED_MAX = 8_000_000  # a small .gz can inflate a thousandfold: past this, pyarrow streams
# Limits on a CSV header: past them the file is no table of predictions, and reading on would
# exhaust memory (one "line" of gigabytes, millions of columns) before anything could say so.
# The header limit is above _GZ_INFLATED_MAX and _CSV_STDLIB_MAX: only pyarrow's path checks it.
MAX_COLUMNS = 100_000
MAX_HEADER_BYTES = 8 * 2**20
_CSV_ERRORS = (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error)
# A CSV file is parsed whole, and its table can take more room than its text: a one-digit cell
# and its comma (2 bytes) become an 8-byte number. Text of more than a quarter of the memory
# available is refused (before reading where its size is known, while inflating gzip), with the
# way to stream it.
TEXT_SHARE_OF_MEMORY = 4
_INFLATE_CHUNK = 1 << 20
_PYARROW_BLOCK = 1 << 20  # pyarrow.csv.ReadOptions' default block_size
_GZ_MIN_RATIO = 2  # CSV text of numbers gzips at least twofold
CSV_TO_PARQUET_STREAMING = (
    "python -c \"import pyarrow.csv as c, pyarrow.parquet as p; r = c.open_csv('F.csv'); "
    "w = p.ParquetWriter('F.parquet', r.schema); [w.write_batch(b) for b in r]; w.close()\""
)


def _csv_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Small files go through the stdlib: importing pyarrow would cost more than parsing."""
    if isinstance(src, bytes):  # stdin
        gz, size = src[:2] == _GZIP, len(src)
    else:
        gz, size = head_bytes(src, 2) == _GZIP, os.path.getsize(src)
        _check_fits(src, gz, size, source)
    small = size < (_GZ_STDLIB_MAX if gz else _CSV_STDLIB_MAX)
    return _small_csv(src, gz, source) if small else _large_csv(src, gz, source)


def _check_fits(path: str, gz: bool, size: int, source: str) -> None:
    """A quick refusal of what is too large from the start; a trailer only says "at least",
    so gzip text is also counted while it is inflated (_count_text)."""
    available = memory.available()
    if available is None:
        return
    with reading(source, "csv", _CSV_ERRORS):
        text = _gz_text_size(path, size) if gz else size
    if text * TEXT_SHARE_OF_MEMORY > available:
        raise _too_large(source, text, available, at_least=gz)


def _too_large(source: str, text: int, available: int, *, at_least: bool) -> InputError:
    size = f"{'at least ' if at_least else ''}{memory.shown(text)}"
    return InputError(
        f"{source} holds {size} of CSV text, and CSV is read into memory whole (up to "
        f"{TEXT_SHARE_OF_MEMORY} times its size), but only {memory.shown(available)} of memory "
        f"is available; convert it to Parquet to stream it: {CSV_TO_PARQUET_STREAMING}, then "
        "pass F.parquet (or a directory of such files)"
    )


def _gz_text_size(path: str, size: int) -> int:
    """At least: the gzip trailer holds the size modulo 4 GiB (of the last member only), and
    CSV text of numbers is rarely less than twice its gzipped size."""
    with open_regular(path) as f:
        f.seek(max(size - 4, 0))
        trailer = int.from_bytes(f.read(4), "little")
    return max(trailer, size * _GZ_MIN_RATIO)


def _small_csv(src: _Src, gz: bool, source: str) -> tuple[list[str], _Loader]:
    with reading(source, "csv", _CSV_ERRORS):
        if isinstance(src, bytes):
            raw = src
        else:
            with open_regular(src) as f:
                raw = f.read()
        if gz:
            raw = _inflate(raw)
    if raw is None:  # a small .gz that inflates to a large file: pyarrow streams it
        return _large_csv(src, gz, source)
    with reading(source, "csv", _CSV_ERRORS):
        reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), skipinitialspace=True)
        header = next(reader, None)
        # Blank (or whitespace) lines before the header are skipped, as pyarrow's path does.
        while header is not None and len(header) <= 1 and not "".join(header).strip():
            header = next(reader, None)
        if header is None:
            raise InputError(f"{source} is empty; expected a header row with column names")
        _check_width(header, source)
        body = [row for row in reader if row]
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise InputError(
                f"data row {number} of {source} has {len(row)} fields but the header "
                f"has {len(header)}; fix the file"
            )
    columns = list(zip(*body, strict=True)) or [()] * len(header)
    first = {}
    for i, name in enumerate(header):
        first.setdefault(name, i)  # duplicate names: the first one wins
    return list(first), lambda cols: {c: _parse_text(c, columns[first[c]], source) for c in cols}


def _inflate(data: bytes) -> bytes | None:
    """Gunzipped bytes, or None past _GZ_INFLATED_MAX (never the whole of a gzip bomb)."""
    import gzip

    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        out = f.read(_GZ_INFLATED_MAX + 1)
    return out if len(out) <= _GZ_INFLATED_MAX else None


def _check_width(header: list[str], source: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise InputError(
            f"{source} has {len(header):,} columns, more than the {MAX_COLUMNS:,} lossdoctor "
            "reads; save only the label and prediction columns"
        )


# pyarrow's CSV reader takes these cells for missing: the small-file reader must agree.
_MISSING = dict.fromkeys(
    ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"),
    "nan",
)  # fmt: skip


def _parse_text(name: str, values: Sequence[str], source: str) -> np.ndarray:
    """Whole-column conversion: int64 if every cell is an integer, else float64, bool or str."""
    for dtype in (np.int64, np.float64):
        cells = values if dtype is np.int64 else [_MISSING.get(v.strip(), v) for v in values]
        try:
            return np.array(cells, dtype=dtype)
        except (ValueError, OverflowError):
            pass
    words = {v.strip().lower() for v in values}
    if words and words <= {"true", "false"}:
        return np.array([v.strip().lower() == "true" for v in values])
    _check_text_width(name, max(map(len, values), default=0), source)
    return np.array(values, dtype=str)


def _large_csv(src: _Src, gz: bool, source: str) -> tuple[list[str], _Loader]:
    """pyarrow's multi-threaded reader, reading only the chosen columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    errors = (*arrow_errors(), *_CSV_ERRORS)
    with reading(source, "csv", errors):
        header, lines_before_data, header_bytes = _csv_header(src, gz, source)
    if not header:
        raise InputError(f"{source} is empty; expected a header row with column names")
    _check_width(header, source)
    first = {n: i for i, n in reversed(list(enumerate(header)))}
    # pyarrow needs unique names: a later duplicate gets a name no one would type
    unique = [n if first[n] == i else f"{n}\0{i}" for i, n in enumerate(header)]

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with reading(source, "csv", errors):
            if gz:
                _count_text(src, source)
            stream = pa.input_stream(
                _stream(src) if isinstance(src, str) else pa.py_buffer(src),
                compression="gzip" if gz else None,
            )
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=unique,
                    skip_rows=lines_before_data,
                    block_size=_block_size(header_bytes),
                ),
                convert_options=pacsv.ConvertOptions(include_columns=cols),
            )
            return arrow_columns(table, source)

    return dedup(header), load


def _block_size(header_bytes: int) -> int:
    """pyarrow skips the header only within its first block (1 MB by default): a block twice the
    header's size (and what precedes it) lets headers up to MAX_HEADER_BYTES through."""
    return max(_PYARROW_BLOCK, 2 * header_bytes)


def _csv_header(src: _Src, gz: bool, source: str) -> tuple[list[str], int, int]:
    """The header, the lines up to the first data row (blank lines before the header, which the
    stdlib reader skips too, and the header's own: pyarrow skips lines, not records) and the bytes
    of both, read with a limit: a file that is one endless line must not fill memory."""
    import gzip

    blank = 0
    with io.BytesIO(src) if isinstance(src, bytes) else open_regular(src) as raw:
        lines = gzip.GzipFile(fileobj=raw) if gz else raw
        line = lines.readline(MAX_HEADER_BYTES + 1)
        while line.strip() == b"" and line and lines.tell() <= MAX_HEADER_BYTES:
            blank += 1
            line = lines.readline(MAX_HEADER_BYTES + 1)
        header_lines = 1
        # A quoted name may hold a line break: the header goes on until its quotes close.
        while line.count(b'"') % 2 and lines.tell() <= MAX_HEADER_BYTES:
            more = lines.readline(MAX_HEADER_BYTES + 1)
            if not more:
                break
            line += more
            header_lines += 1
        consumed = lines.tell()
    if consumed > MAX_HEADER_BYTES:  # one endless line, or blank lines without end
        raise InputError(
            f"the first line of {source} ends past its first {MAX_HEADER_BYTES // 2**20} MB: "
            "not a CSV header; check the file, or name its format with --input-format"
        )
    names = next(csv.reader([line.decode("utf-8-sig")], skipinitialspace=True), [])
    return names, blank + header_lines, consumed


def _count_text(src: _Src, source: str) -> None:
    """Inflate every gzip member once, keeping nothing, and refuse text past its share of the
    memory available, whatever the trailers say: a few MB of gzip can hold many GB. Counted
    before parsing, so that a bomb is refused before it takes any memory."""
    import gzip

    limit = memory.available()
    if limit is None:
        return
    count = 0
    with io.BytesIO(src) if isinstance(src, bytes) else open_regular(src) as raw:
        text = gzip.GzipFile(fileobj=raw)
        while chunk := text.read(_INFLATE_CHUNK):
            count += len(chunk)
            if count * TEXT_SHARE_OF_MEMORY > limit:
                raise _too_large(source, count, limit, at_least=True)
