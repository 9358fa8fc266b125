"""Every check, in the order findings are reported. A check is a module with an `ID`, a default
`SEVERITY`, a docstring that explains it, and one pure function `check(data, metrics)`."""

from __future__ import annotations

from lossdoctor.checks import (
    accuracy_mismatch,
    imbalance,
    labels,
    logits,
    non_finite,
    saturation,
)
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.infer import Prepared
from lossdoctor.metrics import Metrics

REGISTRY = (non_finite, labels, logits, saturation, imbalance, accuracy_mismatch)

__all__ = ["REGISTRY", "Finding", "Severity", "run_checks"]


def run_checks(data: Prepared, metrics: Metrics) -> list[Finding]:
    """All findings, worst first; checks keep their registry order within a severity."""
    findings = [finding for check in REGISTRY for finding in check.check(data, metrics)]
    return sorted(findings, key=lambda f: -f.severity)
