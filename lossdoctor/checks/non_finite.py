"""non-finite-values: NaN or infinite predictions or labels.

How it decides: any NaN or infinite score or label is an error; the rows are counted, the first
ones listed, and every metric of the report is computed on the finite rows only.
"""

from __future__ import annotations

import math

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan, Survey
from lossdoctor.metrics import Metrics

ID = "non-finite-values"
SEVERITY = Severity.ERROR
TITLE = "NaN or infinite predictions"
MISSING_TITLE = "Missing labels"
MISSING_FIX = "keep = pd.notna(y); y, p = y[keep], p[keep]  # and find why labels are missing"
BOTH_TITLE = "Missing labels and NaN or infinite predictions"
BOTH_FIX = "keep = pd.notna(y) & np.isfinite(p).reshape(len(p), -1).all(axis=1)"
WHY = (
    "A single NaN turns a mean loss into NaN, and comparisons with NaN are simply false, so "
    "accuracy counts those rows as wrong without a word. An infinite score usually means a log "
    "of 0 or an overflow upstream. Either way the numbers you saw did not describe the model."
)
FIXES = {
    "numpy": "mask = np.isfinite(p).all(axis=-1)  # then find where the NaNs come from",
    "pytorch": "torch.autograd.set_detect_anomaly(True)  # find the op that made the NaN",
    "keras": "keras.callbacks.TerminateOnNaN()",
}
# The first few row numbers are enough to find the rows; all of them would flood the report.
ROWS_SHOWN = 10


EXAMPLES = (
    Example(
        "scores [0.2, nan, 0.9]: row 1 is listed",
        {"label": (0, 1, 1), "prob": (0.2, math.nan, 0.9)},
        Severity.ERROR,
    ),
    Example("scores [0.2, 0.4, 0.9]", {"label": (0, 1, 1), "prob": (0.2, 0.4, 0.9)}),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    survey = plan.survey
    count = survey.non_finite
    if count == 0:
        return []
    evidence = {
        "rows": count,
        "nan_predictions": survey.nan_scores,
        "inf_predictions": survey.inf_scores,
        "non_finite_labels": survey.non_finite_labels,
        "first_rows": [int(r) for r in survey.first_non_finite[:ROWS_SHOWN]],
        "rows_used": plan.n_rows - count,
    }
    shown = ", ".join(str(r) for r in evidence["first_rows"])
    rows = f"rows {shown}{', ...' if count > ROWS_SHOWN else ''}"
    title, message, fix = _words(survey, count, plan.n_rows, rows)
    return [Finding(ID, SEVERITY, title, message, evidence, fix)]


def _words(survey: Survey, count: int, n_rows: int, rows: str) -> tuple[str, str, str]:
    """Missing labels are named as such, with a fix aimed at the labels; NaN or infinite
    predictions with one aimed at the model's output."""
    missing, nan, inf = survey.non_finite_labels, survey.nan_scores, survey.inf_scores
    of = f"{count:,} of {n_rows:,} rows"
    left_out = "the metrics below leave them out."
    if not nan + inf:
        has = "has" if count == 1 else "have"
        message = f"{of} {has} no label (NaN, None or NA; {rows}); {left_out}"
        return MISSING_TITLE, message, MISSING_FIX
    if not missing:
        hold = "holds" if count == 1 else "hold"
        message = f"{of} {hold} NaN or infinite predictions ({rows}); {left_out}"
        return TITLE, message, FIXES["numpy"]
    kinds = [
        (missing, "without a label"),
        (nan, "with NaN predictions"),
        (inf, "with infinite ones"),
    ]
    said = ", ".join(f"{n:,} {what}" for n, what in kinds if n)
    return BOTH_TITLE, f"{of} ({rows}): {said}; {left_out}", BOTH_FIX
