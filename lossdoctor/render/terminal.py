"""The human report, drawn with rich: the verdict, what is wrong and its fix, then the model.

The layout follows the console's width: sections sit side by side when they fit, so a report
reads in one screen at 120 columns and still reads, stacked, at 80.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.render import pictures, segments, tables, words
from lossdoctor.render.escape import visible
from lossdoctor.render.glyphs import Glyphs, glyphs_for
from lossdoctor.report import FailedInput, Report

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
HEALTHY_STYLE = "bold green"
GAP = 3  # columns between sections side by side
# Row percentages in heat-map cells up to this many classes; beyond, counts and the shading.
MAX_SHARE_CLASSES = 4
TOP_PAIRS = 10
# Class names in the heat map: this long when the width allows, shorter when it does not.
MATRIX_LABEL_WIDTHS = (24, 16, pictures.LABEL_WIDTH)
WORST_CLASSES = 10  # per-class rows in the default report, for large K
VERBOSE_CLASSES = 20
WIDE = 100  # from this width the pictures get their wider bars
UNBOUNDED = 10_000
PANEL_TITLE_FRAME = 6  # the columns of a panel's top border around its title


def render(report: Report, *, verbose: bool = False, ascii: bool = False) -> TerminalReport:
    """The report as a rich renderable; its layout is decided when the console's width is known."""
    return TerminalReport(report, verbose=verbose, ascii=ascii)


def print_reports(
    console: Console,
    results: Sequence[Report | FailedInput],
    *,
    verbose: bool = False,
    ascii: bool = False,
) -> None:
    """Each report on `console`, a blank line between two; a path that could not be read has
    its error on stderr already."""
    reports = [result for result in results if isinstance(result, Report)]
    for i, report in enumerate(reports):
        if i:
            console.print()
        console.print(render(report, verbose=verbose, ascii=ascii))


@dataclass(frozen=True)
class TerminalReport:
    report: Report
    verbose: bool = False
    ascii: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        glyphs = glyphs_for(self.ascii or options.ascii_only)
        report = self.report
        yield verdict(report, glyphs)
        yield header(report, glyphs, options.max_width)
        width = options.max_width
        yield from findings(report.findings, glyphs, self.verbose, width)
        unbounded = options.update_width(UNBOUNDED)  # rich clamps a measurement to the width

        def fits(renderable: RenderableType) -> bool:
            return Measurement.get(console, unbounded, renderable).maximum <= width

        sections = numbers(report, glyphs, width, fits, self.verbose)
        yield from side_by_side(console, options, sections)


# ---- verdict and header ------------------------------------------------------------------------


def verdict(report: Report, glyphs: Glyphs) -> Text:
    """One line that says whether the file is healthy, coloured by the worst finding."""
    errors, warnings, notes = words.tally(report)
    note = f"{glyphs.sep}{words.count(notes, 'note')}" if notes else ""
    if not errors + warnings:
        said = "no problem" if notes else "no finding"
        return Text(f"{glyphs.ok} healthy: {said}{note}", style=HEALTHY_STYLE)
    problems, kinds = words.problems(errors, warnings)
    worst = report.worst
    return Text(f"{glyphs.marks[worst - 1]} {problems}: {kinds}{note}", style=STYLE[worst])


def header(report: Report, glyphs: Glyphs, width: int) -> Text:
    """What was read: the file, its rows, the task, the scores; then the columns, dimmed."""
    info = report.input
    text = Text()
    used = 0
    # Break between the parts, never inside one, when the line would overflow.
    parts = [_names(info.paths), words.rows(report), words.task(report), words.kind(report)]
    parts += [visible(order)] if (order := words.class_order(report)) else []
    for i, part in enumerate(parts):
        if i and used + len(glyphs.sep) + len(part) > width:
            text.append("\n")
            used = 0
        elif i:
            text.append(glyphs.sep)
            used += len(glyphs.sep)
        text.append(part, style="bold" if i == 0 else "")
        used += len(part)
    if info.label_columns or info.prediction_columns:
        labels, preds = _names(info.label_columns), _columns(info.prediction_columns)
        text.append(f"\nlabels: {labels}{glyphs.sep}predictions: {preds}", style="dim")
    return text


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(visible(name) for name in names)


