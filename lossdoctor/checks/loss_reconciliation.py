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

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import Prepared
from lossdoctor.metrics import (
    KERAS_EPSILON,
    Metrics,
    keras_crossentropy,
    log_loss,
    row_losses,
    true_class_probability,
)

ID = "loss-reconciliation"
SEVERITY = Severity.WARNING
LOSS_TOLERANCE = 0.01  # relative
ACCURACY_TOLERANCE = 0.001  # absolute: frameworks print four digits
CLIP_CEILING = -math.log(KERAS_EPSILON)  # 16.118: the loss of a row clipped at 1e-7

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


def check(data: Prepared, metrics: Metrics) -> list[Finding]:
    findings = []
    if data.options.reported_loss is not None:
        findings.append(_reconcile_loss(data, metrics, data.options.reported_loss))
    if data.options.reported_accuracy is not None and data.task == "binary":
        finding = _reconcile_accuracy(data, metrics, data.options.reported_accuracy)
        findings += [finding] if finding else []
    return findings


def _loss_candidates(data: Prepared, metrics: Metrics) -> dict[str, tuple[float, bool]]:
    """Interpretation -> (loss, whether that interpretation is a mistake)."""
    q = true_class_probability(data.y, data.proba)
    candidates = {
        "the probabilities, clipped at 1e-7 (Keras)": (log_loss(q, KERAS_EPSILON), False),
        "the probabilities, clipped at float32 eps": (
            log_loss(q, float(np.finfo("f4").eps)),
            False,
        ),
        "the probabilities, clipped at float64 eps (scikit-learn)": (log_loss(q, 2.0**-52), False),
        "the probabilities, unclipped": (log_loss(q, 0.0), False),
    }
    raw = data.scores[:, 1] if data.task == "binary" and data.scores.ndim == 2 else data.scores
    if data.kind != "probabilities":
        candidates[f"{data.kind} taken as probabilities (from_logits=False)"] = (
            keras_crossentropy(data.y, raw),
            True,
        )
    if data.task == "multiclass":
        candidates["binary cross-entropy over one-hot cells"] = (
            keras_crossentropy(data.y, data.proba, one_hot_cells=True),
            True,
        )
    if data.encoding.name == "minus-one-plus-one":
        y_raw = data.labels.astype(np.float64)
        p = np.clip(data.proba.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
        as_given = -np.mean(y_raw * np.log(p) + (1 - y_raw) * np.log1p(-p))
        candidates["labels -1/+1 used as given"] = (float(as_given), True)
    n = len(q)
    for name, (value, _) in list(candidates.items()):
        candidates[f"the sum, not the mean, of {name}"] = (value * n, True)
    return candidates


def _reconcile_loss(data: Prepared, metrics: Metrics, reported: float) -> Finding:
    candidates = _loss_candidates(data, metrics)
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
    if data.kind != "probabilities":
        raw = data.scores[:, 1] if data.task == "binary" and data.scores.ndim == 2 else data.scores
        clipped = np.clip(raw.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
        if clipped.ndim == 1:
            per_row = row_losses(true_class_probability(data.y, clipped), 0.0)
            at_ceiling = np.abs(per_row - CLIP_CEILING) < 1e-3
            evidence["rows_at_clip_ceiling"] = int(np.count_nonzero(at_ceiling))
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


def _reconcile_accuracy(data: Prepared, metrics: Metrics, reported: float) -> Finding | None:
    threshold = data.options.threshold
    p, y = data.proba, data.y
    candidates = {
        f"p >= {threshold:g}": (float(np.mean((p >= threshold) == y)), False),
        f"p > {threshold:g} (Keras)": (float(np.mean((p > threshold) == y)), False),
    }
    if data.kind != "probabilities" and data.scores.ndim == 1:
        at_half = float(np.mean((data.scores >= 0.5) == y))
        candidates["logits thresholded at 0.5 instead of 0"] = (at_half, True)
    if data.encoding.name in ("minus-one-plus-one", "one-to-k"):
        as_given = float(np.mean((p >= threshold).astype(np.int64) == data.labels))
        candidates["labels compared as given, before remapping"] = (as_given, True)
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
