"""The segments section (--by), for every format: each --by's worst segments first, the rest
counted. It formats what the report holds and computes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rich.console import Group
from rich.table import Table
from rich.text import Text

from lossdoctor.render import words
from lossdoctor.render.escape import markdown_text, visible
from lossdoctor.render.glyphs import Glyphs
from lossdoctor.render.tables import bare_table, number
from lossdoctor.report import Report

# The metrics a segment row shows, and those of them that have an interval.
SHOWN = ("accuracy", "roc_auc", "log_loss")
WITH_INTERVALS = ("accuracy", "roc_auc")


class BySection(NamedTuple):
    by: str
    shown: list[Any]  # lossdoctor.segments.Segment, worst first
    hidden: int  # segments of this --by not shown


def sections(report: Report) -> list[BySection]:
    """Each --by's first `report.segments_shown` segments (they come worst first)."""
    order: dict[str, list[Any]] = {}
    for segment in report.segments:
        order.setdefault(segment.by, []).append(segment)
    top = report.segments_shown
    return [BySection(by, found[:top], max(len(found) - top, 0)) for by, found in order.items()]


def _difference(segment: Any) -> str:
    if segment.difference is None:
        return ""
    return f"{segment.difference:+.3f}"


def _flags(segment: Any) -> str:
    return ", ".join(dict.fromkeys(f.check for f in segment.findings))


def _cell(segment: Any, name: str, glyphs: Glyphs, intervals: bool) -> str:
    value = number(segment.metrics.get(name), glyphs)
    ends = segment.metrics_ci.get(name)
    return f"{value} {words.interval(ends)}" if intervals and ends else value


def terminal(report: Report, glyphs: Glyphs, verbose: bool) -> list[Group]:
    """A section per --by: segment, rows, the headline metrics (intervals with --verbose),
    accuracy against the rest, and what was found."""
    found = []
    for by, shown, hidden in sections(report):
        table: Table = bare_table()
        for name in ("segment", "rows", *SHOWN, "vs rest", "found"):
            table.add_column(name, justify="left" if name in ("segment", "found") else "right")
        for segment in shown:
            table.add_row(
                Text(visible(segment.value)),
                f"{segment.rows:,}",
                *(_cell(segment, name, glyphs, verbose) for name in SHOWN),
                _difference(segment),
                Text(_flags(segment)),
            )
        parts: list[Any] = [Text.assemble((f"Segments by {visible(by)}", "bold underline")), table]
        if hidden:
            parts.append(Text(f"and {hidden:,} more segments (--top shows more)", style="dim"))
        found.append(Group(*parts))
    return found


def markdown(report: Report) -> str:
    """The same tables in GitHub-flavoured Markdown."""
    parts = []
    level = words.confidence(report)
    for by, shown, hidden in sections(report):
        header = ["segment", "rows", *SHOWN, f"{level} interval of accuracy", "vs rest", "found"]
        rows = [
            [
                markdown_text(segment.value),
                f"{segment.rows:,}",
                *(_plain(segment.metrics.get(name)) for name in SHOWN),
                words.interval(segment.metrics_ci["accuracy"])
                if "accuracy" in segment.metrics_ci
                else "",
                _difference(segment),
                _flags(segment),
            ]
            for segment in shown
        ]
        table = _table(header, rows)
        more = f"\n\nand {hidden:,} more segments" if hidden else ""
        parts.append(f"#### Segments by {markdown_text(by)}\n\n{table}{more}")
    return "\n\n".join(parts)


def _plain(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rule = ["---" if i == 0 or name == "found" else "---:" for i, name in enumerate(header)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in (header, rule, *rows))
