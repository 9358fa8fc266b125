"""Predictions, and the checks that make the chosen columns into its two arrays."""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.io.columns import _key, _what

_LOGIT = re.compile(r"logits?(_.*)?")
# Text labels are class names. numpy stores text at the width of its longest value, so one
# value of a megabyte would make every row a megabyte wide: longer text is refused.
MAX_TEXT_CHARS = 1000
_INT64_MAX = np.iinfo(np.int64).max
# The arrays of `trainer.predict()` (a PredictionOutput) saved with np.savez: the model's raw
# outputs, logits, beside the labels, -100 where a token is not scored.
TRAINER_PREDICTIONS, TRAINER_LABELS = "predictions", "label_ids"
# PyTorch's CrossEntropyLoss ignore_index, and the label the Hugging Face Trainer pads with:
# such a row (a padding token, a sub-word) is no example, and is left out without an error.
IGNORE_INDEX = -100
# The metrics hold a K x K confusion matrix and rank every class: past this many classes that
# costs gigabytes (100,000 columns would be 80 GB), so the input is refused instead.
MAX_CLASSES = 5_000


class CategoricalLabels(np.ndarray):
    """Text labels read from a categorical column, with its categories in their declared order:
    category i is class i. Readers return it like any column; `_assemble` takes the order off.
    `orders` holds every order found: one, unless pieces of the column disagree."""

    orders: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, values: np.ndarray, orders: tuple[tuple[str, ...], ...]) -> CategoricalLabels:
        labels = np.asarray(values).view(cls)
        labels.orders = orders
        return labels


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
    category_orders: tuple[tuple[str, ...], ...] = ()  # a categorical label column's classes
    unit: str = "rows"  # "tokens": (N, T, K) token-classification outputs read as N*T rows
    chosen_by: str = ""  # how the prediction columns were found when no name said (by_content)
    weights: np.ndarray | None = None  # (N,) float64 sample weights, checked: finite, >= 0
    weight_column: str = ""  # the column they were read from
    weight_by_name: bool = False  # found by its name, not given (--weight-col, sample_weight=)
    # --by name -> that segment column's values per row (io.segments), for the rows above
    segments: Mapping[str, Any] = field(default_factory=dict)


def _assemble(
    labels: Mapping[str, np.ndarray],
    scores: Mapping[str, np.ndarray],
    source: str,
    fmt: str,
    chosen_by: str = "",
    weight: tuple[str, np.ndarray] | None = None,
    weight_by_name: bool = False,
    segments: Mapping[str, Any] | None = None,
) -> Predictions:
    """Check and stack the chosen columns. An unnamed ('') column is a whole .npy array.
    `weight`: the sample-weight column's name and values; `segments`: the --by columns."""
    categories = _categories(labels)
    labels, scores, unit = _tokens(labels, scores)
    floating = all(np.asarray(a).dtype.kind == "f" for a in scores.values())
    y_true = _stack([_label_array(n, np.asarray(a), source) for n, a in labels.items()], source)
    y_score = _stack([_score_array(n, a, source) for n, a in scores.items()], source)
    if len(y_true) != len(y_score):
        raise InputError(
            f"labels have {len(y_true)} rows but predictions have {len(y_score)} "
            f"({source}); give labels and predictions for the same rows"
        )
    if len(y_score) == 0:
        raise InputError(f"no rows in {source}; save at least one prediction")
    _check_widths(y_true, y_score, source)
    label_names, pred_names = tuple(n for n in labels if n), tuple(n for n in scores if n)
    logits = bool(pred_names) and all(_LOGIT.fullmatch(_key(n)) for n in pred_names)
    trainer = (label_names, pred_names) == ((TRAINER_LABELS,), (TRAINER_PREDICTIONS,))
    logits = logits or (trainer and floating)  # argmax ids are no logits
    weight_name, weights = weight if weight else ("", None)
    if weight:
        weights = _weight_array(weight_name, weights, len(y_score), source)
    return Predictions(
        y_true,
        y_score,
        label_names,
        pred_names,
        source,
        fmt,
        logits,
        categories,
        unit,
        chosen_by,
        weights,
        weight_name,
        bool(weight) and weight_by_name,
        _segments(segments or {}, len(y_score), unit, source),
    )


def _segments(segments: Mapping[str, Any], rows: int, unit: str, source: str) -> Mapping[str, Any]:
    """The --by columns, one value per row."""
    if segments and unit != "rows":
        raise InputError(f"{source}: --by segments rows, not the tokens of (N, T, K) outputs")
    for name, values in segments.items():
        if len(values) != rows:
            raise InputError(
                f"--by {name!r} has {len(values)} values for {rows} rows in {source}; "
                "give one value per row"
            )
    return segments


