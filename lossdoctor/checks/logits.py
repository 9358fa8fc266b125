"""logits-vs-probabilities: the scores are not the probabilities the loss assumes.

How it decides: "probabilities" outside [0, 1] are logits (error); scores all <= 0 whose rows
exp-sum to 1 (within 1e-3), or a single column that fits the labels better as log P than as a
logit, are log-probabilities (error). Multi-class rows that do not sum to 1 within 1e-3 are a
missing softmax (warning). Every score inside the band a second sigmoid ([0.5, 0.731]) or softmax
leaves, when undoing that squash fits the labels better, is a double squash (warning). Scores
declared as logits (a column named logit, or --from-logits) get an info, and so do probabilities
up to 1e-6 above 1 (float32 rounding), which are clipped to 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.shared import KerasAsGiven, positive_scores
from lossdoctor.checks.summaries import HIGHEST, LOWEST, Summaries, Summary
from lossdoctor.infer import ABOVE_ONE_TOLERANCE, ROW_SUM_TOLERANCE, Plan, Prepared, squash_band
from lossdoctor.infer.decisions import Kind, Task
from lossdoctor.losses import row_losses, tally, true_class_probability, weighted_sum
from lossdoctor.metrics import Metrics

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


@dataclass(frozen=True)
class ScoreScale(Summary):
    """Where the scores as given lie against the probability scale: the cells outside [0, 1],
    the row sums of several score columns, and the loss of scores taken as they are."""

    cells: int | float  # usable rows x score columns
    cells_outside_unit: int | float  # raw scores < 0 or > 1
    row_sum_low: float = field(metadata=LOWEST)  # several score columns: the raw row sums
    row_sum_high: float = field(metadata=HIGHEST)
    row_sum_total: float = 0.0
    rows_off: int | float = 0  # rows whose raw scores miss a sum of 1 by more than the tolerance
    loss_as_given: float = 0.0  # squashed twice: the scores as given, scikit-learn's clip (sum)

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> ScoreScale:
        scores, weights = batch.scores, batch.weights
        width = scores.shape[1] if scores.ndim == 2 else 1
        row_sums = scores.sum(axis=1, dtype=np.float64) if scores.ndim == 2 else np.ones(1)
        several = scores.ndim == 2
        loss_as_given = 0.0
        if plan.kind == Kind.SQUASHED_TWICE:
            given = true_class_probability(batch.y, positive_scores(plan, batch))
            loss_as_given = weighted_sum(row_losses(given), weights)
        return cls(
            cells=scores.size if weights is None else width * float(weights.sum()),
            cells_outside_unit=tally((scores < 0) | (scores > 1), weights),
            row_sum_low=float(row_sums.min(initial=np.inf)),
            row_sum_high=float(row_sums.max(initial=-np.inf)),
            row_sum_total=weighted_sum(row_sums, weights) if several else 0.0,
            rows_off=tally(np.abs(row_sums - 1) > ROW_SUM_TOLERANCE, weights) if several else 0,
            loss_as_given=loss_as_given,
        )


EXAMPLES = (
    Example(
        "a column prob from -4.2 to 6.3: fix p = 1 / (1 + np.exp(-logits))",
        {"label": (0, 1, 1, 0, 1), "prob": (-4.2, 6.3, 2.1, -1.5, 0.7)},
        Severity.ERROR,
    ),
    Example(
        "the output of predict_proba",
        {"label": (0, 1, 1, 0, 1), "prob": (0.02, 0.99, 0.9, 0.2, 0.6)},
    ),
)

SUMMARIES = (ScoreScale, KerasAsGiven)


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    summary = s[ScoreScale]
    low, high = plan.score_low, plan.score_high
    evidence = {
        "min": low,
        "max": high,
        "share_outside_0_1": summary.cells_outside_unit / summary.cells,
        "transform": plan.transform,
        "loss_after_transform": metrics.values.get("log_loss"),
    }
    binary = plan.task == Task.BINARY and not plan.score_width
    if plan.kind == Kind.LOGITS:
        fix = SIGMOID_FIX if binary or plan.task == Task.MULTILABEL else SOFTMAX_FIX
        if plan.kind_source != "inferred":
            return [
                Finding(
                    ID,
                    Severity.INFO,
                    "Scores are logits, as declared",
                    f"The scores are logits ({plan.kind_source}); {plan.transform} was applied "
                    "before the metrics.",
                    evidence,
                    fix,
                )
            ]
        evidence["loss_as_probabilities"] = s[KerasAsGiven].loss
        return [
            Finding(
                ID,
                Severity.ERROR,
                "Logits saved as probabilities",
                f"The scores range from {low:.3g} to {high:.3g}, outside [0, 1]: they are logits. "
                f"A probability loss clips them and reports "
                f"{_fmt(evidence['loss_as_probabilities'])}; after {plan.transform} the loss is "
                f"{_fmt(evidence['loss_after_transform'])}.",
                evidence,
                fix,
            )
        ]
    if plan.kind == Kind.LOG_PROBABILITIES:
        evidence["loss_as_probabilities"] = s[KerasAsGiven].loss
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
    if plan.transform == "normalize":
        rows = plan.weighted_rows
        share_off = summary.rows_off / rows
        evidence |= {
            "row_sum_min": summary.row_sum_low,
            "row_sum_mean": summary.row_sum_total / rows,
            "row_sum_max": summary.row_sum_high,
            "share_rows_off": share_off,
            "tolerance": ROW_SUM_TOLERANCE,
        }
        return [
            Finding(
                ID,
                Severity.WARNING,
                "Probability rows do not sum to 1",
                f"{share_off:.0%} of rows sum to something other than 1 (from "
                f"{summary.row_sum_low:.3g} to {summary.row_sum_high:.3g}): independent "
                "sigmoids where a softmax belongs, for a single-label problem. Rows were "
                "normalised for the metrics.",
                evidence,
                "p = torch.softmax(logits, dim=1)  # not torch.sigmoid, for one label per row",
            )
        ]
    if plan.transform == "clip":
        evidence["tolerance"] = ABOVE_ONE_TOLERANCE
        return [
            Finding(
                ID,
                Severity.INFO,
                "Probabilities a rounding step above 1",
                f"The highest score is 1 + {high - 1:.2g}, within the {ABOVE_ONE_TOLERANCE:g} "
                "that float32 arithmetic leaves above 1: the scores are probabilities, "
                "clipped to 1 for the metrics.",
                evidence,
                "p = np.clip(p, 0, 1)  # or compute the probabilities in float64",
            )
        ]
    if plan.kind == Kind.SQUASHED_TWICE:
        band_low, band_high = squash_band(plan.score_width)
        evidence |= {
            "band_low": band_low,
            "band_high": band_high,
            "loss_as_given": summary.loss_as_given / plan.weighted_rows,
        }
        return [
            Finding(
                ID,
                Severity.WARNING,
                "Probabilities squashed twice",
                f"Every score lies in [{band_low:.3f}, {band_high:.3f}], the range a sigmoid or "
                "softmax gives when applied to probabilities, and undoing it fits the labels "
                f"better: the loss is {_fmt(evidence['loss_after_transform'])} after "
                f"{plan.transform}, {_fmt(evidence['loss_as_given'])} as given.",
                evidence,
                "return logits from the model; apply sigmoid/softmax once, in the loss",
            )
        ]
    return []


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