def _columns(names: tuple[str, ...]) -> str:
    if len(names) <= 3:
        return _names(names)
    return f"{visible(names[0])} .. {visible(names[-1])} ({len(names)})"


# ---- findings ----------------------------------------------------------------------------------


def findings(
    found: Iterable[Finding], glyphs: Glyphs, verbose: bool, width: int = UNBOUNDED
) -> Iterator[RenderableType]:
    """Problems as panels; notes (info) as one line each unless verbose."""
    notes = Table.grid(padding=(0, 1))
    notes.add_column(no_wrap=True)
    notes.add_column(overflow="fold")
    for finding in found:
        if verbose or finding.severity > Severity.INFO:
            yield _panel(finding, glyphs, verbose, width)
            continue
        text = Text.assemble((visible(finding.title), "bold"), "  ", visible(finding.message), "  ")
        text.append(finding.check, style="dim")
        notes.add_row(Text(f"{glyphs.marks[0]} info", style=STYLE[Severity.INFO]), text)
    if notes.row_count:
        yield notes


def _panel(finding: Finding, glyphs: Glyphs, verbose: bool, width: int) -> Panel:
    style = STYLE[finding.severity]
    mark = glyphs.marks[finding.severity - 1]
    lines = Table.grid(padding=(0, 1))
    lines.add_column(style="bold", no_wrap=True)
    lines.add_column(overflow="fold")  # a word longer than the line (code) folds, never cut
    if finding.fix:
        lines.add_row("fix", _code(finding.fix))
    if verbose:
        _add_details(lines, finding, glyphs)
    title = Text.assemble(
        (f"{mark} {finding.severity}", style), " ", (visible(finding.title), "bold")
    )
    # The panel draws "╭─ title ─╮": what does not fit ends with an ellipsis, never a silent cut.
    title.truncate(max(width - PANEL_TITLE_FRAME, 1), overflow="ellipsis")
    return Panel(
        Group(Text(visible(finding.message), overflow="fold"), lines),
        title=title,
        title_align="left",
        subtitle=Text(finding.check, style="dim"),
        subtitle_align="right",
        border_style=style,
        box=glyphs.box,
        padding=(0, 1),
    )


def _code(code: str) -> RenderableType:
    """A line to type: highlighted when it is Python, plain when it is advice in words."""
    code = visible(code)
    try:
        ast.parse(code)
    except SyntaxError:
        return Text(code, style="green")
    return Syntax(code, "python", theme="ansi_dark", background_color="default", word_wrap=True)


def _add_details(lines: Table, finding: Finding, glyphs: Glyphs) -> None:
    """--verbose: why it matters, the fix in each framework, and the evidence it decided on."""
    if finding.why:
        lines.add_row("why", Text(visible(finding.why), style="italic"))
    for framework, code in finding.fixes.items():
        lines.add_row(Text(framework, style="dim"), _code(code))
    if finding.evidence:
        lines.add_row("evidence", tables.evidence_table(finding.evidence, glyphs))


# ---- the numbers and pictures ------------------------------------------------------------------


def _section(title: str, body: RenderableType, caption: str = "") -> Group:
    # The style on a span, not the Text, so the padding to the column's width is not underlined.
    parts: list[RenderableType] = [Text.assemble((title, "bold underline")), body]
    if caption:
        parts.append(Text(caption, style="dim"))
    return Group(*parts)


def numbers(
    report: Report,
    glyphs: Glyphs,
    width: int,
    fits: Callable[[RenderableType], bool],
    verbose: bool,
) -> list[Group]:
    """Every section after the findings, most telling first, for `side_by_side` to place."""
    metrics = report.metrics
    # The intervals would crowd the default report; --verbose shows them.
    intervals = report.metrics_ci if verbose else None
    title = f"Metrics ({words.confidence(report)} intervals)" if intervals else "Metrics"
    sections = [_section(title, tables.metrics_table(metrics, glyphs, intervals))]
    if report.task == "binary":
        table = tables.thresholds_table(metrics.thresholds, report.threshold, glyphs)
        sections.append(_section("Thresholds (predict 1 when p >= t)", table))
    if report.task != "multilabel":
        sections.append(_confusion(report, glyphs, fits))
    sections.append(_histogram(report, glyphs, wide=width >= WIDE))
    sections.append(_reliability(report, glyphs))
    large = report.n_classes > words.MAX_MATRIX_CLASSES or report.task == "multilabel"
    if verbose or large:
        sections.append(_per_class(report, glyphs, VERBOSE_CLASSES if verbose else WORST_CLASSES))
    return sections + segments.terminal(report, glyphs, verbose)


