"""logits-vs-probabilities: the scores are not the probabilities the loss assumes.

How it decides: "probabilities" outside [0, 1] are logits (error); scores all <= 0 whose rows
exp-sum to 1 (within 1e-3), or a single column that fits the labels better as log P than as a
logit, are log-probabilities (error). Multi-class rows that do not sum to 1 within 1e-3 are a
missing softmax (warning). Every score inside the band a second sigmoid ([0.5, 0.731]) or softmax
leaves, when undoing that squash fits the labels better, is a double squash (warning). Scores
declared as logits (a column named logit, or --from-logits) get an info.

Example: a column `prob` from -4.2 to 6.3 -> error, fix `p = 1 / (1 + np.exp(-logits))`.
Quiet: the output of predict_proba.
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import ROW_SUM_TOLERANCE, Prepared, squash_band
from lossdoctor.metrics import Metrics, keras_crossentropy, log_loss, true_class_probability

ID = "logits-vs-probabilities"
SEVERITY = Severity.ERROR
WHY = (
    "A loss or metric that expects probabilities but is given logits clips them into "
    "[eps, 1 - eps]: every confident logit becomes 0 or 1, and the cross-entropy reads 8 where "
    "0.4 was right, while ranking metrics look fine. Log-probabilities, a missing softmax and "
    "a second sigmoid do the same more quietly: the model is fine, the numbers describe "
    "something else."
)
FIXES = {
    "keras": "loss=keras.losses.BinaryCrossentropy(from_logits=True)  # or CategoricalCrossentropy",
    "pytorch": "nn.BCEWithLogitsLoss() / nn.CrossEntropyLoss() on logits; save torch.sigmoid(z)",
    "scikit-learn": "p = model.predict_proba(X)  # not decision_function(X)",
}

SIGMOID_FIX = "p = 1 / (1 + np.exp(-logits))  # or BinaryCrossentropy(from_logits=True)"
SOFTMAX_FIX = "p = scipy.special.softmax(logits, axis=1)  # or from_logits=True in the loss"


def check(data: Prepared, metrics: Metrics) -> list[Finding]:
    scores = data.scores
    low, high = float(scores.min()), float(scores.max())
    evidence = {
        "min": low,
        "max": high,
        "share_outside_0_1": float(np.count_nonzero((scores < 0) | (scores > 1)) / scores.size),
        "transform": data.transform,
        "loss_after_transform": metrics.values.get("log_loss"),
    }
    binary = data.task == "binary" and scores.ndim == 1
    if data.kind == "logits":
        fix = SIGMOID_FIX if binary or data.task == "multilabel" else SOFTMAX_FIX
        if data.kind_source != "inferred":
            return [
                Finding(
                    ID,
                    Severity.INFO,
                    "Scores are logits, as declared",
                    f"The scores are logits ({data.kind_source}); {data.transform} was applied "
                    "before the metrics.",
                    evidence,
                    fix,
                )
            ]
        evidence["loss_as_probabilities"] = _loss_as_given(data)
        return [
            Finding(
                ID,
                Severity.ERROR,
                "Logits saved as probabilities",
                f"The scores range from {low:.3g} to {high:.3g}, outside [0, 1]: they are logits. "
                f"A probability loss clips them and reports "
                f"{_fmt(evidence['loss_as_probabilities'])}; after {data.transform} the loss is "
                f"{_fmt(evidence['loss_after_transform'])}.",
                evidence,
                fix,
            )
        ]
    if data.kind == "log-probabilities":
        evidence["loss_as_probabilities"] = _loss_as_given(data)
        return [
            Finding(
                ID,
                Severity.ERROR,
                "Log-probabilities saved as probabilities",
                f"Every score is <= 0 (max {high:.3g}) and exp() of each row sums to 1: these "
                "are log-probabilities (log_softmax output). exp() was applied before the "
                f"metrics; the loss is {_fmt(evidence['loss_after_transform'])}.",
                evidence,
                "p = np.exp(log_p)  # or use nn.NLLLoss on log_softmax output",
            )
        ]
    if data.transform == "normalize":
        sums = scores.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1) > ROW_SUM_TOLERANCE
        evidence |= {
            "row_sum_min": float(sums.min()),
            "row_sum_mean": float(sums.mean()),
            "row_sum_max": float(sums.max()),
            "share_rows_off": float(off.mean()),
            "tolerance": ROW_SUM_TOLERANCE,
        }
        return [
            Finding(
                ID,
                Severity.WARNING,
                "Probability rows do not sum to 1",
                f"{off.mean():.0%} of rows sum to something other than 1 (from "
                f"{sums.min():.3g} to {sums.max():.3g}): independent sigmoids where a softmax "
                "belongs, for a single-label problem. Rows were normalised for the metrics.",
                evidence,
                "p = torch.softmax(logits, dim=1)  # not torch.sigmoid, for one label per row",
            )
        ]
    if data.kind == "probabilities squashed twice":
        band_low, band_high = squash_band(scores)
        evidence |= {
            "band_low": band_low,
            "band_high": band_high,
            "loss_as_given": log_loss(true_class_probability(data.y, _positive(data))),
        }
        return [
            Finding(
                ID,
                Severity.WARNING,
                "Probabilities squashed twice",
                f"Every score lies in [{band_low:.3f}, {band_high:.3f}], the range a sigmoid or "
                "softmax gives when applied to probabilities, and undoing it fits the labels "
                f"better: the loss is {_fmt(evidence['loss_after_transform'])} after "
                f"{data.transform}, {_fmt(evidence['loss_as_given'])} as given.",
                evidence,
                "return logits from the model; apply sigmoid/softmax once, in the loss",
            )
        ]
    return []


def _positive(data: Prepared) -> np.ndarray:
    """The scores as given, as P(class 1) for a binary task saved as two columns."""
    return data.scores[:, 1] if data.task == "binary" and data.scores.ndim == 2 else data.scores


def _loss_as_given(data: Prepared) -> float:
    """The loss a framework prints when it takes these scores for probabilities."""
    return keras_crossentropy(data.y, _positive(data))


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
