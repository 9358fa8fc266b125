"""Read saved predictions into numpy: find the label and prediction columns, nothing more.

A file is read whole (read_predictions); a directory or glob of Parquet/Arrow files is streamed
in batches (open_dataset).

What the numbers mean (probabilities or logits, binary or multi-class) is decided elsewhere.
pandas is never imported and pyarrow only when a file needs it, so `--help` and small CSV
files start fast. Every problem with the input leaves this package as one InputError line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io.arrow import _arrow_table, _parquet_table, dedup
from lossdoctor.io.by_content import BY_CLASS_NAMES, BY_ELIMINATION, choose_columns
from lossdoctor.io.columns import _LABELS, _PREDS, _pick, pick_weight, resolve_columns
from lossdoctor.io.csv import MAX_COLUMNS, MAX_HEADER_BYTES, _csv_table
from lossdoctor.io.dataset import is_dataset
from lossdoctor.io.jsonl import _jsonl_table
from lossdoctor.io.predictions import (
    IGNORE_INDEX,
    MAX_CLASSES,
    MAX_TEXT_CHARS,
    TRAINER_LABELS,
    TRAINER_PREDICTIONS,
    CategoricalLabels,
    Predictions,
    _assemble,
)
from lossdoctor.io.segments import segment_columns, whole_file
from lossdoctor.io.sources import _Loader, _locate, _Src
from lossdoctor.io.stream import DEFAULT_BATCH_ROWS, Batch, Dataset, open_dataset

__all__ = [
    "BY_CLASS_NAMES",
    "BY_ELIMINATION",
    "DEFAULT_BATCH_ROWS",
    "IGNORE_INDEX",
    "MAX_CLASSES",
    "MAX_COLUMNS",
    "MAX_HEADER_BYTES",
    "MAX_TEXT_CHARS",
    "TRAINER_PREDICTIONS",
    "Batch",
    "CategoricalLabels",
    "Dataset",
    "Predictions",
    "from_arrays",
    "from_columns",
    "is_dataset",
    "open_dataset",
    "pick_weight",
    "read_column",
    "read_predictions",
    "resolve_columns",
]


def read_predictions(
    path: str,
    *,
    labels_path: str | None = None,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    input_format: str | None = None,
    weight_col: str | None = None,
    by: Sequence[str] = (),
) -> Predictions:
    """Read a predictions file (and, with labels_path, a separate labels file); sample weights
    and the --by columns (`by`, see io.segments) come from the predictions file."""
    if path == labels_path == "-":
        raise InputError(
            "stdin (-) can be read only once; give the labels or predictions as a file"
        )
    src, fmt = _locate(path, input_format)
    if fmt == "npy" and labels_path is None:
        raise InputError(f"{path} holds only predictions; pass the labels with --labels FILE")
    if fmt == "npy":
        from lossdoctor.io.numpy_files import _load_npy  # zipfile and its codecs: NumPy's cost

        segment_columns([], by, [], path)
        scores = {_trainer_name(path, TRAINER_PREDICTIONS): _load_npy(src, path)}
    else:
        names, load = _open_table(src, fmt, path)
        weight_name = pick_weight(names, weight_col, path, [*label_cols, *pred_cols])
        names = [n for n in names if n != weight_name]
        weighted = [weight_name] if weight_name else []
        if labels_path is None:
            label_names, pred_names, chosen_by = choose_columns(
                names, load, label_cols, pred_cols, path
            )
            by_columns = segment_columns(names, by, [*label_names, *pred_names, *weighted], path)
            columns = load(dedup([*label_names, *pred_names, *weighted, *by_columns.values()]))
            labels = {n: columns[n] for n in label_names}
            preds = {n: columns[n] for n in pred_names}
            weight = _weight(columns, weight_name)
            segments = _by(by, by_columns, columns, path)
            return _assemble(labels, preds, path, fmt, chosen_by, weight, not weight_col, segments)
        pred_names = _pick(names, _PREDS, pred_cols, path, single_ok=True)
        by_columns = segment_columns(names, by, [*pred_names, *weighted], path)
        columns = load(dedup([*pred_names, *weighted, *by_columns.values()]))
        weight = _weight(columns, weight_name)
        scores = {n: columns[n] for n in pred_names}
        labels = _read_labels(labels_path, label_cols)
        segments = _by(by, by_columns, columns, path)
        return _assemble(
            labels,
            scores,
            path,
            fmt,
            weight=weight,
            weight_by_name=not weight_col,
            segments=segments,
        )
    if weight_col:
        raise InputError(f"{path} is one array; --weight-col needs a table with named columns")
    labels = _read_labels(labels_path, label_cols)
    array = next(iter(scores.values()))
    rows = array.shape[0] if array.ndim else 0  # a 0-d array is refused by _assemble
    return _assemble(labels, scores, path, fmt, segments=whole_file(by, rows, path))


def _by(
    by: Sequence[str], by_columns: Mapping[str, str], columns: Mapping[str, np.ndarray], path: str
) -> dict:
    """The --by columns of a table read whole, and `file` (one segment)."""
    if not by:
        return {}
    first = np.asarray(next(iter(columns.values())))
    rows = first.shape[0] if first.ndim else 0
    found = {name: np.asarray(columns[column]) for name, column in by_columns.items()}
    return {**found, **whole_file(by, rows, path)}


def read_column(path: str, name: str, option: str = "--id-col") -> np.ndarray:
    """One named column of a table file, as stored (e.g. the ids that pair two files' rows)."""
    src, fmt = _locate(path, None)
    if fmt == "npy":
        raise InputError(f"{path} is one array without named columns; {option} needs a table")
    names, load = _open_table(src, fmt, path)
    if name not in names:
        raise InputError(f"{path} has no column {name!r} ({option})")
    return np.asarray(load([name])[name])


def from_columns(
    columns: Mapping[str, np.ndarray],
    *,
    source: str,
    format: str,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    weight_col: str | None = None,
    by: Sequence[str] = (),
) -> Predictions:
    """For an in-memory table (e.g. a pandas DataFrame turned into name -> array)."""
    table = {str(k): _keep_categories(v) for k, v in columns.items()}
    weight_name = pick_weight(list(table), weight_col, source, [*label_cols, *pred_cols])
    names = [n for n in table if n != weight_name]
    labels, preds, chosen_by = choose_columns(
        names, lambda cols: {c: table[c] for c in cols}, label_cols, pred_cols, source
    )
    by_columns = segment_columns(list(table), by, [*labels, *preds, weight_name], source)
    return _assemble(
        {n: table[n] for n in labels},
        {n: table[n] for n in preds},
        source,
        format,
        chosen_by,
        _weight(table, weight_name),
        not weight_col,
        _by(by, by_columns, table, source),
    )


def from_arrays(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    source: str,
    format: str,
    sample_weight: np.ndarray | None = None,
) -> Predictions:
    """For in-memory arrays: the same checks as for a file's columns."""
    weight = None if sample_weight is None else ("sample_weight", sample_weight)
    labels, scores = {"": _keep_categories(y_true)}, {"": np.asarray(y_score)}
    return _assemble(labels, scores, source, format, weight=weight)


def _weight(columns: Mapping[str, np.ndarray], name: str) -> tuple[str, np.ndarray] | None:
    return (name, columns[name]) if name else None


def _trainer_name(path: str, name: str) -> str:
    """predictions.npy and label_ids.npy, the Trainer's arrays saved one to a file, keep their
    names (the predictions are then declared logits); any other .npy array is unnamed."""
    return name if Path(path).name == f"{name}.npy" else ""


def _keep_categories(values: np.ndarray) -> np.ndarray:
    return values if isinstance(values, CategoricalLabels) else np.asarray(values)


def _read_labels(path: str, label_cols: Sequence[str]) -> dict[str, np.ndarray]:
    """A labels file: an .npy array, a single column, or one recognised label column."""
    src, fmt = _locate(path, None)
    if fmt == "npy":
        from lossdoctor.io.numpy_files import _load_npy

        return {_trainer_name(path, TRAINER_LABELS): _load_npy(src, path)}
    names, load = _open_table(src, fmt, path)
    return load(_pick(names, _LABELS, label_cols, path, single_ok=True))


def _open_table(src: _Src, fmt: str, source: str) -> tuple[list[str], _Loader]:
    """The column names (cheap), and a loader that reads only the chosen columns."""
    if fmt == "csv":
        return _csv_table(src, source)
    if fmt == "npz":
        from lossdoctor.io.numpy_files import _npz_table

        return _npz_table(src, source)
    if fmt == "parquet":
        return _parquet_table(src, source)
    if fmt == "jsonl":
        return _jsonl_table(src, source)
    return _arrow_table(src, source, fmt)
