"""The report's number tables: metrics, thresholds, per-class scores and a finding's evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from lossdoctor.metrics import ClassMetrics, Metrics, ThresholdRow
from lossdoctor.render import words
from lossdoctor.render.glyphs import Glyphs
from lossdoctor.render.pictures import short
from lossdoctor.stats import Interval


def bare_table(*, header: bool = True) -> Table:
    """A borderless table: the report's sections are short, and lines are what we save."""
    return Table(
        box=None,
        padding=(0, 0, 0, 1),
        pad_edge=False,
        show_edge=False,
        show_header=header,
        header_style="bold dim",
    )


def number(value: Any, glyphs: Glyphs, digits: int = 4) -> str:
    """A metric as fixed decimals, or a dash when it is undefined."""
    if value is None:
        return glyphs.dash
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def metrics_table(
    metrics: Metrics, glyphs: Glyphs, intervals: Mapping[str, Interval] | None = None
) -> Table:
    """Every metric, its confidence interval when given, and for an undefined or inexact one
    a note in a dimmed last column."""
    table = bare_table(header=False)
    table.add_column("metric", style="bold", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    if intervals:
        table.add_column("interval", style="dim", no_wrap=True)
    notes = words.metric_notes(metrics)
    if notes:
        table.add_column("why", style="dim", max_width=28)
    for name, value in metrics.values.items():
        row = [name, number(value, glyphs)]
        if intervals:
            row.append(words.interval(intervals[name]) if name in intervals else "")
        if notes:
            row.append(notes.get(name, ""))
        table.add_row(*row)
    return table


def thresholds_table(rows: Sequence[ThresholdRow], threshold: float, glyphs: Glyphs) -> Table:
    """The grid and the best-F1 row in threshold order, the best and the current one marked."""
    table = bare_table()
    for name in ("t", "acc", "prec", "rec", "F1", "tp", "fp", "fn", "tn"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in sorted(rows, key=lambda r: (r.threshold, r.best_f1)):
        if row.best_f1:
            style, note = "bold green", f"{glyphs.pointer} best F1"
        elif row.threshold == threshold:
            style, note = "bold", f"{glyphs.pointer} yours"
        else:
            style, note = "", ""
        table.add_row(
            f"{row.threshold:.4g}",
            *(f"{v:.3f}" for v in (row.accuracy, row.precision, row.recall, row.f1)),
            *(words.amount(v) for v in (row.tp, row.fp, row.fn, row.tn)),
            note,
            style=style,
        )
    return table


def per_class_table(
    per_class: Sequence[ClassMetrics],
    labels: Sequence[object],
    glyphs: Glyphs,
    *,
    limit: int,
    noun: str,
) -> tuple[Table, int]:
    """The classes with the lowest F1 first, at most `limit`; returns how many were left out."""
    worst = sorted(per_class, key=lambda c: (c.f1, c.index))
    table = bare_table()
    table.add_column(noun, style="bold", no_wrap=True)
    for name in ("precision", "recall", "f1", "support", "roc_auc", "pr_auc"):
        table.add_column(name, justify="right", no_wrap=True)
    for c in worst[:limit]:
        table.add_row(
            short(labels[c.index], glyphs, 16),
            *(number(v, glyphs) for v in (c.precision, c.recall, c.f1)),
            words.amount(c.support),
            *(number(v, glyphs) for v in (c.roc_auc, c.pr_auc)),
        )
    return table, max(0, len(worst) - limit)


def evidence_table(evidence: Mapping[str, Any], glyphs: Glyphs) -> Table:
    table = bare_table(header=False)
    table.add_column("name", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in evidence.items():
        table.add_row(name, Text(words.evidence(value, glyphs.dash)))
    return table
