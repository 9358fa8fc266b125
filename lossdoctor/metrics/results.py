"""What the metrics hold: the result types every renderer reads, and the names a gate may use."""

from dataclasses import dataclass, field, replace

import numpy as np

from lossdoctor.curves import Curve

# The metrics that read the scores beyond their order at one threshold: undefined for class
# labels saved as scores (see without_scores).
SCORE_METRICS = ("log_loss", "roc_auc", "pr_auc", "brier", "ece")
THRESHOLD_GRID: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20
# ROC and precision-recall curves: every class up to MAX_CURVES (the colours a chart tells
# apart), else the CURVE_EXTREMES worst and best by ROC-AUC.
MAX_CURVES = 8
CURVE_EXTREMES = 3
HISTOGRAM_EDGES = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
# Every name a report's metrics can hold, over all tasks: what a gate may name. Each task
# computes a subset (brier is not multi-label; the Keras accuracies are not binary).
METRIC_NAMES: tuple[str, ...] = (
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "brier",
    "mcc",
    "categorical_accuracy",
    "binary_accuracy",
    "ece",
)


@dataclass(frozen=True)
class ClassMetrics:
    """One row of the per-class table; the scores are 0.0 where sklearn's zero_division=0 is."""

    index: int  # class index 0..K-1 (binary: 0 and 1)
    precision: float
    recall: float
    f1: float  # 2tp / (2tp + fp + fn)
    support: int | float  # rows whose true class this is (weighted: their summed weights)
    roc_auc: float | None  # one-vs-rest; None when the class is absent or is every row
    # average precision; 0.0 when the class is absent, as scikit-learn's; None without scores
    pr_auc: float | None


@dataclass(frozen=True)
class ThresholdRow:
    """Binary scores of `p >= threshold`."""

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int | float  # float: summed weights
    fp: int | float
    fn: int | float
    tn: int | float
    best_f1: bool  # True only on the extra row at the F1-maximising threshold


@dataclass(frozen=True)
class Calibration:
    """Equal-mass bins of predicted probability against what happened: a reliability diagram.

    Binary: P(class 1) against the share of positives. Multi-class: the top-label confidence
    against the share of rows whose argmax is right. Multi-label: every cell as binary.
    """

    predicted: np.ndarray  # mean predicted probability of each non-empty bin
    observed: np.ndarray  # observed frequency in each bin
    counts: np.ndarray  # rows in each bin

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean gap between the two."""
        gaps = np.abs(self.observed - self.predicted)
        return float(np.dot(self.counts, gaps) / self.counts.sum())


@dataclass(frozen=True)
class Histogram:
    """Probabilities in equal-width bins over [0, 1], one row of counts per group of rows.

    Binary: P(class 1) split by true class (overlap, saturation and squashing show at a
    glance). Multi-class: the probability of the true class. Multi-label: every cell, split by
    its true value.
    """

    edges: np.ndarray  # HISTOGRAM_BINS + 1 edges from 0 to 1
    counts: np.ndarray  # int64 (groups, HISTOGRAM_BINS)
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Metrics:
    """Everything the report shows for one task."""

    values: dict[str, float | None]  # ordered; None where sklearn's is undefined
    undefined: dict[str, str]  # for each None value, why, in plain words
    per_class: tuple[ClassMetrics, ...]
    thresholds: tuple[ThresholdRow, ...]  # binary only: the grid rows, then the best-F1 row
    # int64 (K, K) true × predicted; multi-label (K, 2, 2) as sklearn; float64 when weighted
    confusion: np.ndarray
    calibration: Calibration
    histogram: Histogram
    # metrics read off a grid (lossdoctor.value_tables) and how far each can be from the exact
    # value; empty when every table is exact
    error_bound: dict[str, float] = field(default_factory=dict)
    # a defined value that holds by convention rather than by measure, and why (average
    # precision of a class without positive rows is 0.0, as scikit-learn returns it)
    notes: dict[str, str] = field(default_factory=dict)
    # ROC and precision-recall curves, thinned, of the classes a chart shows (see curves_of)
    curves: tuple[Curve, ...] = ()


def without_scores(metrics: Metrics, reason: str) -> Metrics:
    """The metrics of class labels saved as scores: those that need scores undefined, with the
    reason; the label metrics (accuracy, the confusion matrix, F1, ...) as they are."""
    dropped = [name for name in SCORE_METRICS if name in metrics.values]
    return replace(
        metrics,
        values={k: None if k in dropped else v for k, v in metrics.values.items()},
        undefined=metrics.undefined | dict.fromkeys(dropped, reason),
        per_class=tuple(replace(c, roc_auc=None, pr_auc=None) for c in metrics.per_class),
        error_bound={
            k: v for k, v in metrics.error_bound.items() if k.split("[")[0] not in dropped
        },
        notes={k: v for k, v in metrics.notes.items() if k not in dropped},
        curves=(),
    )


def histogram(
    values: np.ndarray,
    group: np.ndarray | None,
    groups: tuple[str, ...],
    weights: np.ndarray | None = None,
) -> Histogram:
    """One pass of bincount: bin index plus group offset, so no loop over groups or rows."""
    bin_of = np.minimum((values * HISTOGRAM_BINS).astype(np.intp), HISTOGRAM_BINS - 1)
    if group is not None:
        bin_of += group.astype(np.intp) * HISTOGRAM_BINS
    counts = np.bincount(bin_of, weights, minlength=len(groups) * HISTOGRAM_BINS)
    counts = counts_or_sums(counts.reshape(len(groups), HISTOGRAM_BINS))
    return Histogram(HISTOGRAM_EDGES.copy(), counts, groups)


def counts_or_sums(counts: np.ndarray) -> np.ndarray:
    """int64 counts, or float64 sums of weights."""
    return counts if counts.dtype.kind == "f" else counts.astype(np.int64, copy=False)
