"""label-issues: rows whose given label the model contradicts with confidence.

How it decides: confident learning (Northcutt et al., 2021). Each class j gets a threshold t_j,
the mean probability of class j over the rows labelled j (its self-confidence). A row labelled i
is a likely label issue when some class j != i has P(j) >= t_j and is the likeliest such class.
Info with the count and the worst rows (lowest probability of their given label). Warning when
far more rows are flagged than the model's own probabilities explain: were the labels drawn from
them, a row with a confident class c would be flagged with probability 1 - P(c); the observed
count must exceed that expectation by more than 3 standard deviations, and be at least 5 rows and
5 % of all (an overconfident model's handful of confident mistakes is not label noise). Rows that
give their label a probability within 1e-7 of 0 are listed but not counted towards the warning:
saturated probabilities carry no confidence to test (probability-saturation reports them).
With sample weights the thresholds are weighted means, and the counts, the expectation and the
5 % share are sums of weights (integer weights decide as the rows repeated would); the message
still counts rows.

Example: a confident, accurate model and 15 % of labels flipped -> warning, flipped rows listed.
Quiet: labels drawn from the model's own probabilities (info at most).
"""

from __future__ import annotations

import numpy as np

from lossdoctor.checks.base import Finding, Severity, counted
from lossdoctor.checks.totals import CheckTotals
from lossdoctor.infer import Plan
from lossdoctor.infer.decisions import Task
from lossdoctor.metrics import Metrics

ID = "label-issues"
SEVERITY = Severity.INFO
# Flags beyond what the model's own uncertainty explains, in standard deviations.
WARNING_Z = 3.0
WARNING_MIN_ROWS = 5
WARNING_MIN_SHARE = 0.05
ROWS_SHOWN = 10

WHY = (
    "Every data set has some wrong labels, and a model that is confident and right on them is "
    "punished by the loss and the accuracy. The rows where a good model most confidently "
    "disagrees with the label are the ones worth a second look: relabel them, or drop them, "
    "before trusting small differences between models."
)
FIXES = {
    "numpy": "review the listed rows; relabel or drop them, then evaluate again",
    "cleanlab": "cleanlab.find_label_issues(labels=y, pred_probs=proba)  # the same method",
}


def check(plan: Plan, summary: CheckTotals, metrics: Metrics) -> list[Finding]:
    issues = summary.issues
    if plan.task == Task.MULTILABEL or issues is None or issues.flagged == 0:
        return []
    count, count_tested, expected = issues.flagged, issues.flagged_tested, issues.expected
    z = (count_tested - expected) / max(float(np.sqrt(issues.variance)), 1e-12)
    thresholds = summary.class_thresholds()
    worst = slice(0, ROWS_SHOWN)
    file_rows = issues.worst_rows[worst]
    share = count / plan.weighted_rows
    names = plan.class_labels
    evidence = {
        "rows_flagged": issues.flagged_rows,
        "share_flagged": share,
        "class_thresholds": {
            str(names[k]): (float(t) if np.isfinite(t) else None) for k, t in enumerate(thresholds)
        },
        "worst_rows": [int(r) for r in file_rows],
        "worst_given_labels": [str(names[k]) for k in issues.worst_labels[worst]],
        "worst_model_labels": [str(names[k]) for k in issues.worst_model[worst]],
        "worst_given_label_probability": [float(p) for p in issues.worst_given[worst]],
        "rows_saturated_not_tested": count - count_tested,
        "expected_if_labels_followed_the_model": expected,
        "z": z,
        "warning_z": WARNING_Z,
        "warning_min_rows": WARNING_MIN_ROWS,
        "warning_min_share": WARNING_MIN_SHARE,
    }
    many = (
        count_tested >= WARNING_MIN_ROWS and count_tested / plan.weighted_rows >= WARNING_MIN_SHARE
    )
    severity = Severity.WARNING if z > WARNING_Z and many else Severity.INFO
    shown = ", ".join(str(r) for r in file_rows)
    return [
        Finding(
            ID,
            severity,
            counted(issues.flagged_rows, "row looks mislabelled", "rows look mislabelled"),
            "The model confidently contradicts the label of "
            f"{counted(issues.flagged_rows, 'row', 'rows')} "
            f"({share:.1%}{' by weight' if plan.weight_column else ''}; its own "
            f"probabilities explain about {expected:.0f}); "
            f"the worst {'is row' if len(file_rows) == 1 else 'are rows'} {shown}.",
            evidence,
            FIXES["numpy"],
        )
    ]
