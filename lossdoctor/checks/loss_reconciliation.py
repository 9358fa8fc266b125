"""loss-reconciliation: which computation produced the loss (or accuracy) your framework printed.

How it decides: with --reported-loss X, the loss is recomputed under every interpretation a
framework could have used: the probabilities clipped at 1e-7 (Keras), at float32 eps and at
float64 eps (scikit-learn), unclipped; logits taken as probabilities (from_logits missing);
binary cross-entropy over one-hot cells on a multi-class problem; labels as given before a
-1/+1 remapping; the sum instead of the mean. The closest within 1 % names the computation:
warning when it is a mistake, info when it is a legitimate one. With --reported-accuracy on a
binary task: p >= 0.5, p > 0.5, logits thresholded at 0.5 instead of 0, labels as given.
Logits taken as probabilities leave a tell: per-row losses bunched at 0 and at 16.1 (-ln 1e-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.shared import KerasAsGiven, RowLosses, positive_scores
from lossdoctor.checks.summaries import Summaries, Summary
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import NOT_PROBABILITIES, Task
from lossdoctor.losses import (
    KERAS_EPSILON,
    keras_loss_sum,
    row_losses,
    tally,
    true_class_probability,
    weighted_sum,
)
from lossdoctor.metrics import Metrics

ID = "loss-reconciliation"
SEVERITY = Severity.WARNING
LOSS_TOLERANCE = 0.01  # relative
ACCURACY_TOLERANCE = 0.001  # absolute: frameworks print four digits
# Keras' clip: a logit taken as a probability and clipped costs -log(1e-7) = 16.1 per row.
CLIP_CEILING = -float(np.log(KERAS_EPSILON))

WHY = (
    "A loss that disagrees with the predictions is a computation that differs from the one you "
    "think: from_logits left at False, binary cross-entropy on a multi-class problem, labels "
    "that were never remapped, a sum where a mean was meant. Recomputing every candidate and "
    "finding the one that reproduces the printed number turns a suspicion into a diagnosis."
)
FIXES = {
    "keras": "loss=keras.losses.CategoricalCrossentropy(from_logits=True)",
    "pytorch": "nn.CrossEntropyLoss(reduction='mean')  # takes logits",
}


@dataclass(frozen=True)
class Recomputed(Summary):
    """The sums of the mistaken computations a printed number may come from: computed only
    when the user gave the number (--reported-loss, --reported-accuracy)."""

    one_hot_cells_loss: float = 0.0  # binary cross-entropy over one-hot cells (multi-class)
    signed_as_given: float = 0.0  # -1/+1 labels used as given in binary cross-entropy
    rows_at_clip_ceiling: int | float = 0  # logits taken as probabilities: rows costing ~16.1
    # computation -> rows it counts as right (reported accuracy, binary)
    accuracy_hits: dict[str, int | float] = field(default_factory=dict)

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> Recomputed:
        y, proba, weights = batch.y, batch.proba, batch.weights
        hits = _accuracy_hits(plan, batch)
        if plan.options.reported_loss is None:
            return cls(accuracy_hits=hits)
        raw = positive_scores(plan, batch)
        return cls(
            one_hot_cells_loss=(
                keras_loss_sum(y, proba, one_hot_cells=True, weights=weights)[0]
                if plan.task == Task.MULTICLASS
                else 0.0
            ),
            signed_as_given=(
                _signed_as_given(batch.labels, proba, weights)
                if plan.encoding.name == "minus-one-plus-one"
                else 0.0
            ),
            rows_at_clip_ceiling=(
                _rows_at_clip_ceiling(y, raw, weights)
                if plan.kind in NOT_PROBABILITIES and raw.ndim == 1
                else 0
            ),
            accuracy_hits=hits,
        )


def _signed_as_given(labels: np.ndarray, proba: np.ndarray, weights: np.ndarray | None) -> float:
    """Binary cross-entropy with -1/+1 labels left as they are: -1 rewards log(1 - p) twice."""
    y_raw = labels.astype(np.float64)
    p = np.clip(proba.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    return -weighted_sum(y_raw * np.log(p) + (1 - y_raw) * np.log1p(-p), weights)


def _rows_at_clip_ceiling(
    y: np.ndarray, raw: np.ndarray, weights: np.ndarray | None
) -> int | float:
    clipped = np.clip(raw.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    per_row = row_losses(true_class_probability(y, clipped), 0.0)
    return tally(np.abs(per_row - CLIP_CEILING) < 1e-3, weights)


def _accuracy_hits(plan: Plan, batch: Prepared) -> dict[str, int | float]:
    """Rows each candidate computation of a binary accuracy counts as right."""
    options = plan.options
    if options.reported_accuracy is None or plan.task != Task.BINARY:
        return {}
    p, y, threshold, weights = batch.proba, batch.y, options.threshold, batch.weights
    hits = {
        "at_or_above": tally((p >= threshold) == y, weights),
        "above": tally((p > threshold) == y, weights),
    }
    if plan.kind in NOT_PROBABILITIES and batch.scores.ndim == 1:
        hits["raw_at_half"] = tally((batch.scores >= 0.5) == y, weights)
    if plan.encoding.name in ("minus-one-plus-one", "one-to-k"):
        as_given = (p >= threshold).astype(np.int64) == batch.labels
        hits["labels_as_given"] = tally(as_given, weights)
    return hits


_LOGITS = {"label": (1, 0, 1, 0), "logit": (-4.0, 4.0, -3.0, 3.0)}
EXAMPLES = (
    Example(
        "logits saved, --reported-loss 16.12: logits taken as probabilities (clipped at 1e-7)",
        _LOGITS,
        Severity.WARNING,
        {"reported_loss": 16.12},
    ),
    Example("the same file without --reported-loss or --reported-accuracy", _LOGITS),
)

SUMMARIES = (Recomputed, RowLosses, KerasAsGiven)


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    findings = []
    if plan.options.reported_loss is not None:
        findings.append(_reconcile_loss(plan, s, metrics, plan.options.reported_loss))
    if plan.options.reported_accuracy is not None and plan.task == Task.BINARY:
        finding = _reconcile_accuracy(plan, s[Recomputed], metrics, plan.options.reported_accuracy)
        findings += [finding] if finding else []
    return findings


def _loss_candidates(plan: Plan, s: Summaries) -> dict[str, tuple[float, bool]]:
    """Interpretation -> (loss, whether that interpretation is a mistake)."""
    losses, summary = s[RowLosses], s[Recomputed]
    candidates = {
        "the probabilities, clipped at 1e-7 (Keras)": (losses.mean("keras"), False),
        "the probabilities, clipped at float32 eps": (losses.mean("float32"), False),
        "the probabilities, clipped at float64 eps (scikit-learn)": (
            losses.mean("float64"),
            False,
        ),
        "the probabilities, unclipped": (losses.mean("unclipped"), False),
    }
    if plan.kind in NOT_PROBABILITIES:
        candidates[f"{plan.kind} taken as probabilities (from_logits=False)"] = (
            s[KerasAsGiven].loss,
            True,
        )
    if plan.task == Task.MULTICLASS:
        candidates["binary cross-entropy over one-hot cells"] = (
            summary.one_hot_cells_loss / (plan.weighted_rows * plan.n_classes),
            True,
        )
    if plan.encoding.name == "minus-one-plus-one":
        candidates["labels -1/+1 used as given"] = (
            summary.signed_as_given / plan.weighted_rows,
            True,
        )
    rows = plan.weighted_rows
    for name, (value, _) in list(candidates.items()):
        candidates[f"the sum, not the mean, of {name}"] = (value * rows, True)
    return candidates


def _reconcile_loss(plan: Plan, s: Summaries, metrics: Metrics, reported: float) -> Finding:
    candidates = _loss_candidates(plan, s)
    name, (value, mistake) = min(
        candidates.items(), key=lambda item: _relative_gap(reported, item[1][0])
    )
    gap = _relative_gap(reported, value)
    evidence = {
        "reported_loss": reported,
        "closest": name,
        "closest_loss": value,
        "relative_gap": gap,
        "tolerance": LOSS_TOLERANCE,
        "candidates": {k: v for k, (v, _) in candidates.items()},
    }
    if plan.kind in NOT_PROBABILITIES and plan.task == Task.BINARY:
        evidence["rows_at_clip_ceiling"] = s[Recomputed].rows_at_clip_ceiling
    if gap > LOSS_TOLERANCE:
        return Finding(
            ID,
            Severity.INFO,
            "No computation reproduces the reported loss",
            f"The reported loss {reported:.4g} is not within 1 % of any interpretation; the "
            f"closest is {name} ({value:.4g}). A loss printed during training also holds "
            "regularisation terms and is averaged over batches of another data set.",
            evidence,
            "compare with the loss the framework prints on exactly these rows",
        )
    if mistake:
        return Finding(
            ID,
            Severity.WARNING,
            "The reported loss is a mistaken computation",
            f"The reported loss {reported:.4g} is reproduced by {name} ({value:.4g}); the loss "
            f"of these predictions is {metrics.values['log_loss']:.4g}.",
            evidence,
            _fix_for(name),
        )
    return Finding(
        ID,
        Severity.INFO,
        "The reported loss is reproduced",
        f"The reported loss {reported:.4g} is {name} ({value:.4g}).",
        evidence,
        "",
    )


def _fix_for(name: str) -> str:
    if "taken as probabilities" in name:
        return "loss=keras.losses.BinaryCrossentropy(from_logits=True)  # or CategoricalCE"
    if "one-hot cells" in name:
        return "loss='categorical_crossentropy'  # not binary_crossentropy"
    if "-1/+1" in name:
        return "y = (y + 1) // 2"
    return "reduction='mean'  # not 'sum'"


def _reconcile_accuracy(
    plan: Plan, summary: Recomputed, metrics: Metrics, reported: float
) -> Finding | None:
    threshold = plan.options.threshold
    hits, rows = summary.accuracy_hits, plan.weighted_rows
    names = {
        "at_or_above": (f"p >= {threshold:g}", False),
        "above": (f"p > {threshold:g} (Keras)", False),
        "raw_at_half": ("logits thresholded at 0.5 instead of 0", True),
        "labels_as_given": ("labels compared as given, before remapping", True),
    }
    candidates = {names[k][0]: (count / rows, names[k][1]) for k, count in hits.items()}
    name, (value, mistake) = min(candidates.items(), key=lambda item: abs(reported - item[1][0]))
    if not mistake or abs(reported - value) > ACCURACY_TOLERANCE:
        return None
    evidence = {
        "reported_accuracy": reported,
        "closest": name,
        "closest_accuracy": value,
        "accuracy": metrics.values["accuracy"],
        "candidates": {k: v for k, (v, _) in candidates.items()},
        "tolerance": ACCURACY_TOLERANCE,
    }
    return Finding(
        ID,
        Severity.WARNING,
        "The reported accuracy is a mistaken computation",
        f"The reported accuracy {reported:.4f} is reproduced by {name} ({value:.4f}); the "
        f"accuracy of these predictions is {metrics.values['accuracy']:.4f}.",
        evidence,
        "y_pred = logits >= 0  # or sigmoid first" if "logits" in name else "y = (y + 1) // 2",
    )


def _relative_gap(reported: float, value: float) -> float:
    if not math.isfinite(value):
        return math.inf
    return abs(reported - value) / max(abs(value), 1e-12)
