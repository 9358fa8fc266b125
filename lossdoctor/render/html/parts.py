"""What the sections of the HTML report share: ids for the charts, number cells, figures."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from lossdoctor.checks.base import Severity
from lossdoctor.render import words
from lossdoctor.render.escape import markup
from lossdoctor.report import Report

DASH = "—"
SEVERITY_CLASS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


class Ids:
    """Ids unique in the page, for the charts' aria-labelledby."""

    def __init__(self, prefix: str = "chart-") -> None:
        self.prefix = prefix
        self.numbers = count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.numbers)}"


def number(value: float | int | None, digits: int = 4) -> str:
    """A table cell: the value rounded for the eye, and in full in data-value."""
    if value is None:
        return f"<td>{DASH}</td>"
    shown = f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"
    return f'<td data-value="{value!r}">{shown}</td>'


def plain(value: float | None) -> str:
    return DASH if value is None else f"{value:.4f}"


def label(report: Report, index: int) -> str:
    return str(report.class_labels[index])


def names(names: Sequence[str]) -> str:
    shown = names if len(names) <= 6 else [*names[:3], "…", names[-1]]
    more = f" ({len(names)})" if len(names) > 6 else ""
    return ", ".join(f"<code>{markup(name)}</code>" for name in shown) + more


def figure(chart: str, caption: str) -> str:
    return f'<figure class="chart-box">{chart}{caption}</figure>'


# ---- distributions -----------------------------------------------------------------------------


def interval(ends: tuple[float, float] | None) -> str:
    """A confidence interval's cell: its ends rounded, and in full in data-low and data-high."""
    if ends is None:
        return '<td class="interval"></td>'
    low, high = ends
    return (
        f'<td class="interval" data-low="{low!r}" data-high="{high!r}">{words.interval(ends)}</td>'
    )
