"""Every check, in the order findings are reported.

A check is a module with an `ID`, a default `SEVERITY`, a docstring that explains it, `WHY` and
`FIXES`, the `SUMMARIES` it reads (its own, a class in its module, and any shared ones of
lossdoctor.checks.shared), and one pure function `check(plan, s, metrics)` of the decisions
about the data, the merged summaries (`s[Kind]`) and the metrics. A new check is a new module
and one line in REGISTRY below: the pipeline computes only the summaries the selected checks
name, each once per batch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from lossdoctor.checks import (
    accuracy_mismatch,
    calibration,
    column_choice,
    degenerate,
    hard_predictions,
    imbalance,
    inverted,
    label_issues,
    label_order,
    labels,
    logits,
    loss_reconciliation,
    non_finite,
    saturation,
    threshold,
)
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.metrics import Metrics

REGISTRY = (
    column_choice,
    non_finite,
    labels,
    hard_predictions,
    label_order,
    logits,
    inverted,
    saturation,
    degenerate,
    imbalance,
    threshold,
    calibration,
    accuracy_mismatch,
    loss_reconciliation,
    label_issues,
)
BY_ID = {check.ID: check for check in REGISTRY}

__all__ = ["BY_ID", "REGISTRY", "Finding", "Severity", "run_checks"]


def run_checks(
    plan: Plan, s: Summaries, metrics: Metrics, only: Collection[str] | None = None
) -> list[Finding]:
    """All findings, worst first; checks keep their registry order within a severity.

    `only` names the checks to run (--select, --disable): a check left out is not even run.
    """
    findings = [
        replace(finding, why=finding.why or check.WHY, fixes=finding.fixes or check.FIXES)
        for check in REGISTRY
        if only is None or check.ID in only
        for finding in check.check(plan, s, metrics)
    ]
    return sorted(findings, key=lambda f: -f.severity)
