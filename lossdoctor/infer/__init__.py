"""What the arrays hold: the task, what the scores are, and how the labels are encoded.

Validation happens here, once. The decisions are taken from a survey of every row (`plan`),
then applied to each batch alike (`Plan.prepare`): labels as class indices 0..K-1, scores on
the probability scale, and the rows that can be used. Everything downstream trusts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from lossdoctor.errors import InputError
from lossdoctor.infer.decisions import KINDS, TASKS, Kind, Task
from lossdoctor.infer.labels import (
    CLASS_ORDERS,
    IGNORE_INDEX,
    LabelEncoding,
    LabelMap,
    decide_labels,
)
from lossdoctor.infer.scores import (
    ABOVE_ONE_TOLERANCE,
    KindEvidence,
    decide_kind,
    evidence,
    kind_from_range,
    squash_band,
    to_probabilities,
    transform_of,
)
from lossdoctor.infer.survey import (
    ROW_SUM_TOLERANCE,
    Survey,
    finite_rows,
    scores_and_labels,
    survey_batch,
)
from lossdoctor.io import BY_CLASS_NAMES, MAX_CLASSES, TRAINER_PREDICTIONS, Batch
from lossdoctor.losses import true_class_probability

if TYPE_CHECKING:
    from lossdoctor.settings import Settings

__all__ = [
    "ABOVE_ONE_TOLERANCE",
    "CLASS_ORDERS",
    "IGNORE_INDEX",
    "KINDS",
    "MAX_CLASSES",
    "ROW_SUM_TOLERANCE",
    "TASKS",
    "Kind",
    "LabelEncoding",
    "Plan",
    "Prepared",
    "Survey",
    "Task",
    "plan",
    "squash_band",
    "survey_batch",
]


# Past this total, products of weighted sums (MCC squares them twice) could overflow float64:
# such weights are refused, since a common factor changes no metric.
MAX_WEIGHT_SUM = 1e50


@dataclass(frozen=True)
class Prepared:
    """One batch as metrics and checks read it: clean, remapped, on the probability scale."""

    scores: np.ndarray  # the usable rows' scores as given
    labels: np.ndarray  # the usable rows' labels as given
    y: np.ndarray  # usable rows: class index (N',), or (N', K) bool for multi-label
    proba: np.ndarray  # usable rows: P(class 1) (N',) for binary, (N', K) otherwise
    rows: np.ndarray | None  # dataset-wide row number of each usable row; None: first_row + i
    first_row: int
    weights: np.ndarray | None = None  # usable rows' sample weights, all > 0; None: unweighted

    @cached_property
    def true_class(self) -> np.ndarray:
        """The probability each row (multi-label: each cell) gives to what is true, in proba's
        dtype: several summaries read it, so it is computed once per batch."""
        return true_class_probability(self.y, self.proba)

    def row_numbers(self, index: np.ndarray) -> np.ndarray:
        """Dataset-wide row numbers of some usable rows, by their position in this batch."""
        return self.first_row + index if self.rows is None else self.rows[index]

    def blocks(self, size: int) -> Iterator[Prepared]:
        """The batch in consecutive blocks of at most `size` rows (views, no copy)."""
        n = len(self.y)
        if n <= size:
            yield self
            return
        for start in range(0, n, size):
            part = slice(start, start + size)
            yield Prepared(
                self.scores[part],
                self.labels[part],
                self.y[part],
                self.proba[part],
                None if self.rows is None else self.rows[part],
                self.first_row + start,
                None if self.weights is None else self.weights[part],
            )


@dataclass(frozen=True)
class Plan:
    """Every decision about the data, taken once from the survey of all rows."""

    task: Task
    n_classes: int
    class_labels: tuple  # the label shown for each class index
    kind: Kind  # what the scores are
    kind_source: str  # inferred, a column named logit, --from-logits, --from-probabilities
    transform: str  # none, sigmoid, softmax, exp, normalize, clip, one-hot, inverse sigmoid/softmax
    encoding: LabelEncoding
    labels: LabelMap
    options: Settings  # what the user said: the checks read their options here
    survey: Survey
    score_low: float  # the usable rows' lowest and highest score as given
    score_high: float
    rows_used: int
    prediction_columns: tuple[str, ...] = ()
    weight_used: float = 0.0  # the usable rows' summed sample weights (0 without weights)

    @property
    def weighted_rows(self) -> int | float:
        """What counts and sums over the usable rows divide by: their number, or with sample
        weights their summed weights."""
        return self.weight_used if self.weight_column else self.rows_used

    @property
    def weight_column(self) -> str:
        """The sample weights' column; '' when the rows are not weighted."""
        return self.survey.weight_column

    @property
    def n_rows(self) -> int:
        return self.survey.rows

    @property
    def class_order(self) -> str:
        """Why class i is the class it is: one of CLASS_ORDERS."""
        return self.labels.order

    @property
    def score_width(self) -> int:
        return self.survey.score_width

    @property
    def unit(self) -> str:
        """What a row is: rows, or tokens of token-classification outputs."""
        return self.survey.unit

    def prepare(self, batch: Batch) -> Prepared:
        """The batch's usable rows, labels mapped and scores on the probability scale. A row of
        weight 0 is not used, as scikit-learn's metrics leave it out."""
        scores, labels, y, usable = _usable(batch, self.labels)
        weights = batch.predictions.weights
        if weights is not None:
            used = np.ones(len(weights), dtype=bool) if usable is None else usable
            weights = weights[used]
            if not weights.all():
                kept = weights > 0
                scores, labels, y, weights = scores[kept], labels[kept], y[kept], weights[kept]
                usable = used.copy()
                usable[used] = kept
        if self.transform == "one-hot":  # a column of predicted class indices
            proba = (scores[:, None] == np.arange(self.n_classes)).astype(np.float64)
        else:
            proba = to_probabilities(scores, self.transform)
        if self.task == Task.BINARY and proba.ndim == 2:
            proba = proba[:, 1]
        rows = None if usable is None else np.flatnonzero(usable) + batch.first_row
        return Prepared(scores, labels, y, proba, rows, batch.first_row, weights)


