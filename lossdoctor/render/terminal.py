"""The human report, drawn with rich: findings first, then the numbers."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from lossdoctor.checks.base import Severity
from lossdoctor.report import Report

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
# Beyond this many classes a confusion matrix no longer fits a terminal line.
MAX_MATRIX_CLASSES = 12


def render(report: Report) -> RenderableType:
    parts: list[RenderableType] = [_summary(report)]
    parts += [_finding(f) for f in report.findings]
    parts.append(_metrics(report))
    if report.task == "binary":
        parts.append(_thresholds(report))
    if report.task != "multilabel" and report.n_classes <= MAX_MATRIX_CLASSES:
        parts.append(_confusion(report))
    parts.append(_verdict(report))
    return Group(*parts)


def _summary(report: Report) -> Text:
    info = report.input
    rows = f"{info.rows:,} rows" + (
        f" ({info.rows - info.rows_used:,} left out)" if info.rows_used < info.rows else ""
    )
    kind = report.prediction_kind
    if report.transform not in ("none",):
        kind += f", {report.transform} applied"
    text = Text()
    text.append(", ".join(info.paths), style="bold")
    text.append(f"  {rows} · {report.task}")
    if report.task != "binary":
        text.append(f" ({report.n_classes} classes)")
    text.append(f" · {kind}\n")
    columns = f"labels: {', '.join(info.label_columns)}  "
    text.append(columns + f"predictions: {_columns(info.prediction_columns)}", style="dim")
    return text


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]} ({len(names)})"


def _finding(finding) -> Panel:
    style = STYLE[finding.severity]
    body = Text(finding.message)
    if finding.fix:
        body.append("\nfix: ", style="bold")
        body.append(finding.fix, style="green")
    title = Text.assemble(
        (f"{finding.severity}", style), f" {finding.title} ", (finding.check, "dim")
    )
    return Panel(body, title=title, title_align="left", border_style=style)


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _metrics(report: Report) -> Group:
    table = Table(show_header=False, box=None)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    table.add_column("note", style="dim")
    for name, value in report.metrics.values.items():
        table.add_row(name, _number(value), report.metrics.undefined.get(name, ""))
    return _section("Metrics", table)


def _section(heading: str, body: RenderableType) -> Group:
    return Group(Text(heading, style="bold underline"), body)


def _thresholds(report: Report) -> Group:
    table = Table()
    for column in ("t", "accuracy", "precision", "recall", "f1", "tp", "fp", "fn", "tn"):
        table.add_column(column, justify="right")
    for row in report.metrics.thresholds:
        t = f"{row.threshold:.4g}" + (" best F1" if row.best_f1 else "")
        style = (
            "bold green" if row.best_f1 else ("bold" if row.threshold == report.threshold else "")
        )
        table.add_row(
            t,
            *(f"{v:.4f}" for v in (row.accuracy, row.precision, row.recall, row.f1)),
            *(str(v) for v in (row.tp, row.fp, row.fn, row.tn)),
            style=style,
        )
    return _section("Thresholds (predict 1 when p >= t)", table)


def _confusion(report: Report) -> Group:
    rule = f"p >= {report.threshold:g}" if report.task == "binary" else "argmax"
    table = Table()
    table.add_column("true \\ pred", style="bold")
    labels = [str(label) for label in report.class_labels]
    for label in labels:
        table.add_column(label, justify="right")
    for label, row in zip(labels, report.metrics.confusion.tolist(), strict=True):
        table.add_row(label, *(str(v) for v in row))
    return _section(f"Confusion matrix ({rule})", table)


def _verdict(report: Report) -> Text:
    worst = report.worst
    if worst is None:
        return Text("healthy: no finding", style="bold green")
    counts = {s: sum(f.severity == s for f in report.findings) for s in Severity}
    parts = [f"{counts[s]} {s}" for s in sorted(Severity, reverse=True) if counts[s]]
    return Text(", ".join(parts), style=STYLE[worst])
