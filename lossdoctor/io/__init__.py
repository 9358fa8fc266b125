"""Read saved predictions into numpy: find the label and prediction columns, nothing more.

What the numbers mean (probabilities or logits, binary or multi-class) is decided elsewhere.
pandas is never imported and pyarrow only when a file needs it, so `--help` and small CSV
files start fast. Every problem with the input leaves this module as one InputError line.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import numbers
import os
import re
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lossdoctor.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Predictions:
    """Labels and scores as stored, before any inference.

    Arrays read from Arrow files may be read-only views of the file's memory (zero copy).
    """

    y_true: np.ndarray  # (N,) numeric, bool or str; or (N, K) one-/multi-hot
    y_score: np.ndarray  # (N,) or (N, K) floating; float32/float16 kept, ints/bools -> float64
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    source: str  # the path as given ('-' for stdin, '<array>' for in-memory)
    format: str  # parquet | csv | npy | npz | feather | arrow | array | dataframe
    declared_logits: bool = False  # prediction columns named logit/logits/logit_*/logits_*


@dataclass(frozen=True)
class _Role:
    """What differs between finding the labels and finding the predictions."""

    noun: str
    option: str
    vocab: frozenset[str]


_LABEL_NAMES = "label labels y y_true target truth class ground_truth true_label actual"
_PRED_NAMES = (
    "prob proba probability pred prediction y_pred score output logit logits"
    " probs probabilities predictions y_prob y_proba y_score scores"
)
_LABELS = _Role("label", "--label-col", frozenset(_LABEL_NAMES.split()))
_PREDS = _Role("prediction", "--pred-col", frozenset(_PRED_NAMES.split()))
_NUMBERED = re.compile(r"(.*)_(\d+)")
_LOGIT = re.compile(r"logits?(_.*)?")
_FORMATS = {"parquet", "csv", "npy", "npz", "feather", "arrow"}
_EXTENSIONS = {".pq": "parquet", ".ipc": "arrow", ".gz": "csv"} | {f".{f}": f for f in _FORMATS}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with files, an empty archive
_MAGIC = ((b"PAR1", "parquet"), (_NPY_MAGIC, "npy"), (b"PK", "npz"), (b"ARROW1", "arrow"))
_GZIP = b"\x1f\x8b"
_CSV_STDLIB_MAX = 2_000_000  # below this the stdlib beats pyarrow's import time
_GZ_STDLIB_MAX = 1_000_000  # compressed bytes: the uncompressed size is unknown
_GZ_INFLATED_MAX = 8_000_000  # a small .gz can inflate a thousandfold: past this, pyarrow streams
# Limits on a CSV header: past them the file is no table of predictions, and reading on would
# exhaust memory (one "line" of gigabytes, millions of columns) before anything could say so.
# The header limit is above _GZ_INFLATED_MAX and _CSV_STDLIB_MAX: only pyarrow's path checks it.
MAX_COLUMNS = 100_000
MAX_HEADER_BYTES = 8 * 2**20
_NUMPY_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)
_CSV_ERRORS = (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error)

_Src = str | bytes  # a path, or the bytes read from stdin
_Loader = Callable[[list[str]], dict[str, np.ndarray]]


# ---- column resolution (pure) -----------------------------------------------------------------


def resolve_columns(
    names: Sequence[str],
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    *,
    source: str = "the input",
) -> tuple[list[str], list[str]]:
    """Which column names hold the labels and which the predictions (ordered)."""
    names = list(names)
    if pred_cols and not label_cols:  # the explicit choice goes first so the other avoids it
        preds = _pick(names, _PREDS, pred_cols, source)
        labels = _pick(names, _LABELS, (), source, taken=preds)
    else:
        labels = _pick(names, _LABELS, label_cols, source)
        preds = _pick(names, _PREDS, pred_cols, source, taken=labels)
    both = [n for n in labels if n in preds]
    if both:
        raise InputError(
            f"column {both[0]!r} in {source} cannot be both the labels and the "
            "predictions; choose different --label-col and --pred-col"
        )
    return labels, preds


def _pick(
    names: list[str],
    role: _Role,
    given: Sequence[str],
    source: str,
    taken: Sequence[str] = (),
    single_ok: bool = False,
) -> list[str]:
    """The columns for one role: the user's patterns if given, else the one recognised name."""
    if given:
        return _match_given(names, role, given, source)
    free = [n for n in names if n not in taken]
    if single_ok and len(free) == 1:
        return free
    found = _candidates(free, role, source)
    if not found:
        raise InputError(
            f"no {role.noun} column found in {source} (columns: {_show(names)}); "
            f"name it with {role.option}"
        )
    if len(found) > 1:
        shown = " and ".join(g[0] if len(g) == 1 else f"{g[0]}..{g[-1]}" for g in found)
        raise InputError(
            f"several {role.noun} columns in {source}: {shown}; choose one with {role.option}"
        )
    return found[0]


