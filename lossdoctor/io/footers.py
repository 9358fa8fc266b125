"""What a file's footer tells of its rows without reading them: how many (Parquet row groups,
Arrow IPC record batches), and from Parquet's min/max statistics the range of a column."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from lossdoctor.io.arrow import arrow_errors, validated
from lossdoctor.io.sources import reading

if TYPE_CHECKING:
    import pyarrow as pa

    from lossdoctor.io.stream import Batch


class FileFooter(NamedTuple):
    """A Parquet file as its footer tells it, with its first rows."""

    name: str  # as --by file names it: relative to the dataset's directory
    rows: int
    score_low: float  # the lowest and highest non-NaN score, from the row groups' statistics
    score_high: float
    head: Batch  # the first rows, read as every batch is
    pieces: list[Any]  # its row groups


def plain(schema: pa.Schema, columns: tuple[str, ...]) -> bool:
    """One integer label column and one float32 or float64 score column: the layout whose
    survey the footers and the labels give."""
    import pyarrow as pa

    if len(columns) != 2:
        return False
    label, score = (schema.field(name).type for name in columns)
    return pa.types.is_integer(label) and (pa.types.is_float32(score) or pa.types.is_float64(score))


def told_by_footer(pieces: list[Any], column: str) -> tuple[int, float, float] | None:
    """The rows of a file's row groups and the lowest and highest value of a column in them;
    None when a row group's statistics cannot say."""
    ranges = [_score_range(piece, column) for piece in pieces]
    if not ranges or None in ranges:
        return None
    rows = sum(count_rows(piece) for piece in pieces)
    return rows, min(low for low, _ in ranges), max(high for _, high in ranges)


def _score_range(piece: Any, column: str) -> tuple[float, float] | None:
    """The lowest and highest score of a row group from its statistics, which leave NaN out;
    None when they are missing, count nulls, are not exact, or are 0 (a writer may give -0.0
    for a zero, where the rows hold 0.0)."""
    metadata = piece.metadata
    groups = [group.id for group in piece.row_groups]
    lows, highs = [], []
    for index in groups:
        group = metadata.row_group(index)
        columns = [group.column(i) for i in range(group.num_columns)]
        found = [c for c in columns if c.path_in_schema == column]
        stats = found[0].statistics if len(found) == 1 else None
        if stats is None or not stats.has_min_max or stats.null_count != 0:
            return None
        exact = getattr(stats, "is_min_value_exact", True) and getattr(
            stats, "is_max_value_exact", True
        )
        low, high = float(stats.min), float(stats.max)
        if not exact or not low <= high or 0.0 in (low, high):
            return None
        lows.append(low)
        highs.append(high)
    return (min(lows), max(highs)) if groups else None


def first_rows(piece: Any, schema: pa.Schema, columns: list[str], rows: int) -> pa.Table:
    """The first rows of a Parquet piece, in the dataset's types. The file's own reader takes
    a tenth of a dataset scan's time to start, and is used where the file holds each column in
    the dataset's type (not a hive partition key, say): then it reads what the scan would."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    held = piece.physical_schema
    if all(held.get_field_index(name) >= 0 for name in columns) and all(
        held.field(name).type == schema.field(name).type for name in columns
    ):
        wanted = pa.schema([schema.field(name) for name in columns], metadata=schema.metadata)
        groups = [group.id for group in piece.row_groups]
        with pq.ParquetFile(piece.path, metadata=piece.metadata) as file:
            batches = file.iter_batches(rows, row_groups=groups, columns=columns)
            return pa.Table.from_batches(list(islice(batches, 1)), schema=wanted)
    head = ds.Scanner.from_fragment(piece, schema=schema, columns=columns, batch_size=rows)
    return head.head(rows)


def kind(fragment: Any) -> str:
    """parquet, or arrow for Feather and IPC files: what a batch reports as its format."""
    return "parquet" if fragment.format.default_extname == "parquet" else "arrow"


def count_rows(piece: Any) -> int:
    """From the footer; an Arrow IPC file's footer lists its record batches."""
    with reading(piece.path, kind(piece), arrow_errors()):
        if kind(piece) == "parquet":
            return sum(group.num_rows for group in piece.row_groups)
        return _ipc_rows(piece.path)


def _ipc_rows(path: str) -> int:
    """The rows of an Arrow IPC file, each record batch's length checked against its buffers:
    a scan cuts a batch into slices before anything reads it, so a batch declaring 2**40 rows
    over a few kB would first be cut into a billion of them."""
    import pyarrow as pa

    with pa.memory_map(path) as mapped:
        reader = pa.ipc.open_file(mapped)
        rows = 0
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            batch.validate()
            rows += batch.num_rows
        return rows


def column_batches(
    pieces: list[Any], schema: pa.Schema, column: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """One column of some pieces, batch by batch, validated."""
    import pyarrow.dataset as ds

    for piece in pieces:
        scanner = ds.Scanner.from_fragment(
            piece, schema=schema, columns=[column], batch_size=batch_rows
        )
        with reading(piece.path, kind(piece), arrow_errors()):
            for batch in scanner.to_batches():
                yield validated(batch)
