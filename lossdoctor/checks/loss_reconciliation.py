"""loss-reconciliation: which computation produced the loss (or accuracy) your framework printed.

How it decides: with --reported-loss X, the loss is recomputed under every interpretation a
framework could have used: the probabilities clipped at 1e-7 (Keras), at float32 eps and at
float64 eps (scikit-learn), unclipped; logits taken as probabilities (from_logits missing);
binary cross-entropy over one-hot cells on a multi-class problem; labels as given before a
-1/+1 remapping; the sum instead of the mean. The closest within 1 % names the computation:
warning when it is a mistake, info when it is a legitimate one. With --reported-accuracy on a
binary task: p >= 0.5, p > 0.5, logits thresholded at 0.5 instead of 0, labels as given.
Logits taken as probabilities leave a tell: per-row losses bunched at 0 and at 16.1 (-ln 1e-7).

Example: logits saved, --reported-loss 5.2 -> warning, "logits taken as probabilities".
Quiet: no --reported-loss or --reported-accuracy.
"""

from __future__ import annotations

import math

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.checks.totals import CheckTotals
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import NOT_PROBABILITIES, Task
from lossdoctor.metrics import (
    Metrics,
)

ID = "loss-reconciliation"
SEVERITY = Severity.WARNING
LOSS_TOLERANCE = 0.01  # relative
ACCURACY_TOLERANCE = 0.001  # absolute: frameworks print four digits

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


def check(plan: Plan, summary: CheckTotals, metrics: Metrics) -> list[Finding]:
    findings = []
    if plan.options.reported_loss is not None:
        findings.append(_reconcile_loss(plan, summary, metrics, plan.options.reported_loss))
    if plan.options.reported_accuracy is not None and plan.task == Task.BINARY:
        finding = _reconcile_accuracy(plan, summary, metrics, plan.options.reported_accuracy)
        findings += [finding] if finding else []
    return findings


def _loss_candidates(plan: Plan, summary: CheckTotals) -> dict[str, tuple[float, bool]]:
    """Interpretation -> (loss, whether that interpretation is a mistake)."""
    n = summary.loss_cells
    sums = summary.loss_sums
    candidates = {
        "the probabilities, clipped at 1e-7 (Keras)": (sums["keras"] / n, False),
        "the probabilities, clipped at float32 eps": (sums["float32"] / n, False),
        "the probabilities, clipped at float64 eps (scikit-learn)": (sums["float64"] / n, False),
        "the probabilities, unclipped": (sums["unclipped"] / n, False),
    }
    if plan.kind in NOT_PROBABILITIES:
        candidates[f"{plan.kind} taken as probabilities (from_logits=False)"] = (
            summary.keras_as_given / summary.keras_as_given_cells,
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


def _reconcile_loss(plan: Plan, summary: CheckTotals, metrics: Metrics, reported: float) -> Finding:
    candidates = _loss_candidates(plan, summary)
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
        evidence["rows_at_clip_ceiling"] = summary.rows_at_clip_ceiling
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
    plan: Plan, summary: CheckTotals, metrics: Metrics, reported: float
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