def _check_widths(y_true: np.ndarray, y_score: np.ndarray, source: str) -> None:
    """A column per class on both sides agrees; a single column counts as one value per row."""
    labels = y_true.shape[1] if y_true.ndim == 2 and y_true.shape[1] > 1 else 0
    scores = y_score.shape[1] if y_score.ndim == 2 and y_score.shape[1] > 1 else 0
    if labels and scores and labels != scores:
        raise InputError(f"{source}: {labels} label columns but {scores} prediction columns")
    if labels and not scores and labels != 2:
        raise InputError(
            f"{source}: {labels} label columns but a single prediction column; "
            "give one prediction column per class"
        )
    if scores > MAX_CLASSES:
        raise InputError(
            f"{source}: {scores:,} prediction columns, more than the {MAX_CLASSES:,} "
            "classes lossdoctor diagnoses; save one column per class, and only those"
        )


def _weight_array(name: str, array: np.ndarray, rows: int, source: str) -> np.ndarray:
    """Sample weights as float64, refused unless one finite, non-negative number per row."""
    array = _unobject(name, np.asarray(array), source)
    where = _what(name, source)
    if array.ndim != 1 or array.dtype.kind not in "biuf":
        raise InputError(
            f"sample weights in {where} are not one number per row; choose another column "
            "with --weight-col"
        )
    if len(array) != rows:
        raise InputError(
            f"sample weights in {where} have {len(array)} rows but the predictions have {rows}; "
            "give one weight per row"
        )
    weights = array.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise InputError(
            f"sample weights in {where} must be finite and >= 0: {bad.size} rows are not "
            f"(first: {float(weights[bad[0]])!r}); fix or drop those rows"
        )
    return weights


def _tokens(
    labels: Mapping[str, np.ndarray], scores: Mapping[str, np.ndarray]
) -> tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray], str]:
    """Token classification: (N, T) labels with (N, T, K) scores, or with (N, T) scores when the
    labels hold IGNORE_INDEX padding, are N*T token rows. Anything else is left as it is."""
    if len(labels) != 1 or len(scores) != 1:
        return labels, scores, "rows"
    (label_name, y), (score_name, s) = next(iter(labels.items())), next(iter(scores.items()))
    y, s = np.asarray(y), np.asarray(s)
    if y.ndim != 2 or s.shape[:2] != y.shape or s.ndim not in (2, 3):
        return labels, scores, "rows"
    if s.ndim == 2 and not (y.dtype.kind in "iuf" and (y == IGNORE_INDEX).any()):
        return labels, scores, "rows"  # (N, K) multi-hot labels and (N, K) scores
    rows = y.shape[0] * y.shape[1]
    tokens = s.reshape(rows, s.shape[2]) if s.ndim == 3 else s.reshape(rows)
    return {label_name: y.reshape(rows)}, {score_name: tokens}, "tokens"


def _categories(labels: Mapping[str, np.ndarray]) -> tuple[tuple[str, ...], ...]:
    """The declared class orders of a single categorical label column; () for any other."""
    if len(labels) != 1:
        return ()
    return getattr(next(iter(labels.values())), "orders", ())


def _label_array(name: str, array: np.ndarray, source: str) -> np.ndarray:
    array = _unobject(name, _dims(name, array, source), source)
    if array.dtype.kind in "SU":
        _check_text_width(
            name, array.dtype.itemsize // (4 if array.dtype.kind == "U" else 1), source
        )
    if array.dtype.kind == "S":
        array = array.astype(str)
    if array.dtype.kind == "u" and array.dtype.itemsize == 8:
        array = _signed(name, array, source)
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


def _check_text_width(name: str, longest: int, source: str) -> None:
    """Before text becomes a numpy array as wide as its longest value."""
    if longest > MAX_TEXT_CHARS:
        raise InputError(
            f"{_what(name, source)} holds text of {longest:,} characters; labels are class "
            f"names of at most {MAX_TEXT_CHARS:,} characters: choose the label column with "
            "--label-col, or shorten the names"
        )


def _signed(name: str, array: np.ndarray, source: str) -> np.ndarray:
    """uint64 labels as int64, where every later stage computes; past int64 no label is a
    class index."""
    if array.size and array.max() > _INT64_MAX:
        raise InputError(
            f"labels in {_what(name, source)} go up to {array.max()}, past 2**63 - 1; labels "
            "are class indices 0..K-1 (or 0/1): fix the labels, or choose another column "
            "with --label-col"
        )
    return array.astype(np.int64)


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
            "per row) or 2 (a column per class), or (N, T, K) token logits with (N, T) labels"
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
        _check_text_width(name, max(map(len, values), default=0), source)
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
