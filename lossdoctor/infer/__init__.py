"""What the arrays hold: the task, what the scores are, and how the labels are encoded.

Validation happens here, once. Everything downstream (metrics, checks) trusts what this module
returns: labels as class indices 0..K-1, scores on the probability scale, and a mask of the rows
that can be used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.labels import LabelEncoding, encode_labels
from lossdoctor.infer.scores import (
    KINDS,
    ROW_SUM_TOLERANCE,
    score_kind,
    squash_band,
    to_probabilities,
)
from lossdoctor.io import Predictions

__all__ = [
    "KINDS",
    "ROW_SUM_TOLERANCE",
    "TASKS",
    "LabelEncoding",
    "Options",
    "Prepared",
    "prepare",
    "squash_band",
]

TASKS = ("binary", "multiclass", "multilabel")
# The metrics hold a K x K confusion matrix and rank every class: past this many classes that
# costs gigabytes (100,000 columns would be 80 GB), so the input is refused instead.
MAX_CLASSES = 5_000


@dataclass(frozen=True)
class Options:
    """What the user told us, on the command line or as keyword arguments of `diagnose`."""

    task: str | None = None
    from_logits: bool | None = None
    threshold: float = 0.5
    loss: str | None = None
    reported_accuracy: float | None = None
    reported_loss: float | None = None
    positive_label: str | None = None


@dataclass(frozen=True)
class Prepared:
    """What metrics and checks need, computed once: clean, remapped, on the probability scale."""

    task: str
    n_classes: int
    class_labels: tuple  # the label shown for each class index
    kind: str  # what the scores are: one of KINDS
    kind_source: str  # inferred, a column named logit, --from-logits, --from-probabilities
    transform: str  # none, sigmoid, softmax, exp, normalize
    raw_scores: np.ndarray  # every row's scores as given
    raw_labels: np.ndarray  # every row's labels as given
    scores: np.ndarray  # the usable rows' scores as given
    labels: np.ndarray  # the usable rows' labels as given
    usable: np.ndarray  # bool (N,): rows that are finite and whose label is a class
    y: np.ndarray  # usable rows: class index (N',), or (N', K) bool for multi-label
    proba: np.ndarray  # usable rows: P(class 1) (N',) for binary, (N', K) otherwise
    encoding: LabelEncoding
    options: Options
    n_rows: int
    non_finite_rows: np.ndarray  # indices of rows with a NaN or infinite score or label


def prepare(predictions: Predictions, options: Options) -> Prepared:
    """Decide the task, the label mapping and the prediction kind, and put scores on one scale."""
    scores = _as_float(predictions.y_score, predictions.source)
    labels = predictions.y_true
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    _check_shapes(labels, scores, predictions.source)

    raw_scores, raw_labels = scores, labels
    finite = _finite_rows(scores, labels)
    task = _task(labels, scores, options.task, predictions.source)
    n_classes = 2 if task == "binary" else scores.shape[1]
    y, in_range, encoding, class_labels = encode_labels(
        labels, finite, task, n_classes, options.positive_label
    )
    usable = finite & in_range
    if not usable.any():
        raise InputError(_nothing_usable(predictions.source, finite, encoding, task, n_classes))
    if not usable.all():  # copies only when some rows must go
        scores, labels, y = scores[usable], labels[usable], y[usable]
    kind, source = score_kind(scores, y, task, options.from_logits, predictions)
    proba, transform = to_probabilities(scores, kind, task)
    if task == "binary" and proba.ndim == 2:
        proba = proba[:, 1]
    return Prepared(
        task=task,
        n_classes=n_classes,
        class_labels=class_labels,
        kind=kind,
        kind_source=source,
        transform=transform,
        raw_scores=raw_scores,
        raw_labels=raw_labels,
        scores=scores,
        labels=labels,
        usable=usable,
        y=y,
        proba=proba,
        encoding=encoding,
        options=options,
        n_rows=len(usable),
        non_finite_rows=np.flatnonzero(~finite),
    )


def _as_float(scores: np.ndarray, source: str) -> np.ndarray:
    """Floats as scikit-learn takes them: float16/32/64 kept, anything numeric to float64."""
    if scores.dtype.kind == "f":
        return scores
    if scores.dtype.kind in "biu":
        return scores.astype(np.float64)
    raise InputError(f"{source}: predictions are not numbers (dtype {scores.dtype})")


def _check_shapes(labels: np.ndarray, scores: np.ndarray, source: str) -> None:
    if scores.ndim not in (1, 2) or labels.ndim not in (1, 2):
        raise InputError(f"{source}: labels and predictions must be 1-D or 2-D arrays")
    if len(labels) != len(scores):
        raise InputError(
            f"{source}: {len(labels)} labels but {len(scores)} predictions; align their rows"
        )
    if len(scores) == 0:
        raise InputError(f"{source}: no rows")
    if labels.ndim == 2 and scores.ndim == 2 and labels.shape[1] != scores.shape[1]:
        raise InputError(
            f"{source}: {labels.shape[1]} label columns but {scores.shape[1]} prediction columns"
        )
    if scores.ndim == 1 and labels.ndim == 2 and labels.shape[1] != 2:
        raise InputError(
            f"{source}: {labels.shape[1]} label columns but a single prediction column; "
            "give one prediction column per class"
        )
    if scores.ndim == 2 and scores.shape[1] > MAX_CLASSES:
        raise InputError(
            f"{source}: {scores.shape[1]:,} prediction columns, more than the {MAX_CLASSES:,} "
            "classes lossdoctor diagnoses; save one column per class, and only those"
        )


def _nothing_usable(
    source: str, finite: np.ndarray, encoding: LabelEncoding, task: str, n_classes: int
) -> str:
    """Why no row is left to diagnose: a report of empty metrics would say nothing."""
    if not finite.any():
        return (
            f"{source}: every row holds a NaN or infinite score or label, so there is nothing "
            "to diagnose; find where the NaNs come from (a diverged model, a failed join?)"
        )
    seen = ", ".join(str(v) for v in encoding.values[:5])
    classes = "0 and 1" if task == "binary" else f"0..{n_classes - 1}"
    return (
        f"{source}: no label is a class of the predictions (labels seen: {seen}"
        f"{', ...' if encoding.n_distinct > 5 else ''}; classes: {classes}); fix the labels, "
        "or choose other columns with --label-col and --pred-col"
    )


def _finite_rows(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    finite = np.isfinite(scores)
    if finite.ndim == 2:
        finite = finite.all(axis=1)
    if labels.dtype.kind == "f":
        finite_labels = np.isfinite(labels)
        finite &= finite_labels.all(axis=1) if finite_labels.ndim == 2 else finite_labels
    return finite


def _task(labels: np.ndarray, scores: np.ndarray, forced: str | None, source: str) -> str:
    """Binary for one score column (or two complementary ones), multi-label for multi-hot labels."""
    if forced is not None:
        if forced not in TASKS:
            raise InputError(f"unknown task {forced!r}; use one of {', '.join(TASKS)}")
        if forced != "binary" and scores.ndim == 1:
            raise InputError(f"{source}: --task {forced} needs one prediction column per class")
        if forced == "multilabel" and labels.ndim == 1:
            raise InputError(f"{source}: --task multilabel needs one label column per class")
        if forced == "binary" and scores.ndim == 2 and scores.shape[1] > 2:
            raise InputError(
                f"{source}: --task binary needs one prediction column (or two), not "
                f"{scores.shape[1]}; drop --task to diagnose a multi-class problem"
            )
        return forced
    if scores.ndim == 1:
        return "binary"
    if labels.ndim == 2 and labels.dtype.kind in "biuf":
        ones = np.count_nonzero(labels == 1, axis=1)
        binary_cells = ((labels == 0) | (labels == 1)).all()
        if binary_cells and (ones != 1).any():
            return "multilabel"
    return "binary" if scores.shape[1] == 2 else "multiclass"
