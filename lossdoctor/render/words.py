"""What every report says about itself in words, said once for the terminal and Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lossdoctor.checks.base import Severity
from lossdoctor.metrics import Metrics
from lossdoctor.render.escape import visible
from lossdoctor.report import Report


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def amount(value: float) -> str:
    """A count as 1,234; a sum of sample weights as 1,234.56."""
    return f"{value:,.2f}" if isinstance(value, float | np.floating) else f"{value:,}"


def tally(report: Report) -> tuple[int, int, int]:
    """Errors, warnings and notes (infos) among the findings."""
    severities = [f.severity for f in report.findings]
    return tuple(severities.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))


def problems(errors: int, warnings: int) -> tuple[str, str]:
    """'3 problems' and '1 error, 2 warnings'."""
    kinds = ", ".join(count(n, s) for n, s in ((errors, "error"), (warnings, "warning")) if n)
    return count(errors + warnings, "problem"), kinds


def rows(report: Report) -> str:
    info = report.input
    left_out = info.rows - info.rows_used
    unit = info.unit[:-1] if info.rows == 1 else info.unit
    said = f"{info.rows:,} {unit}" + (f" ({left_out:,} left out)" if left_out else "")
    if info.weight_column:
        said += f" weighted by {info.weight_column} (sum {info.weight_used:,.4g})"
    return said


# Class names shown in the header; the JSON report and the tables hold them all.
CLASSES_SHOWN = 6


def class_order(report: Report) -> str:
    """Which class is which, for labels matched by name: 'classes benign, malignant (sorted)'.
    Empty for integer labels, whose order is the columns' indices."""
    named = any(isinstance(label, str) for label in report.class_labels)
    if report.class_order == "indices" or not named:
        return ""
    names = [str(label) for label in report.class_labels[:CLASSES_SHOWN]]
    more = ", ..." if len(report.class_labels) > CLASSES_SHOWN else ""
    why = {
        "sorted": "sorted",
        "categorical": "categorical order",
        "given": "as given",
        "columns": "order of the columns",
    }
    return f"classes {', '.join(names)}{more} ({why[report.class_order]})"


def task(report: Report) -> str:
    noun = "labels" if report.task == "multilabel" else "classes"
    return report.task + (f" ({report.n_classes} {noun})" if report.task != "binary" else "")


# What a transform did to the scores, in words; the others read "sigmoid applied".
TRANSFORM_WORDS = {"none": "", "normalize": "rows normalized to sum to 1"}


def kind(report: Report) -> str:
    """'logits, sigmoid applied': what the scores are and what was done to them."""
    done = TRANSFORM_WORDS.get(report.transform, f"{report.transform} applied")
    return report.prediction_kind + (f", {done}" if done else "")


def interval(ends: tuple[float, float], digits: int = 4) -> str:
    """A confidence interval as '[0.8270, 0.8885]'."""
    low, high = ends
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def confidence(report: Report) -> str:
    """'95 %' for the level of the report's intervals."""
    return f"{report.confidence * 100:g} %"


def metric_notes(metrics: Metrics) -> dict[str, str]:
    """Why a metric is undefined or holds by convention, or how far from exact a value read off
    the score grid is."""
    bounds = metrics.error_bound.items()
    grid = {name: f"within {bound:.1g} (score grid)" for name, bound in bounds}
    return grid | metrics.notes | metrics.undefined


# Display limits every format keeps: a list in an evidence cell shows this many items before
# "and N more"; a confusion matrix is drawn whole up to this many classes (beyond, a terminal
# or a Markdown table no longer holds it: the most confused pairs instead).
EVIDENCE_ITEMS = 10
MAX_MATRIX_CLASSES = 20


def evidence(value: Any, dash: str = "—") -> str:
    """Evidence in a line: floats to 4 significant digits, long lists cut with a count; text from
    the data made visible (it can hold control characters)."""
    if isinstance(value, Mapping):
        return _some([f"{visible(k)}: {evidence(v, dash)}" for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return _some([evidence(v, dash) for v in value])
    if value is None:
        return dash
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return visible(value)


def _some(items: list[str]) -> str:
    more = len(items) - EVIDENCE_ITEMS
    return ", ".join(items[:EVIDENCE_ITEMS]) + (f", and {more} more" if more > 0 else "")
