"""How a paired test reads: metric names as a reader knows them, the p-value, the interval and
the verdict cell; what the terminal, Markdown and HTML views of a comparison share."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lossdoctor.comparison.verdicts import IMPROVEMENT, REGRESSION, MetricComparison

if TYPE_CHECKING:  # the comparison's model shows itself with the HTML page (_repr_html_)
    from lossdoctor.comparison.result import Comparison, Paired

# Metric names as a reader knows them; any other name is shown as it is.
NAMES = {
    "roc_auc": "ROC-AUC",
    "accuracy": "accuracy",
    "log_loss": "log loss",
    "brier": "Brier",
    "balanced_accuracy": "balanced accuracy",
    "f1": "F1",
    "f1_macro": "macro F1",
    "mcc": "MCC",
}
_ARROWS = {True: ("↑", "↓", "="), False: ("^", "v", "=")}


def name(metric: str) -> str:
    base, _, rest = metric.partition("[")
    return NAMES.get(base, base) + (f"[{rest}" if rest else "")


def rows_line(pair: Paired, comparison: Comparison) -> str:
    unpaired = f", {pair.rows_unpaired:,} in one file only left out" if pair.rows_unpaired else ""
    return (
        f"{pair.rows_paired:,} paired rows{unpaired}; {comparison.confidence:.0%} intervals, "
        f"alpha {comparison.alpha:g} Holm-corrected, {comparison.bootstrap} bootstrap replicates"
    )


def cells(m: MetricComparison, ascii: bool) -> tuple[str, ...]:
    up, down, same = _ARROWS[not ascii]
    arrow = same if m.difference == 0 else up if m.difference > 0 else down
    verdict = f" {m.verdict}"
    if m.verdict not in (REGRESSION, IMPROVEMENT):
        verdict = f" no detectable difference (could detect {m.detectable:.2g})"
    return (
        name(m.metric),
        f"{m.baseline:.4f}",
        f"{m.candidate:.4f}",
        f"{m.difference:+.4f}",
        interval(m),
        p_value(m.p_value),
        m.test,
        arrow + verdict,
    )


def interval(m: MetricComparison) -> str:
    low, high = m.ci
    return f"[{low:+.4f}, {high:+.4f}]"


def p_value(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}" if p < 0.01 else f"{p:.2f}"