def _confusion(report: Report, glyphs: Glyphs, fits: Callable[[RenderableType], bool]) -> Group:
    """The heat map in the richest form that fits the width, else the most confused pairs."""
    metrics, labels = report.metrics, report.class_labels
    rule = f"p >= {report.threshold:g}" if report.task == "binary" else "argmax"
    if report.n_classes <= words.MAX_MATRIX_CLASSES:
        shares = report.n_classes <= MAX_SHARE_CLASSES
        forms = ((shares, True), (False, True), (False, False))
        # Whole class names while they fit, then shorter ones, before the matrix gives way.
        for label_width, (with_shares, with_scores) in product(MATRIX_LABEL_WIDTHS, forms):
            table = pictures.heat_map(
                labels,
                metrics.confusion,
                metrics.per_class,
                glyphs,
                with_shares=with_shares,
                with_scores=with_scores,
                label_width=label_width,
            )
            if fits(table):
                caption = "" if with_shares else "shaded by share of the true class"
                return _section(f"Confusion matrix ({rule})", table, caption)
    table = pictures.confused_pairs(labels, metrics.confusion, glyphs, TOP_PAIRS)
    too = "many" if report.n_classes > words.MAX_MATRIX_CLASSES else "wide"
    caption = f"{report.n_classes} classes: too {too} to draw"
    return _section(f"Most confused pairs ({rule})", table, caption)


def _histogram(report: Report, glyphs: Glyphs, *, wide: bool) -> Group:
    hist = report.metrics.histogram
    split = len(hist.groups) > 1
    marker = report.threshold if report.task != "multiclass" else None
    picture = pictures.histogram(
        hist, glyphs, height=4 if split else 6, bin_width=2 if wide else 1, marker=marker
    )
    title = {
        "binary": "P(class 1) by true class",
        "multiclass": "Probability of the true class",
        "multilabel": "Cell probabilities by true value",
    }[report.task]
    return _section(title, picture)


def _reliability(report: Report, glyphs: Glyphs) -> Group:
    ece = report.metrics.values.get("ece")
    title = "Reliability" + (f" (ECE {ece:.3f})" if ece is not None else "")
    predicted, observed = {
        "binary": ("mean P(1)", "share of 1s"),
        "multiclass": ("confidence", "accuracy"),
        "multilabel": ("mean p", "share of 1s"),
    }[report.task]
    caption = f"left bar: {predicted}, as % below\nright bar: {observed}"
    picture = pictures.reliability(report.metrics.calibration, glyphs, height=6)
    return _section(title, picture, caption)


def _per_class(report: Report, glyphs: Glyphs, limit: int) -> Group:
    noun = "label" if report.task == "multilabel" else "class"
    table, rest = tables.per_class_table(
        report.metrics.per_class, report.class_labels, glyphs, limit=limit, noun=noun
    )
    plural = {"label": "labels", "class": "classes"}[noun]
    caption = f"and {rest} more {plural}, with a better F1" if rest else ""
    return _section(f"Per {noun}, worst F1 first", table, caption)


def side_by_side(
    console: Console, options: ConsoleOptions, sections: list[Group]
) -> Iterator[RenderableType]:
    """Rows of sections, each row filled first-fit in order with what still fits the width."""
    widths = [Measurement.get(console, options, s).maximum for s in sections]
    waiting = list(range(len(sections)))
    while waiting:
        row, used = [], 0
        for i in list(waiting):
            needed = widths[i] + (GAP if row else 0)
            if not row or used + needed <= options.max_width:
                row.append(i)
                used += needed
                waiting.remove(i)
        # The gaps are columns of their own: rich before 14.3 counts a column's padding in its
        # width in some layouts and not in others, and cut the values to fit.
        grid = Table.grid(padding=0)
        cells: list[RenderableType] = []
        for i in row:
            if cells:
                grid.add_column(width=GAP)
                cells.append("")
            grid.add_column(width=min(widths[i], options.max_width))
            cells.append(sections[i])
        grid.add_row(*cells)
        yield Text()
        yield grid