MapReduce = Callable[[Callable[[Batch], object], Callable[[object, object], object]], object]


def plan(
    survey: Survey,
    options: Settings,
    source: str,
    prediction_columns: tuple[str, ...],
    map_reduce: MapReduce,
) -> Plan:
    """Decide the task, the label mapping and what the scores are, from the survey of all rows.

    `map_reduce(summarize, merge)` runs over the rows again when the range of the scores leaves
    their kind open (probabilities squashed twice, log-probabilities): then sums over the rows
    of the fit of each reading decide.
    """
    task = _task(survey, options.task, source)
    n_classes = 2 if task == Task.BINARY else survey.score_width
    predicted_classes = _predicted_class_count(survey, options)
    if predicted_classes:
        task, n_classes = Task.MULTICLASS, predicted_classes
    named_columns = survey.columns_chosen_by == BY_CLASS_NAMES
    column_classes = tuple(n.strip() for n in prediction_columns) if named_columns else ()
    labels = decide_labels(
        survey, task, n_classes, options.positive_label, options.classes, column_classes
    )
    usable = (
        np.ones(len(survey.group_low), dtype=bool)
        if labels.usable_values is None
        else labels.usable_values
    )
    rows_used = int(survey.counts[usable].sum()) if survey.label_width == 0 else survey.finite_rows
    if rows_used == 0:
        raise InputError(_nothing_usable(source, survey, labels.encoding, task, n_classes))
    in_use = usable if survey.label_width == 0 else slice(None)
    weight_used = float(survey.weight_sums[in_use].sum())
    if survey.weight_column:
        if not weight_used <= MAX_WEIGHT_SUM:
            raise InputError(
                f"sample weights in column {survey.weight_column!r} of {source} sum to "
                f"{weight_used:.3g}, above {MAX_WEIGHT_SUM:.0e}; divide them by a common factor "
                "(no metric changes)"
            )
        rows_used = int(survey.weighted_counts[in_use].sum())  # weight 0: left out
        if rows_used == 0:
            raise InputError(
                f"every usable row of {source} has sample weight 0 (column "
                f"{survey.weight_column!r}); give some rows a positive weight"
            )
    low = float(survey.group_low[usable].min())
    high = float(survey.group_high[usable].max())
    declared = _declared_by(prediction_columns) if survey.declared_logits else None
    hard = survey.whole_scores and options.from_logits is None and not declared and low >= 0
    if predicted_classes or (hard and high <= 1):
        kind = (Kind.CLASS_PREDICTIONS, "inferred")
    else:
        kind = kind_from_range(
            low,
            high,
            task=task,
            score_width=survey.score_width,
            rows=rows_used,
            from_logits=options.from_logits,
            declared=declared,
            source=source,
        )
    if isinstance(kind, str):
        question = kind

        def summarize(batch: Batch) -> KindEvidence:
            scores, _, y, _ = _usable(batch, labels)
            return evidence(question, scores, y)

        summarize.label = "testing what the scores are"
        kind = decide_kind(question, map_reduce(summarize, KindEvidence.merge))
    rows_off = int(survey.group_rows_off[usable].sum())
    return Plan(
        task=task,
        n_classes=n_classes,
        class_labels=labels.class_labels,
        kind=kind[0],
        kind_source=kind[1],
        transform=(
            "one-hot"
            if predicted_classes
            else transform_of(kind[0], task, survey.score_width, rows_off, high)
        ),
        encoding=labels.encoding,
        labels=labels,
        options=options,
        survey=survey,
        score_low=low,
        score_high=high,
        rows_used=rows_used,
        prediction_columns=prediction_columns,
        weight_used=weight_used,
    )


