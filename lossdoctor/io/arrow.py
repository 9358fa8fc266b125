"""Arrow files (Parquet, Feather, IPC) straight to numpy: no pandas, and no copy where numpy
can view the column in place. pyarrow is imported only when such a file is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io import memory
from lossdoctor.io.columns import _what
from lossdoctor.io.predictions import CategoricalLabels, _check_text_width
from lossdoctor.io.sources import _Loader, _Src, _stream, reading

if TYPE_CHECKING:
    import pyarrow as pa

_Validatable = TypeVar("_Validatable", "pa.Table", "pa.RecordBatch")


def arrow_errors() -> tuple[type[BaseException], ...]:
    import pyarrow as pa

    return (pa.ArrowException, OSError)


def _parquet_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    import pyarrow.parquet as pq

    with reading(source, "parquet", arrow_errors()):
        names = pq.read_schema(_stream(src)).names

    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which imports
    # pandas (half a second), and it refuses duplicate names (all are read, the first kept).
    def read(cols: list[str]) -> pa.Table:
        parquet = pq.ParquetFile(_stream(src))
        check_declared_rows(parquet.metadata.num_rows, parquet.schema_arrow, cols, source)
        return parquet.read(columns=cols)

    return dedup(names), _arrow_loader(read, source, "parquet")


def check_declared_rows(rows: int, schema: pa.Schema, columns: list[str], source: str) -> None:
    """Parquet's reader allocates for the rows a footer declares before it decodes a page (and a
    run of nulls takes a few bytes for any count): rows that cannot fit in memory, a forged
    count or an honest file too large, are refused before reading."""
    width = sum(_value_bytes(schema.field(schema.names.index(c)).type) for c in set(columns))
    needed = rows * max(width, 1)
    available = memory.available()
    if available is not None and needed > available:
        raise InputError(
            f"{source} declares {rows:,} rows, {memory.shown(needed)} in memory, more than the "
            f"{memory.shown(available)} available; check the file, or write it as a directory "
            "of smaller files (a dataset streams)"
        )


def _value_bytes(kind: pa.DataType) -> int:
    """What a value takes in memory at least: its width, or an offset for text and lists."""
    try:
        return max(kind.bit_width // 8, 1)
    except ValueError:  # not of a fixed width
        return 8


def _arrow_table(src: _Src, source: str, fmt: str) -> tuple[list[str], _Loader]:
    """Feather v2 is an Arrow IPC file; an IPC stream has no footer, so it is read whole.

    Columns are chosen by position: by name, a duplicated name is an error in pyarrow.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    with reading(source, fmt, arrow_errors()):
        try:
            names = pa.ipc.open_file(_stream(src)).schema.names
        except pa.ArrowInvalid:
            table = pa.ipc.open_stream(_stream(src)).read_all()
            names = table.column_names
            return dedup(names), _arrow_loader(
                lambda cols: table.select(_positions(names, cols)), source, fmt
            )
    mmap = isinstance(src, str)  # zero copy for uncompressed files

    def read(cols: list[str]) -> pa.Table:
        return feather.read_table(_stream(src), columns=_positions(names, cols), memory_map=mmap)

    return dedup(names), _arrow_loader(read, source, fmt)


