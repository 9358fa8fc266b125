"""degenerate-predictions: a model that answers the same for every row.

How it decides: error when the scores are constant, or when every row gets the same predicted
class (binary at --threshold, multi-class at the argmax). Warning when a class present in the
labels is never predicted (multi-class), or a label is never (or always) predicted positive
(multi-label).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity, counted
from lossdoctor.checks.summaries import HIGHEST, LOWEST, Summaries, Summary
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Task
from lossdoctor.losses import column_range
from lossdoctor.metrics import Metrics

ID = "degenerate-predictions"
SEVERITY = Severity.ERROR

WHY = (
    "A model that gives every row the same answer has learned the base rate and nothing else: "
    "a collapsed network, a bias-only model, an input pipeline that feeds the same tensor, or "
    "predictions saved before training. Its accuracy can still look good under imbalance."
)
FIXES = {
    "numpy": "np.unique(p, return_counts=True)  # then check the inputs reaching the model",
    "pytorch": "model.train(); check that loss.backward() reaches the weights",
    "keras": "check the input pipeline: model.predict(x[:10]) should differ row to row",
}


@dataclass(frozen=True)
class ScoreRange(Summary):
    """The lowest and highest probability of each column (binary: P(class 1) only), and of
    each score column as given where a sigmoid or softmax made the probabilities (it rounds
    large logits alike); else the probabilities' range again."""

    proba_low: np.ndarray = field(metadata=LOWEST)
    proba_high: np.ndarray = field(metadata=HIGHEST)
    score_low: np.ndarray = field(metadata=LOWEST)
    score_high: np.ndarray = field(metadata=HIGHEST)

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> ScoreRange:
        proba, scores = batch.proba, batch.scores
        columns = proba if proba.ndim == 2 else proba[:, None]
        proba_low, proba_high = column_range(columns)
        if plan.transform not in ("sigmoid", "softmax"):
            return cls(proba_low, proba_high, proba_low, proba_high)
        score_low, score_high = column_range(scores if scores.ndim == 2 else scores[:, None])
        return cls(proba_low, proba_high, score_low, score_high)

    @property
    def constant(self) -> bool:
        """Every row has the same scores: the model ignores its input."""
        return bool(np.all(self.score_low == self.score_high))


EXAMPLES = (
    Example(
        "p = 0.1 for every row: every row predicted 0",
        {"label": (0, 1, 1, 0), "prob": (0.1, 0.1, 0.1, 0.1)},
        Severity.ERROR,
    ),
    Example(
        "a model that predicts each class at least once",
        {"label": (0, 1, 1, 0), "prob": (0.1, 0.8, 0.6, 0.3)},
    ),
)

SUMMARIES = (ScoreRange,)


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    summary = s[ScoreRange]
    constant = summary.constant and plan.rows_used > 1
    if plan.task == Task.MULTILABEL:
        return _multilabel(plan, metrics, constant)
    predicted = metrics.confusion.sum(axis=0)
    support = metrics.confusion.sum(axis=1)
    evidence = {
        "predicted_counts": {str(plan.class_labels[k]): c.item() for k, c in enumerate(predicted)},
        "score_min": float(summary.proba_low.min()),
        "score_max": float(summary.proba_high.max()),
        "rows": support.sum().item(),
    }
    # With one class in the labels, answering it every time is right, not degenerate.
    one_answer = np.count_nonzero(predicted) <= 1 and np.count_nonzero(support) > 1
    if constant or one_answer:
        only = plan.class_labels[int(np.argmax(predicted))]
        title = "Constant scores" if constant else f"Every row is predicted {only}"
        rule = f"p >= {plan.options.threshold:g}" if plan.task == Task.BINARY else "the argmax"
        message = (
            "Every row has the same score: the model ignores its input."
            if constant
            else f"Every row is predicted {only} (at {rule}), though the scores range from "
            f"{evidence['score_min']:.3g} to {evidence['score_max']:.3g}."
        )
        return [Finding(ID, Severity.ERROR, title, message, evidence, FIXES["numpy"])]
    never = [k for k in range(plan.n_classes) if predicted[k] == 0 and support[k] > 0]
    if plan.task == Task.MULTICLASS and never:
        names = ", ".join(str(plan.class_labels[k]) for k in never[:10])
        evidence["never_predicted"] = [str(plan.class_labels[k]) for k in never]
        return [
            Finding(
                ID,
                Severity.WARNING,
                "A class is never predicted",
                counted(len(never), "class occurs", "classes occur")
                + f" in the labels but {'is' if len(never) == 1 else 'are'} never the argmax "
                f"({names}).",
                evidence,
                "inspect the never-predicted classes: class weights, or too few training rows",
            )
        ]
    return []


def _multilabel(plan: Plan, metrics: Metrics, constant: bool) -> list[Finding]:
    tn, fp, fn, tp = (metrics.confusion.reshape(-1, 4)[:, i] for i in range(4))
    n_predicted, rows = fp + tp, tn + fp + fn + tp
    stuck = [k for k in range(plan.n_classes) if n_predicted[k] in (0, rows[k])]
    if not stuck and not constant:
        return []
    evidence = {
        "labels_stuck": [str(plan.class_labels[k]) for k in stuck],
        "predicted_positive": {
            str(plan.class_labels[k]): c.item() for k, c in enumerate(n_predicted)
        },
    }
    severity = Severity.ERROR if constant or len(stuck) == plan.n_classes else Severity.WARNING
    return [
        Finding(
            ID,
            severity,
            "Labels predicted the same for every row",
            f"{len(stuck)} of {plan.n_classes} labels {'is' if len(stuck) == 1 else 'are'} "
            "predicted positive for no row or for every row.",
            evidence,
            FIXES["numpy"],
        )
    ]
