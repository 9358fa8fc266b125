"""non-finite-values: NaN or infinite predictions or labels.

How it decides: any NaN or infinite score or label is an error; the rows are counted, the first
ones listed, and every metric of the report is computed on the finite rows only.

Example: scores [0.2, nan, 0.9] -> error, rows [1]. Quiet: scores [0.2, 0.4, 0.9].
"""

from __future__ import annotations

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import Plan
from lossdoctor.metrics import Metrics
from lossdoctor.summary import Summary

ID = "non-finite-values"
SEVERITY = Severity.ERROR
TITLE = "NaN or infinite values"
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


def check(plan: Plan, summary: Summary, metrics: Metrics) -> list[Finding]:
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
    return [
        Finding(
            check=ID,
            severity=SEVERITY,
            title=TITLE,
            message=(
                f"{count} of {plan.n_rows} rows hold NaN or infinite values (rows {shown}"
                f"{', ...' if count > ROWS_SHOWN else ''}); the metrics below leave them out."
            ),
            evidence=evidence,
            fix="mask = np.isfinite(p).all(axis=-1)  # then find where the NaNs come from",
        )
    ]