def dedup(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _positions(names: list[str], cols: list[str]) -> list[int]:
    """Where each chosen name first occurs (a duplicated name: the first one wins, as in CSV).

    Sorted: pyarrow's feather reader mis-selects unsorted positions (IndexError, pyarrow 26).
    """
    return sorted(names.index(c) for c in cols)


def _arrow_loader(read: Callable[[list[str]], pa.Table], source: str, fmt: str) -> _Loader:
    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with reading(source, fmt, arrow_errors()):
            return arrow_columns(validated(read(cols)), source)

    return load


def validated(data: _Validatable) -> _Validatable:
    """The data, once every offset, dictionary index and UTF-8 string is known to lie inside
    its buffers. pyarrow's readers check only buffer sizes, and a kernel that trusts a forged
    offset reads outside the file's memory: a crash, where this raises ArrowInvalid. A numeric
    column has nothing to check beyond its size, so this costs a pass over text only."""
    data.validate(full=True)
    return data


def arrow_columns(table: pa.Table, source: str) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.name not in columns:
            columns[field.name] = field_array(field, column, source)
    return columns


def field_array(field: pa.Field, column: pa.Array | pa.ChunkedArray, source: str) -> np.ndarray:
    """A column as numpy; text categories keep their declared order (see `_declared_categories`)."""
    values = _arrow_array(field.name, column, source)
    orders = _declared_categories(field, column)
    return CategoricalLabels.of(values, orders) if orders else values


def _declared_categories(
    field: pa.Field, column: pa.Array | pa.ChunkedArray
) -> tuple[tuple[str, ...], ...]:
    """The categories of a dictionary column of text, in their declared order (pandas
    categoricals, Arrow dictionaries, polars Enums). Not polars' Categorical: its dictionary is
    in order of first appearance, different in every file, and polars itself sorts it lexically.
    Numeric dictionaries are not categories: an integer label is a class index.

    Every distinct order found (pieces of data written with different categories have several;
    inference refuses them unless --classes says the order)."""
    import pyarrow as pa

    kind = field.type
    if not pa.types.is_dictionary(kind) or not _is_text(kind.value_type):
        return ()
    if any(key.startswith(b"_PL_CATEGORICAL") for key in field.metadata or {}):
        return ()
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return tuple(sorted({tuple(map(str, chunk.dictionary.to_pylist())) for chunk in chunks}))


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    view = getattr(pa.types, "is_string_view", lambda _: False)  # pyarrow >= 16
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or view(kind)


def _arrow_array(name: str, column: pa.Array | pa.ChunkedArray, source: str) -> np.ndarray:
    """Straight to numpy, no pandas: lists -> (N, K), text -> str, nulls -> NaN."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        dictionary = column.dictionary
        if _is_text(dictionary.type):  # take() has no kernel for string views (polars)
            dictionary = dictionary.cast(pa.string())
        column = pa.DictionaryArray.from_arrays(column.indices, dictionary).dictionary_decode()
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _arrow_lists(name, column, source)
    if _is_text(kind):
        return _arrow_strings(name, column, source)
    if pa.types.is_boolean(kind):
        if not column.null_count:
            return _arrow_booleans(column)
        column = column.cast(pa.float64())  # numpy has no boolean NaN
        kind = column.type
    if column.null_count and pa.types.is_floating(kind):
        column = column.fill_null(float("nan"))
    fixed = _ARROW_FIXED_WIDTH.get(str(kind))
    if fixed is not None and not column.null_count:
        return _fixed_width(column, np.dtype(fixed))
    return column.to_numpy(zero_copy_only=False)


# Arrow's numeric types that numpy can view in place. Array.to_numpy would import pandas
# (half a second) to build its conversion options.
_ARROW_FIXED_WIDTH = {
    "halffloat": "f2", "float": "f4", "double": "f8",
    "int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8",
    "uint8": "u1", "uint16": "u2", "uint32": "u4", "uint64": "u8",
}  # fmt: skip


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap (booleans, validity) as numpy bools, eight to a byte unpacked."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, count=offset + length, bitorder="little")[offset:].view(bool)


def _arrow_booleans(column: pa.Array) -> np.ndarray:
    """Booleans without Array.to_numpy, which imports pandas."""
    return _bits(column.buffers()[1], column.offset, len(column))


def _arrow_strings(name: str, column: pa.Array, source: str) -> np.ndarray:
    """Text as numpy str through its distinct values (labels hold few); a missing cell is ''.

    No Python scalar is made: pyarrow checks those against pandas, importing it.
    """
    import pyarrow.compute as pc

    encoded = column.dictionary_encode()
    distinct = encoded.dictionary
    if len(distinct):
        _check_text_width(name, pc.max(pc.utf8_length(distinct)).as_py(), source)
    names = np.array([*distinct.to_pylist(), ""], dtype=str)
    indices = encoded.indices
    index = _fixed_width(indices, np.dtype("i4")) if len(indices) else np.zeros(0, np.int32)
    if indices.null_count:
        valid = _bits(indices.buffers()[0], indices.offset, len(indices))
        index = np.where(valid, index, len(names) - 1)
    return names[index]


def _fixed_width(column: pa.Array, dtype: np.dtype) -> np.ndarray:
    """A view of the column's data buffer: no copy (read-only)."""
    offset = column.offset * dtype.itemsize
    return np.frombuffer(column.buffers()[1], dtype=dtype, count=len(column), offset=offset)


def _arrow_lists(name: str, column: pa.ListArray, source: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        raise InputError(
            f"list {_what(name, source)} has missing rows; every row needs one value per class"
        )
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    else:
        lengths = _arrow_array(name, pc.list_value_length(column), source)
        width = int(lengths[0]) if len(lengths) else 0
        if (lengths != width).any():
            raise InputError(
                f"rows of list {_what(name, source)} have different lengths "
                f"({lengths.min()}..{lengths.max()}); every row needs one value per class"
            )
    values = _arrow_array(name, column.flatten(), source)
    if values.ndim != 1:
        raise InputError(f"{_what(name, source)} holds nested lists; save one list per row")
    return values.reshape(len(column), width)
