"""non-finite-values: NaN or infinite predictions or labels.

How it decides: any NaN or infinite score or label is an error; the rows are counted, the first
ones listed, and every metric of the report is computed on the finite rows only.

Example: scores [0.2, nan, 0.9] -> error, rows [1]. Quiet: scores [0.2, 0.4, 0.9].
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import Prepared
from lossdoctor.metrics import Metrics

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


def check(data: Prepared, metrics: Metrics) -> list[Finding]:
    rows = data.non_finite_rows
    if len(rows) == 0:
        return []
    scores = data.raw_scores[rows]
    labels = data.raw_labels[rows]
    evidence = {
        "rows": len(rows),
        "nan_predictions": _rows_with(np.isnan, scores),
        "inf_predictions": _rows_with(np.isinf, scores),
        "non_finite_labels": _rows_with(lambda a: ~np.isfinite(a), labels)
        if labels.dtype.kind == "f"
        else 0,
        "first_rows": [int(r) for r in rows[:ROWS_SHOWN]],
        "rows_used": data.n_rows - len(rows),
    }
    shown = ", ".join(str(r) for r in evidence["first_rows"])
    return [
        Finding(
            check=ID,
            severity=SEVERITY,
            title=TITLE,
            message=(
                f"{len(rows)} of {data.n_rows} rows hold NaN or infinite values (rows {shown}"
                f"{', ...' if len(rows) > ROWS_SHOWN else ''}); the metrics below leave them out."
            ),
            evidence=evidence,
            fix="mask = np.isfinite(p).all(axis=-1)  # then find where the NaNs come from",
        )
    ]


def _rows_with(test, values: np.ndarray) -> int:
    hits = test(values)
    return int(np.count_nonzero(hits.any(axis=1) if hits.ndim == 2 else hits))