def _predicted_class_count(survey: Survey, options: Settings) -> int:
    """K when the labels are class indices 0..K-1 (K >= 3, at least three of them present)
    and one score column holds whole numbers among them: model.predict of a multi-class
    problem. 0 otherwise: whole-number percentages of a binary problem are scores."""
    if survey.score_width or survey.label_width or options.from_logits is not None:
        return 0
    if options.task is not None or not survey.whole_scores:
        return 0
    if survey.label_kind not in "iuf" or not survey.whole_labels or len(survey.values) < 3:
        return 0
    low = min(float(survey.group_low.min()), float(survey.values.min()))
    top = float(survey.values.max())
    if low < 0 or top >= MAX_CLASSES or float(survey.group_high.max()) > top:
        return 0
    return int(top) + 1


def _declared_by(prediction_columns: tuple[str, ...]) -> str:
    """Who said the scores are logits: a column named logit*, or the Trainer's output."""
    if prediction_columns == (TRAINER_PREDICTIONS,):
        return "the Hugging Face Trainer's predictions"
    return "a column named " + prediction_columns[0]


def _usable(
    batch: Batch, labels: LabelMap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Scores, raw labels and class indices of the usable rows; the mask, None if all are."""
    scores, raw = scores_and_labels(batch.predictions)
    finite = finite_rows(scores, raw)
    y, usable = labels.apply(raw, finite)
    if usable.all():
        return scores, raw, y, None
    return scores[usable], raw[usable], y[usable], usable


def _nothing_usable(
    source: str, survey: Survey, encoding: LabelEncoding, task: str, n_classes: int
) -> str:
    """Why no row is left to diagnose: a report of empty metrics would say nothing."""
    if survey.finite_rows == 0:
        return (
            f"{source}: every row holds a NaN or infinite score or label, so there is nothing "
            "to diagnose; find where the NaNs come from (a diverged model, a failed join?)"
        )
    seen = ", ".join(str(v) for v in encoding.values[:5])
    classes = "0 and 1" if task == Task.BINARY else f"0..{n_classes - 1}"
    return (
        f"{source}: no label is a class of the predictions (labels seen: {seen}"
        f"{', ...' if encoding.n_distinct > 5 else ''}; classes: {classes}); fix the labels, "
        "or choose other columns with --label-col and --pred-col"
    )


def _task(survey: Survey, forced: str | None, source: str) -> Task:
    """Binary for one score column (or two complementary ones), multi-label for multi-hot labels."""
    width, labels_2d = survey.score_width, survey.label_width > 0
    if forced is not None:
        if forced not in TASKS:
            raise InputError(f"unknown task {forced!r}; use one of {', '.join(TASKS)}")
        if forced != Task.BINARY and not width:
            raise InputError(f"{source}: --task {forced} needs one prediction column per class")
        if forced == Task.MULTILABEL and not labels_2d:
            raise InputError(f"{source}: --task multilabel needs one label column per class")
        if forced == Task.BINARY and width > 2:
            raise InputError(
                f"{source}: --task binary needs one prediction column (or two), not "
                f"{width}; drop --task to diagnose a multi-class problem"
            )
        return Task(forced)
    if not width:
        return Task.BINARY
    hot = labels_2d and survey.label_kind in "biuf" and survey.binary_cells
    if hot and survey.rows_not_one_hot:
        return Task.MULTILABEL
    return Task.BINARY if width == 2 else Task.MULTICLASS