def _match_given(names: list[str], role: _Role, given: Sequence[str], source: str) -> list[str]:
    """Case-insensitive names or fnmatch globs, in the order given; glob hits in numeric order."""
    chosen: list[str] = []
    for pattern in given:
        key = _key(pattern)
        hits = [n for n in names if _key(n) == key]
        hits = hits or _natural([n for n in names if fnmatch.fnmatchcase(_key(n), key)])
        if not hits:
            raise InputError(
                f"{role.option} {pattern!r} matches no column in {source} (columns: {_show(names)})"
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _candidates(names: list[str], role: _Role, source: str) -> list[list[str]]:
    """Each candidate is one recognised name, or a family name_0..name_{K-1}."""
    found = [[n] for n in names if _key(n) in role.vocab]
    families: dict[str, dict[int, str]] = {}
    for n in names:
        m = _NUMBERED.fullmatch(_key(n))
        if m and m[1] in role.vocab:
            families.setdefault(m[1], {}).setdefault(int(m[2]), n)
    for members in families.values():
        if 0 not in members:  # e.g. a lone score_2023: not a class family, leave it alone
            continue
        if sorted(members) != list(range(len(members))):
            raise InputError(
                f"{role.noun} columns {_show(members.values())} in {source} are not "
                f"numbered 0..K-1 without gaps; choose them with {role.option}"
            )
        found.append([members[i] for i in range(len(members))])
    return found


def _natural(names: list[str]) -> list[str]:
    """prob_10 after prob_9 when every name ends in digits; else the file's order."""
    parts = [re.fullmatch(r"(.*?)(\d+)", _key(n)) for n in names]
    if not all(parts):
        return names
    order = sorted(range(len(names)), key=lambda i: (parts[i][1], int(parts[i][2])))
    return [names[i] for i in order]


def _key(name: str) -> str:
    return name.strip().lower()


def _show(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    if not names:
        return "none"
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


# ---- entry points -----------------------------------------------------------------------------


def read_predictions(
    path: str,
    *,
    labels_path: str | None = None,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    input_format: str | None = None,
) -> Predictions:
    """Read a predictions file (and, with labels_path, a separate labels file)."""
    if path == labels_path == "-":
        raise InputError(
            "stdin (-) can be read only once; give the labels or predictions as a file"
        )
    src, fmt = _locate(path, input_format)
    if fmt == "npy" and labels_path is None:
        raise InputError(f"{path} holds only predictions; pass the labels with --labels FILE")
    if fmt == "npy":
        scores = {"": _load_npy(src, path)}
    else:
        names, load = _open_table(src, fmt, path)
        if labels_path is None:
            label_names, pred_names = resolve_columns(names, label_cols, pred_cols, source=path)
            columns = load(label_names + pred_names)
            labels = {n: columns[n] for n in label_names}
            return _assemble(labels, {n: columns[n] for n in pred_names}, path, fmt)
        scores = load(_pick(names, _PREDS, pred_cols, path, single_ok=True))
    return _assemble(_read_labels(labels_path, label_cols), scores, path, fmt)


def from_columns(
    columns: Mapping[str, np.ndarray],
    *,
    source: str,
    format: str,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
) -> Predictions:
    """For an in-memory table (e.g. a pandas DataFrame turned into name -> array)."""
    table = {str(k): np.asarray(v) for k, v in columns.items()}
    labels, preds = resolve_columns(list(table), label_cols, pred_cols, source=source)
    return _assemble({n: table[n] for n in labels}, {n: table[n] for n in preds}, source, format)


def from_arrays(
    y_true: np.ndarray, y_score: np.ndarray, *, source: str, format: str
) -> Predictions:
    """For in-memory arrays: the same checks as for a file's columns."""
    return _assemble({"": np.asarray(y_true)}, {"": np.asarray(y_score)}, source, format)


def _read_labels(path: str, label_cols: Sequence[str]) -> dict[str, np.ndarray]:
    """A labels file: an .npy array, a single column, or one recognised label column."""
    src, fmt = _locate(path, None)
    if fmt == "npy":
        return {"": _load_npy(src, path)}
    names, load = _open_table(src, fmt, path)
    return load(_pick(names, _LABELS, label_cols, path, single_ok=True))


def _assemble(
    labels: Mapping[str, np.ndarray], scores: Mapping[str, np.ndarray], source: str, fmt: str
) -> Predictions:
    """Check and stack the chosen columns. An unnamed ('') column is a whole .npy array."""
    y_true = _stack([_label_array(n, a, source) for n, a in labels.items()], source)
    y_score = _stack([_score_array(n, a, source) for n, a in scores.items()], source)
    if len(y_true) != len(y_score):
        raise InputError(
            f"labels have {len(y_true)} rows but predictions have {len(y_score)} "
            f"({source}); give labels and predictions for the same rows"
        )
    if len(y_score) == 0:
        raise InputError(f"no rows in {source}; save at least one prediction")
    label_names, pred_names = tuple(n for n in labels if n), tuple(n for n in scores if n)
    logits = bool(pred_names) and all(_LOGIT.fullmatch(_key(n)) for n in pred_names)
    return Predictions(y_true, y_score, label_names, pred_names, source, fmt, logits)


def _what(name: str, source: str) -> str:
    return f"column {name!r} in {source}" if name else source


def _label_array(name: str, array: np.ndarray, source: str) -> np.ndarray:
    array = _unobject(name, _dims(name, array, source), source)
    if array.dtype.kind == "S":
        array = array.astype(str)
    if array.ndim == 2 and array.shape[1] > 1 and array.dtype.kind == "U":
        raise InputError(
            f"labels in {_what(name, source)} are rows of text; a row of labels must be 0/1 "
            "indicators (one-hot or multi-hot); choose another column with --label-col"
        )
    if array.dtype.kind not in "biufU":
        raise InputError(
            f"labels in {_what(name, source)} are neither numbers nor text "
            f"({array.dtype}); choose another column with --label-col"
        )
    return array


def _score_array(name: str, array: np.ndarray, source: str) -> np.ndarray:
    array = _unobject(name, _dims(name, array, source), source)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise InputError(
            f"prediction {_what(name, source)} is not numeric ({array.dtype}); "
            "choose a numeric column with --pred-col"
        )
    return array


def _dims(name: str, array: np.ndarray, source: str) -> np.ndarray:
    if array.ndim not in (1, 2):
        raise InputError(
            f"{_what(name, source)} has {array.ndim} dimensions; expected 1 (a value "
            "per row) or 2 (a column per class)"
        )
    if array.ndim == 2 and array.shape[1] == 0:
        raise InputError(f"{_what(name, source)} has rows of no values; give one value per class")
    return array


def _unobject(name: str, array: np.ndarray, source: str) -> np.ndarray:
    """Object arrays (pandas columns) become rows of lists, text, or floats with NaN for None."""
    if array.dtype != object:
        return array
    values = array.tolist()
    if values and all(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        return _rows(name, [np.asarray(v) for v in values], source)
    if all(isinstance(v, str) for v in values):
        return array.astype(str)
    plain = (str, numbers.Number, type(None))  # Decimal (Arrow decimals) is a Number
    odd = next((v for v in values if not isinstance(v, plain)), None)
    if odd is not None:  # a dict, a date, bytes: naming it beats "mixes text and numbers"
        raise InputError(
            f"{_what(name, source)} holds {type(odd).__name__} values; save numbers, text or "
            "one list per row"
        )
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"{_what(name, source)} mixes text and numbers; save one kind of value per column"
        ) from None


def _rows(name: str, rows: list[np.ndarray], source: str) -> np.ndarray:
    widths = sorted({len(r) for r in rows})
    if len(widths) > 1 or any(r.ndim != 1 for r in rows):
        raise InputError(
            f"rows of list {_what(name, source)} have different lengths "
            f"({widths[0]}..{widths[-1]}); every row needs one value per class"
        )
    return np.stack(rows)


def _stack(arrays: list[np.ndarray], source: str) -> np.ndarray:
    if len(arrays) == 1:
        return arrays[0]
    if len({len(a) for a in arrays}) > 1:
        raise InputError(f"columns in {source} have different lengths; give every column N rows")
    return np.column_stack(arrays)


# ---- finding and opening files ----------------------------------------------------------------


def _locate(path: str, input_format: str | None) -> tuple[_Src, str]:
    """The bytes or path to read, and its format: given, from the extension, or sniffed."""
    if input_format is not None:
        input_format = {"pq": "parquet", "csv.gz": "csv", "ipc": "arrow"}.get(
            input_format.lower(), input_format.lower()
        )
        if input_format not in _FORMATS:
            raise InputError(
                f"unknown input format {input_format!r} for {path}; "
                f"use one of {', '.join(sorted(_FORMATS))}"
            )
    if path == "-":
        data = sys.stdin.buffer.read()
        return data, input_format or _sniff(data[:512], "stdin (-)")
    with _reading(path, "a file", (OSError,)):  # a name too long for the file system, say
        if not Path(path).is_file():
            raise InputError(_not_a_file(path))
    fmt = input_format or _EXTENSIONS.get(Path(path).suffix.lower())
    return path, fmt or _sniff(_head(path, 512), f"{path} (extension not recognised)")


def _not_a_file(path: str) -> str:
    """Why a path cannot be read, and what to pass instead."""
    if not Path(path).is_dir():
        if Path(path).exists():
            return f"{path} is not a regular file; pass a file, or - and the data on stdin"
        return f"{path}: no such file; check the path"
    try:
        found = sorted(f.name for f in Path(path).iterdir() if f.suffix.lower() in _EXTENSIONS)
    except OSError:  # unreadable: the advice is the same
        found = []
    if found:
        return f"{path} is a directory; pass one of its prediction files ({_show(found)})"
    known = ", ".join(sorted(_EXTENSIONS))
    return f"{path} is a directory with no prediction file in it ({known}); pass a file"


def _sniff(head: bytes, source: str) -> str:
    """The format from the first bytes; text (or gzip) is CSV. Anything else is refused here:
    parsing random bytes as CSV would only fail later with a message about UTF-8."""
    fmt = next((fmt for magic, fmt in _MAGIC if head.startswith(magic)), None)
    if fmt is not None:
        return fmt
    if head.startswith(_GZIP) or _is_text(head):
        return "csv"
    raise InputError(
        f"cannot tell the format of {source}: its first bytes are not CSV text, Parquet, "
        "Arrow, NPY or NPZ; check the file, or name its format with --input-format"
    )


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes; a character cut off at the end of the head still counts."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.reason != "unexpected end of data":
            return False
    return b"\0" not in head


def _expect_magic(src: _Src, source: str, fmt: str, magics: Sequence[bytes]) -> None:
    """NumPy unpickles anything that is neither .npy nor .npz; allow_pickle=False stops it but
    says "pickled data", which misnames random bytes. Checking the magic first says what it is."""
    head = src[:8] if isinstance(src, bytes) else _head(src)
    if not head:
        raise InputError(f"{source} is empty; save the arrays with np.save or np.savez")
    if not any(head.startswith(magic) for magic in magics):
        raise InputError(
            f"{source} is not an .{fmt} file (its first bytes are not the {fmt.upper()} "
            "header); check the file, or name its format with --input-format"
        )


def _head(path: str, size: int = 8) -> bytes:
    with _reading(path, "a file", (OSError,)), open(path, "rb") as f:
        return f.read(size)


def _stream(src: _Src) -> str | io.BytesIO:
    return io.BytesIO(src) if isinstance(src, bytes) else src


@contextmanager
def _reading(source: str, fmt: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """The door: a library's complaint about the file becomes one InputError line."""
    try:
        yield
    except errors as e:
        if "allow_pickle" in str(e):  # numpy stopped before running any pickled code
            raise InputError(
                f"{source} holds Python objects; refusing to unpickle them (that can "
                "run code); save plain numeric arrays"
            ) from None
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(
            f"cannot read {source} as {fmt} ({detail}); check the file, or its format"
        ) from e


def _open_table(src: _Src, fmt: str, source: str) -> tuple[list[str], _Loader]:
    """The column names (cheap), and a loader that reads only the chosen columns."""
    if fmt == "csv":
        return _csv_table(src, source)
    if fmt == "npz":
        return _npz_table(src, source)
    if fmt == "parquet":
        return _parquet_table(src, source)
    return _arrow_table(src, source, fmt)


def _load_npy(src: _Src, source: str) -> np.ndarray:
    _expect_magic(src, source, "npy", [_NPY_MAGIC])
    with _reading(source, "npy", _NUMPY_ERRORS):
        array = np.load(_stream(src), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise InputError(f"{source} is an .npz archive, not .npy; rename it to .npz")
    return array


def _npz_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Arrays of an .npz archive, keyed like columns (y_true/y_pred, labels/predictions, ...)."""
    _expect_magic(src, source, "npz", _ZIP_MAGIC)
    with _reading(source, "npz", _NUMPY_ERRORS), np.load(_stream(src), allow_pickle=False) as z:
        names = list(z.files)

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with _reading(source, "npz", _NUMPY_ERRORS), np.load(_stream(src), allow_pickle=False) as z:
            return {c: z[c] for c in cols}

    return names, load


# ---- CSV --------------------------------------------------------------------------------------


def _csv_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Small files go through the stdlib: importing pyarrow would cost more than parsing."""
    if isinstance(src, bytes):  # stdin
        gz, size = src[:2] == _GZIP, len(src)
    else:
        gz, size = _head(src, 2) == _GZIP, os.path.getsize(src)
    small = size < (_GZ_STDLIB_MAX if gz else _CSV_STDLIB_MAX)
    return _small_csv(src, gz, source) if small else _large_csv(src, gz, source)


def _small_csv(src: _Src, gz: bool, source: str) -> tuple[list[str], _Loader]:
    with _reading(source, "csv", _CSV_ERRORS):
        raw = src if isinstance(src, bytes) else Path(src).read_bytes()
        if gz:
            raw = _inflate(raw)
    if raw is None:  # a small .gz that inflates to a large file: pyarrow streams it
        return _large_csv(src, gz, source)
    with _reading(source, "csv", _CSV_ERRORS):
        reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), skipinitialspace=True)
        header = next(reader, None)
        while header == []:  # blank lines before the header
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
    return list(first), lambda cols: {c: _parse_text(columns[first[c]]) for c in cols}


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


def _parse_text(values: Sequence[str]) -> np.ndarray:
    """Whole-column conversion: int64 if every cell is an integer, else float64, bool or str."""
    for dtype in (np.int64, np.float64):
        cells = values if dtype is np.int64 else [v if v.strip() else "nan" for v in values]
        try:
            return np.array(cells, dtype=dtype)
        except (ValueError, OverflowError):
            pass
    words = {v.strip().lower() for v in values}
    if words and words <= {"true", "false"}:
        return np.array([v.strip().lower() == "true" for v in values])
    return np.array(values, dtype=str)


def _large_csv(src: _Src, gz: bool, source: str) -> tuple[list[str], _Loader]:
    """pyarrow's multi-threaded reader, reading only the chosen columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    errors = (*_arrow_errors(), *_CSV_ERRORS)
    with _reading(source, "csv", errors):
        header = _csv_header(src, gz, source)
    if not header:
        raise InputError(f"{source} is empty; expected a header row with column names")
    _check_width(header, source)
    first = {n: i for i, n in reversed(list(enumerate(header)))}
    # pyarrow needs unique names: a later duplicate gets a name no one would type
    unique = [n if first[n] == i else f"{n}\0{i}" for i, n in enumerate(header)]

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with _reading(source, "csv", errors):
            stream = pa.input_stream(
                src if isinstance(src, str) else pa.py_buffer(src),
                compression="gzip" if gz else None,
            )
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=unique, skip_rows=1),
                convert_options=pacsv.ConvertOptions(include_columns=cols),
            )
            return _arrow_columns(table, source)

    return _dedup(header), load


def _csv_header(src: _Src, gz: bool, source: str) -> list[str]:
    """The first line, read with a limit: a file that is one endless line must not fill memory."""
    import gzip

    with io.BytesIO(src) if isinstance(src, bytes) else open(src, "rb") as raw:
        line = (gzip.GzipFile(fileobj=raw) if gz else raw).readline(MAX_HEADER_BYTES + 1)
    if len(line) > MAX_HEADER_BYTES:
        raise InputError(
            f"the first line of {source} is longer than {MAX_HEADER_BYTES // 2**20} MB: not a "
            "CSV header; check the file, or name its format with --input-format"
        )
    return next(csv.reader([line.decode("utf-8-sig")], skipinitialspace=True), [])


# ---- Arrow: parquet, feather, IPC ---------------------------------------------------------------


def _arrow_errors() -> tuple[type[BaseException], ...]:
    import pyarrow as pa

    return (pa.ArrowException, OSError)


def _parquet_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    import pyarrow.parquet as pq

    with _reading(source, "parquet", _arrow_errors()):
        names = pq.read_schema(_stream(src)).names
    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which imports
    # pandas (half a second), and it refuses duplicate names (all are read, the first kept).
    read = lambda cols: pq.ParquetFile(_stream(src)).read(columns=cols)  # noqa: E731
    return _dedup(names), _arrow_loader(read, source, "parquet")


def _arrow_table(src: _Src, source: str, fmt: str) -> tuple[list[str], _Loader]:
    """Feather v2 is an Arrow IPC file; an IPC stream has no footer, so it is read whole.

    Columns are chosen by position: by name, a duplicated name is an error in pyarrow.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    with _reading(source, fmt, _arrow_errors()):
        try:
            names = pa.ipc.open_file(_stream(src)).schema.names
        except pa.ArrowInvalid:
            table = pa.ipc.open_stream(_stream(src)).read_all()
            names = table.column_names
            return _dedup(names), _arrow_loader(
                lambda cols: table.select(_positions(names, cols)), source, fmt
            )
    mmap = isinstance(src, str)  # zero copy for uncompressed files

    def read(cols: list[str]) -> pa.Table:
        return feather.read_table(_stream(src), columns=_positions(names, cols), memory_map=mmap)

    return _dedup(names), _arrow_loader(read, source, fmt)


def _dedup(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _positions(names: list[str], cols: list[str]) -> list[int]:
    """Where each chosen name first occurs (a duplicated name: the first one wins, as in CSV).

    Sorted: pyarrow's feather reader mis-selects unsorted positions (IndexError, pyarrow 26).
    """
    return sorted(names.index(c) for c in cols)


def _arrow_loader(read: Callable[[list[str]], pa.Table], source: str, fmt: str) -> _Loader:
    def load(cols: list[str]) -> dict[str, np.ndarray]:
        with _reading(source, fmt, _arrow_errors()):
            return _arrow_columns(read(cols), source)

    return load


def _arrow_columns(table: pa.Table, source: str) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name not in columns:
            columns[name] = _arrow_array(name, column, source)
    return columns


def _arrow_array(name: str, column: pa.Array | pa.ChunkedArray, source: str) -> np.ndarray:
    """Straight to numpy, no pandas: lists -> (N, K), text -> str, nulls -> NaN."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _arrow_lists(name, column, source)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.asarray(column.fill_null("").to_numpy(zero_copy_only=False), dtype=str)
    if column.null_count and pa.types.is_boolean(kind):
        column = column.cast(pa.float64())  # numpy has no boolean NaN
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
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
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
