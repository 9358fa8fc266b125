"""probability-saturation: probabilities at exactly 0 or 1 that make the loss explode.

How it decides: a true-class probability of exactly 0 is an error. Probabilities within 1e-7 of
0 or 1 are a warning when the loss moves by more than 1 % between clipping at 1e-7 (Keras) and
at float64 eps: the confidently wrong rows among them (true-class probability <= 1e-7) then
carry the loss. An info otherwise: confident and right, or a lone confident mistake that does
not move the loss. Skipped when the scores were logits: the loss
is then computed from the logits.

With sample weights the losses are the weighted means; the counts stay counts of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.checks.base import Example, Finding, Severity, counted
from lossdoctor.checks.shared import RowLosses
from lossdoctor.checks.summaries import Summaries, Summary
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Kind
from lossdoctor.losses import KERAS_EPSILON
from lossdoctor.metrics import Metrics

ID = "probability-saturation"
SEVERITY = Severity.ERROR
# A probability this close to 0 or 1 is saturated: Keras clips there.
SATURATION_EPSILON = KERAS_EPSILON
# The loss "measures the clipping" when it moves more than this between two clipping constants.
CLIPPING_SENSITIVITY = 0.01
# The share of the loss carried by the worst rows shows how much a handful of rows dominate.
WORST_SHARE = 0.01

FIX = "compute the loss from logits: torch.nn.BCEWithLogitsLoss() / from_logits=True"
WHY = (
    "log(0) is minus infinity: one row that gives its true class a probability of exactly 0 makes "
    "the cross-entropy infinite. Frameworks hide it by clipping at some epsilon, so the loss they "
    "print is then set by that constant (16.1 per row at 1e-7, 36 at float64 eps), not by the "
    "model. Probabilities round to exactly 0 or 1 when they pass through float16, a sigmoid in "
    "float32, or rounding on save."
)
FIXES = {
    "keras": "loss=keras.losses.BinaryCrossentropy(from_logits=True)  # keep logits to the end",
    "pytorch": "nn.BCEWithLogitsLoss()  # instead of nn.BCELoss() after torch.sigmoid",
    "scikit-learn": "log_loss(y, model.predict_proba(X))  # float64, not rounded or float16",
}


@dataclass(frozen=True)
class Saturated(Summary):
    """Probability cells within SATURATION_EPSILON of 0 and of 1, and the cells whose true
    class gets at most that: counted in cells even when weighted, since the check asks whether
    any row is saturated."""

    at_zero: int
    at_one: int
    confidently_wrong: int

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> Saturated:
        proba = batch.proba
        return cls(
            at_zero=int(np.count_nonzero(proba <= SATURATION_EPSILON)),
            at_one=int(np.count_nonzero(proba >= 1 - SATURATION_EPSILON)),
            confidently_wrong=int(np.count_nonzero(batch.true_class <= SATURATION_EPSILON)),
        )


EXAMPLES = (
    Example(
        "p = [1.0, 0.0, 0.9] for y = [1, 1, 0]: row 1 gives its class exactly 0",
        {"label": (1, 1, 0), "prob": (1.0, 0.0, 0.9)},
        Severity.ERROR,
    ),
    Example("p = [0.9, 0.2, 0.7] for y = [1, 0, 1]", {"label": (1, 0, 1), "prob": (0.9, 0.2, 0.7)}),
)

SUMMARIES = (Saturated, RowLosses)


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    if plan.kind == Kind.LOGITS:
        return []
    saturated, row_losses = s[Saturated], s[RowLosses]
    at_zero, at_one = saturated.at_zero, saturated.at_one
    if at_zero + at_one == 0:
        return []
    losses = {
        "loss_unclipped": row_losses.mean("unclipped"),
        "loss_clipped_1e-7": row_losses.mean("keras"),
        "loss_clipped_float64_eps": row_losses.mean("float64"),
    }
    true_class_zero = row_losses.true_class_zero
    confidently_wrong = saturated.confidently_wrong
    keras, exact = losses["loss_clipped_1e-7"], losses["loss_clipped_float64_eps"]
    clipping_change = abs(exact - keras) / keras if keras > 0 else 0.0
    evidence = {
        "count_at_0": at_zero,
        "count_at_1": at_one,
        "true_class_probability_0": true_class_zero,
        "confidently_wrong": confidently_wrong,
        "worst_1pct_loss_share": row_losses.worst_share(WORST_SHARE),
        **losses,
        "clipping_change": clipping_change,
        "saturation_epsilon": SATURATION_EPSILON,
        "clipping_sensitivity": CLIPPING_SENSITIVITY,
    }
    saturated = counted(at_zero + at_one, "probability sits", "probabilities sit")
    saturated += f" within {SATURATION_EPSILON:g} of 0 or 1"
    wrong = counted(confidently_wrong, "of them is", "of them are") + " confidently wrong"
    if true_class_zero:
        severity, title = Severity.ERROR, "True-class probability of exactly 0"
        message = (
            f"{counted(true_class_zero, 'row gives its', 'rows give their')} true class a "
            "probability of exactly 0: the "
            "cross-entropy is infinite, and any finite loss you saw is the clipping constant "
            f"at work ({keras:.4g} clipped at 1e-7, {exact:.4g} at float64 eps)."
        )
    elif clipping_change > CLIPPING_SENSITIVITY:
        severity, title = Severity.WARNING, "Saturated probabilities drive the loss"
        message = (
            f"{saturated}; {wrong}, and the loss moves "
            f"by {clipping_change:.1%} between clipping at 1e-7 ({keras:.4g}) and at float64 eps "
            f"({exact:.4g}): it measures the clipping constant, not the model."
        )
    elif confidently_wrong:
        severity, title = Severity.INFO, "A few confident mistakes"
        message = (
            f"{saturated}; {wrong}, but the loss moves "
            f"by only {clipping_change:.2%} between clipping constants."
        )
    else:
        severity, title = Severity.INFO, "Saturated but correct probabilities"
        message = f"{saturated}, all on the true class: harmless, a confident model."
    return [Finding(ID, severity, title, message, evidence, FIX)]
