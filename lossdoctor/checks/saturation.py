"""probability-saturation: probabilities at exactly 0 or 1 that make the loss explode.

How it decides: a true-class probability of exactly 0 is an error. Probabilities within 1e-7 of
0 or 1 are a warning when the loss moves by more than 1 % between clipping at 1e-7 (Keras) and
at float64 eps: the confidently wrong rows among them (true-class probability <= 1e-7) then
carry the loss. An info otherwise: confident and right, or a lone confident mistake that does
not move the loss. Skipped when the scores were logits: the loss
is then computed from the logits.

Example: p = [1.0, 0.0, 0.9] for y = [1, 1, 0] -> error (row 1 gives its class exactly 0).
Quiet: p = [0.9, 0.2, 0.7] for y = [1, 0, 1].
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import Prepared
from lossdoctor.metrics import (
    KERAS_EPSILON,
    Metrics,
    log_loss,
    row_losses,
    true_class_probability,
)

ID = "probability-saturation"
SEVERITY = Severity.ERROR
# A probability this close to 0 or 1 is saturated: Keras clips there.
SATURATION_EPSILON = KERAS_EPSILON
# The loss "measures the clipping" when it moves more than this between two clipping constants.
CLIPPING_SENSITIVITY = 0.01
FLOAT64_EPSILON = float(np.finfo(np.float64).eps)
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


def check(data: Prepared, metrics: Metrics) -> list[Finding]:
    if data.kind == "logits":
        return []
    proba = data.proba
    at_zero = int(np.count_nonzero(proba <= SATURATION_EPSILON))
    at_one = int(np.count_nonzero(proba >= 1 - SATURATION_EPSILON))
    if at_zero + at_one == 0:
        return []
    q = true_class_probability(data.y, proba)
    losses = {
        "loss_unclipped": log_loss(q, 0.0),
        "loss_clipped_1e-7": log_loss(q, SATURATION_EPSILON),
        "loss_clipped_float64_eps": log_loss(q, FLOAT64_EPSILON),
    }
    true_class_zero = int(np.count_nonzero(q == 0))
    confidently_wrong = int(np.count_nonzero(q <= SATURATION_EPSILON))
    keras, exact = losses["loss_clipped_1e-7"], losses["loss_clipped_float64_eps"]
    clipping_change = abs(exact - keras) / keras if keras > 0 else 0.0
    evidence = {
        "count_at_0": at_zero,
        "count_at_1": at_one,
        "true_class_probability_0": true_class_zero,
        "confidently_wrong": confidently_wrong,
        "worst_1pct_loss_share": _worst_share(q),
        **losses,
        "clipping_change": clipping_change,
        "saturation_epsilon": SATURATION_EPSILON,
        "clipping_sensitivity": CLIPPING_SENSITIVITY,
    }
    saturated = f"{at_zero + at_one} probabilities sit within {SATURATION_EPSILON:g} of 0 or 1"
    if true_class_zero:
        severity, title = Severity.ERROR, "True-class probability of exactly 0"
        message = (
            f"{true_class_zero} rows give their true class a probability of exactly 0: the "
            "cross-entropy is infinite, and any finite loss you saw is the clipping constant "
            f"at work ({keras:.4g} clipped at 1e-7, {exact:.4g} at float64 eps)."
        )
    elif clipping_change > CLIPPING_SENSITIVITY:
        severity, title = Severity.WARNING, "Saturated probabilities drive the loss"
        message = (
            f"{saturated}; {confidently_wrong} of them are confidently wrong, and the loss moves "
            f"by {clipping_change:.1%} between clipping at 1e-7 ({keras:.4g}) and at float64 eps "
            f"({exact:.4g}): it measures the clipping constant, not the model."
        )
    elif confidently_wrong:
        severity, title = Severity.INFO, "A few confident mistakes"
        message = (
            f"{saturated}; {confidently_wrong} of them are confidently wrong, but the loss moves "
            f"by only {clipping_change:.2%} between clipping constants."
        )
    else:
        severity, title = Severity.INFO, "Saturated but correct probabilities"
        message = f"{saturated}, all on the true class: harmless, a confident model."
    return [Finding(ID, severity, title, message, evidence, FIX)]


def _worst_share(q: np.ndarray) -> float:
    """Share of the total loss (clipped at float64 eps) carried by the worst 1 % of entries."""
    losses = row_losses(q, FLOAT64_EPSILON).ravel()
    total = losses.sum()
    if total == 0:
        return 0.0
    k = max(1, int(np.ceil(WORST_SHARE * losses.size)))
    return float(np.partition(losses, losses.size - k)[-k:].sum() / total)
