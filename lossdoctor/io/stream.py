"""Predictions larger than memory: a directory or glob of Parquet / Feather / Arrow IPC files,
read as one dataset, one batch of rows at a time, on this machine.

The files are found as io.dataset finds them for every engine; files that are neither Parquet
nor Arrow are skipped. Rows are read in file order; a batch's `first_row` counts rows across
the whole dataset. Only the label and prediction columns are read.

pyarrow.dataset is imported only when a dataset is opened: it imports pandas (a few tenths of
a second), which a dataset can afford and a small file cannot.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from lossdoctor.errors import InputError
from lossdoctor.io.arrow import (
    arrow_errors,
    check_declared_rows,
    dedup,
    field_array,
    validated,
)
from lossdoctor.io.columns import listing, pick_weight, resolve_columns
from lossdoctor.io.dataset import check_partitioning, check_schemas, find_files, relative
from lossdoctor.io.fingerprint import Fingerprint, check_unchanged, fingerprint
from lossdoctor.io.footers import (
    FileFooter,
    column_batches,
    count_rows,
    first_rows,
    kind,
    plain,
    told_by_footer,
)
from lossdoctor.io.predictions import Predictions, _assemble
from lossdoctor.io.segments import FILE, Coded, parse_by, segment_columns
from lossdoctor.io.sources import reading

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow's default Parquet row group: a row group read whole is one batch, without a copy.
DEFAULT_BATCH_ROWS = 1 << 20
# Wide rows (a thousand classes) cap a batch by size instead: 2**20 such rows are 4 GB.
MAX_BATCH_BYTES = 256 << 20
_FILE_CODE = "\x00file"  # the column of each row's file, with --by file (no file can name it)
_PROBE_ROWS = 1024  # rows read up front to learn how wide a row is
# pyarrow.dataset's name for each streamed format
_DATASET_FORMATS = {"parquet": "parquet", "feather": "ipc", "arrow": "ipc"}
CSV_TO_PARQUET = (
    'python -c "import sys, pyarrow.csv as c, pyarrow.parquet as p; '
    "[p.write_table(c.read_csv(f), f + '.parquet') for f in sys.argv[1:]]\" FILES.csv"
)


class Batch(NamedTuple):
    """Some consecutive rows of a dataset, and the dataset-wide index of the first of them."""

    predictions: Predictions
    first_row: int


@dataclass(frozen=True)
class Dataset:
    """An opened dataset: its files and chosen columns are known; no row has been read yet."""

    source: str  # the directory or glob as given
    format: str  # "parquet dataset", "arrow dataset" (Feather/IPC), or "parquet+arrow dataset"
    files: tuple[str, ...]  # in the order their rows are read
    n_rows: int  # from the files' metadata
    n_bytes: int  # on disk
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    batch_rows: int  # the most rows a batch holds (fewer when rows are wide)
    weight_column: str  # the sample weights' column, '' without weights
    weight_by_name: bool  # ... found by its name, not by --weight-col
    # --by name -> the column it reads (io.segments); by_file: --by file, each file a segment
    segment_columns: Mapping[str, str] = field(repr=False)
    by_file: bool = field(repr=False)
    _pieces: tuple[Any, ...] = field(repr=False)  # pyarrow fragments: Parquet row groups, files
    _schema: pa.Schema = field(repr=False)
    _fingerprints: tuple[Fingerprint, ...] = field(repr=False)  # of files, when opened
    _base: str = field(repr=False)  # what files are named relative to

    def batches(self, progress: Callable[[int], None] | None = None) -> Iterator[Batch]:
        """Every row, in batches of at most batch_rows rows; each call starts from the first row.

        progress(rows) is called after each batch has been used. A file that is not what it
        was when the dataset was opened, before or after the pass, is an InputError: passes
        over different rows would make one report of two datasets.
        """
        self._check_unchanged()
        first_row = 0
        for table in self._tables():
            yield self._batch(table, first_row)
            first_row += table.num_rows
            if progress is not None:
                progress(table.num_rows)
        self._check_unchanged()

    def footers(self, head_rows: int) -> list[FileFooter] | None:
        """What each file's Parquet footer says of its rows, and its first head_rows rows
        (files without rows left out). None where the footers cannot say it all: a file that is
        not Parquet, several label or score columns, labels that are not integers, scores that
        are not float32 or float64, a row group without min/max statistics or with nulls,
        sample weights or --by columns (surveyed from their rows)."""
        import pyarrow as pa

        columns = (*self.label_columns, *self.prediction_columns)
        parquet = all(kind(piece) == "parquet" for piece in self._pieces)
        if (
            not (parquet and plain(self._schema, columns))
            or self.weight_column
            or self.segment_columns
        ):
            return None
        self._check_unchanged()
        footers, first_row = [], 0
        for code, file in enumerate(self.files):
            pieces = [piece for piece in self._pieces if piece.path == file]
            with reading(file, "parquet", arrow_errors()):
                told = told_by_footer(pieces, self.prediction_columns[0])
                head = validated(first_rows(pieces[0], self._schema, self._read_columns, head_rows))
            if told is None or not head.num_rows:
                return None
            if self.by_file:
                head = pa.Table.from_batches([self._with_file(b, code) for b in head.to_batches()])
            rows, low, high = told
            if rows:
                name = os.path.relpath(file, self._base)
                footers.append(
                    FileFooter(name, rows, low, high, self._batch(head, first_row), pieces)
                )
            first_row += rows
        return footers

    def labels_of(self, footer: FileFooter) -> Iterator[Any]:
        """The label column of one file, batch by batch: a pass that reads nothing else."""
        name = self.label_columns[0]
        for batch in column_batches(footer.pieces, self._schema, name, self.batch_rows):
            yield self._column(batch, name)
        index = self.files.index(footer.pieces[0].path)
        check_unchanged(self.files[index], self._fingerprints[index])

    def _batch(self, table: pa.Table | pa.RecordBatch, first_row: int) -> Batch:
        """Rows read as predictions: the chosen columns checked and stacked."""
        labels = {n: self._column(table, n) for n in self.label_columns}
        scores = {n: self._column(table, n) for n in self.prediction_columns}
        weight = self.weight_column
        weights = (weight, self._column(table, weight)) if weight else None
        predictions = _assemble(
            labels,
            scores,
            self.source,
            self.format,
            weight=weights,
            weight_by_name=self.weight_by_name,
            segments=self._segments(table),
        )
        return Batch(predictions, first_row)

    def _check_unchanged(self) -> None:
        for file, before in zip(self.files, self._fingerprints, strict=True):
            check_unchanged(file, before)

    def _segments(self, table: pa.Table) -> dict[str, Any]:
        """The batch's --by columns, and with --by file each row's file (a code into files)."""
        found: dict[str, Any] = {
            name: self._column(table, column) for name, column in self.segment_columns.items()
        }
        if self.by_file:
            codes = table.column(_FILE_CODE).to_numpy()
            found[FILE] = Coded(codes, tuple(os.path.relpath(f, self._base) for f in self.files))
        return found

    @property
    def _read_columns(self) -> list[str]:
        weights = [self.weight_column] if self.weight_column else []
        segments = list(self.segment_columns.values())
        return dedup([*self.label_columns, *self.prediction_columns, *weights, *segments])

    def _column(self, table: pa.Table, name: str) -> Any:
        return field_array(table.schema.field(name), table.column(name), self.source)

    def _tables(self) -> Iterator[pa.Table]:
        """Record batches re-cut to batch_rows rows: one record batch is viewed in place, and
        only rows that straddle record batches (or files) are copied together."""
        import pyarrow as pa

        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in self._record_batches():
            pending.append(batch)
            held += batch.num_rows
            while held >= self.batch_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, self.batch_rows)
                pending = table.slice(self.batch_rows).to_batches()
                held -= self.batch_rows
        if held:
            yield pa.Table.from_batches(pending)

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        """One piece after the other, reading ahead one record batch (memory stays flat)."""
        import pyarrow.dataset as ds

        columns = self._read_columns
        files = {file: i for i, file in enumerate(self.files)}
        for fragment in self._pieces:
            scanner = ds.Scanner.from_fragment(
                fragment,
                schema=self._schema,
                columns=columns,
                batch_size=self.batch_rows,
                batch_readahead=1,
                fragment_readahead=1,
                # threaded, an Arrow IPC scan reads ahead without bound (a whole file, if the
                # consumer is slow); a Parquet piece is one row group, bounded either way
                use_threads=kind(fragment) == "parquet",
            )
            with reading(fragment.path, kind(fragment), arrow_errors()):
                for batch in scanner.to_batches():
                    if batch.num_rows:
                        yield self._with_file(validated(batch), files[fragment.path])

    def _with_file(self, batch: pa.RecordBatch, file: int) -> pa.RecordBatch:
        """With --by file, the batch with a column of its file's code: rows of several files
        may be cut into one batch of the stream."""
        if not self.by_file:
            return batch
        import numpy as np
        import pyarrow as pa

        codes = pa.array(np.full(batch.num_rows, file, dtype=np.int32))
        return pa.RecordBatch.from_arrays(
            [*batch.columns, codes], names=[*batch.schema.names, _FILE_CODE]
        )


def open_dataset(
    path: str,
    *,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    partitioning: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    weight_col: str | None = None,
    by: Sequence[str] = (),
) -> Dataset:
    """Open a directory (searched recursively) or glob of Parquet / Feather / Arrow IPC files.

    Columns are resolved as for a single file, against the first file's columns (and, with
    partitioning="hive", the key=value directory names); every file must have the chosen
    columns, with the same types. Only file footers are read here.
    """
    check_partitioning(partitioning)
    if batch_rows < 1:
        raise InputError(f"batch_rows must be at least 1, not {batch_rows}")
    files, base = _streamed_files(path)

    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs

    local = pyarrow.fs.LocalFileSystem()
    fragments: list[Any] = []
    parts = "hive" if partitioning else None
    for fmt in sorted({fmt for _, fmt in files}):
        group = [f for f, g in files if g == fmt]
        with reading(group[0] if len(group) == 1 else path, fmt, arrow_errors()):
            data = ds.dataset(
                group,
                format=_DATASET_FORMATS[fmt],
                filesystem=local,
                partitioning=parts,
                partition_base_dir=base,
            )
        parts = data.partitioning  # hive: the types found in the first group hold for all
        fragments += data.get_fragments()
    order = {f: i for i, (f, _) in enumerate(files)}
    fragments.sort(key=lambda fragment: order[fragment.path])

    # before the footers are read: a change from here on is a change between passes
    fingerprints = tuple(_fingerprint(fragment.path) for fragment in fragments)
    schemas = [_physical_schema(fragment) for fragment in fragments]
    keys = parts.schema if partitioning else pa.schema([])
    names = dedup(schemas[0].names + [n for n in keys.names if n not in schemas[0].names])
    weight = pick_weight(names, weight_col, path, [*label_cols, *pred_cols])
    weights = [weight] if weight else []
    names = [n for n in names if n != weight]
    labels, preds = resolve_columns(names, label_cols, pred_cols, source=path)
    by_columns = segment_columns(names, by, [*labels, *preds, *weights], path)
    paths = [fragment.path for fragment in fragments]
    check_schemas(
        paths, schemas, [*labels, *preds, *weights, *by_columns.values()], path, keys.names
    )
    schema = pa.schema([*schemas[0], *(f for f in keys if f.name not in schemas[0].names)])

    pieces = [piece for fragment in fragments for piece in _pieces(fragment)]
    rows = [count_rows(piece) for piece in pieces]
    n_rows = sum(rows)
    if not n_rows:
        raise InputError(f"no rows in {path}; save at least one prediction")
    columns = dedup([*labels, *preds, *weights])
    for piece, piece_rows in zip(pieces, rows, strict=True):
        if kind(piece) == "parquet":  # a row group is read whole
            check_declared_rows(piece_rows, schema, columns, piece.path)
    row_bytes = _row_bytes(pieces, schema, columns)
    kinds = sorted({kind(fragment) for fragment in fragments}, reverse=True)  # parquet first
    return Dataset(
        source=path,
        format="+".join(kinds) + " dataset",
        files=tuple(fragment.path for fragment in fragments),
        n_rows=n_rows,
        n_bytes=sum(os.path.getsize(fragment.path) for fragment in fragments),
        label_columns=tuple(labels),
        prediction_columns=tuple(preds),
        batch_rows=max(1, min(batch_rows, MAX_BATCH_BYTES // max(row_bytes, 1))),
        weight_column=weight,
        weight_by_name=not weight_col,
        segment_columns=by_columns,
        by_file=any(parse_by(text).column == FILE for text in by),
        _base=base,
        _pieces=tuple(pieces),
        _schema=schema,
        _fingerprints=fingerprints,
    )


def _streamed_files(path: str) -> tuple[list[tuple[str, str]], str]:
    """(file, format) of the files this engine streams, and the directory hive partitions are
    named under; CSV files are refused, with the command that converts them."""
    found, base = find_files(path)
    files = [(f, fmt) for f, fmt in found if fmt in _DATASET_FORMATS]
    csvs = [f for f, fmt in found if fmt == "csv"]
    if csvs:
        raise InputError(_csv_message(path, relative(csvs, base), others=bool(files)))
    if not files:
        named = [f for f, _ in found]
        others = f"; found only {listing(relative(named, base))}" if named else ""
        raise InputError(
            f"{path} has no prediction file in it (Parquet, Feather or Arrow IPC){others}; "
            "pass a file, or a directory or glob of such files"
        )
    return files, base


def _csv_message(path: str, csvs: list[str], *, others: bool) -> str:
    shown = listing(csvs)
    if others:
        return (
            f"{path} holds CSV files ({shown}) next to Parquet/Arrow files; CSV files are read "
            "whole, not streamed; pass a glob of the others (e.g. 'DIR/**/*.parquet'), or "
            f"convert the CSV files to Parquet: {CSV_TO_PARQUET}"
        )
    return (
        f"{path} holds CSV files ({shown}); CSV files are read whole, not streamed; convert "
        f"them to Parquet to stream them: {CSV_TO_PARQUET}, then pass a glob of the .parquet files"
    )


def _fingerprint(path: str) -> Fingerprint:
    with reading(path, "a file", (OSError,)):
        return fingerprint(path)


def _physical_schema(fragment: Any) -> pa.Schema:
    with reading(fragment.path, kind(fragment), arrow_errors()):
        return fragment.physical_schema


def _pieces(fragment: Any) -> list[Any]:
    """A Parquet file is read a row group at a time: scanning a whole file buffers all of it."""
    if kind(fragment) != "parquet":
        return [fragment]
    with reading(fragment.path, "parquet", arrow_errors()):
        return fragment.split_by_row_group()


def _row_bytes(pieces: list[Any], schema: pa.Schema, columns: list[str]) -> int:
    """How many bytes a row of the chosen columns takes in memory, from the first rows read."""
    import pyarrow.dataset as ds

    for piece in pieces:
        with reading(piece.path, kind(piece), arrow_errors()):
            head = ds.Scanner.from_fragment(
                piece, schema=schema, columns=columns, batch_size=_PROBE_ROWS
            ).head(_PROBE_ROWS)
        if head.num_rows:
            return -(-head.nbytes // head.num_rows)
    return 1
