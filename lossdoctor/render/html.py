"""The report as one self-contained HTML page, to attach to an issue or open in a notebook.

Charts are hand-written inline SVG from a handful of functions (lossdoctor.render.svg), not a
plotting library: the page must make no request at view time (no script bundle, no web font;
a Content-Security-Policy forbids any), read without JavaScript, stay under a megabyte or two
for a thousand classes, and this module must cost nothing to the other formats. The charts a
report needs (lines with marked points, bars, a heat map) are a few hundred lines of SVG, whose
text stays text, and which the stylesheet colours for light and dark themes and for print.

The page is a list of sections, one function each (SECTIONS): a report that carries more (a
comparison, segments) gets a section by adding a function. Everything from the data (paths,
column names, class names, findings) is escaped. This module draws; it computes nothing the
report does not hold (the curves come from lossdoctor.metrics, thinned there).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from itertools import count

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.curves import Curve, OperatingPoint
from lossdoctor.render import svg, words
from lossdoctor.render.escape import markup
from lossdoctor.report import FailedInput, Report

DASH = "—"
# A heat map up to this many classes (cells stay legible); beyond, the most confused pairs.
MAX_HEAT_CLASSES = 12
SHARE_CLASSES = 6  # row shares written in the cells up to this many classes
TOP_PAIRS = 20
# Okabe & Ito's palette, which readers with any common colour-vision deficiency tell apart;
# black becomes light grey in the dark theme.
LIGHT = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DARK = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#DDDDDD", "#F0E442")
SEVERITY_CLASS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
# Nothing may load: no script, no font, no image but inline ones, no frame, no form target.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def render_all(results: Iterable[Report | FailedInput]) -> str:
    """A whole page: every report (or the error of a path that could not be read), in order."""
    results = list(results)
    ids = _Ids()
    body = "\n".join(
        _failed(r) if isinstance(r, FailedInput) else _report(r, ids, level=2) for r in results
    )
    names = [p for r in results for p in (r.input.paths if isinstance(r, Report) else [r.path])]
    return _page("lossdoctor: " + ", ".join(names), body)


def render_error(message: str, exit_code: int) -> str:
    """A run that ended without a report: in place of the report, a page saying what went wrong."""
    body = (
        f'<section class="report failed">\n<h2>no report (exit code {exit_code})</h2>\n'
        f'<p class="verdict error">{markup(message)}</p>\n</section>'
    )
    return _page("lossdoctor: no report", body)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{markup(title)}</title>\n<style>{PAGE_STYLE}{STYLE}</style>\n</head>\n<body>\n"
        f'<main class="lossdoctor">\n<h1>lossdoctor report</h1>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )


def fragment(report: Report) -> str:
    """One report as a block with its own scoped stylesheet: what a notebook shows."""
    body = _report(report, _Ids(prefix=f"ld{id(report):x}-"), level=3)
    return f'<div class="lossdoctor">\n<style>{STYLE}</style>\n{body}\n</div>'


class _Ids:
    """Ids unique in the page, for the charts' aria-labelledby."""

    def __init__(self, prefix: str = "chart-") -> None:
        self.prefix = prefix
        self.numbers = count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.numbers)}"


# ---- the page of one report --------------------------------------------------------------------


def _report(report: Report, ids: _Ids, level: int) -> str:
    heading = f"h{level}"
    paths = ", ".join(report.input.paths)
    parts = [
        f'<section class="report">\n<{heading} class="paths">{markup(paths)}</{heading}>',
        *(section(report, ids, level + 1) for section in SECTIONS),
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _failed(failed: FailedInput) -> str:
    return (
        f'<section class="report failed">\n<h2 class="paths">{markup(failed.path)}</h2>\n'
        f'<p class="verdict error">not diagnosed: {markup(failed.message)}</p>\n</section>'
    )


def _verdict(report: Report, ids: _Ids, level: int) -> str:
    errors, warnings, notes = words.tally(report)
    note = f", {words.count(notes, 'note')}" if notes else ""
    if not errors + warnings:
        said = "no problem" if notes else "no finding"
        text, kind = f"✓ healthy: {said}{note}", "healthy"
    else:
        problems, kinds = words.problems(errors, warnings)
        text, kind = f"{problems}: {kinds}{note}", SEVERITY_CLASS[report.worst]
    info = report.input
    order = words.class_order(report)
    about = [
        words.rows(report),
        words.task(report),
        *([order] if order else []),
        words.kind(report),
        f"exit code {report.exit_code} (--fail-on {report.fail_on})",
    ]
    columns = []
    if info.label_columns:
        columns.append(f"labels: {_names(info.label_columns)}")
    if info.prediction_columns:
        columns.append(f"predictions: {_names(info.prediction_columns)}")
    lines = [
        f'<p class="verdict {kind}">{markup(text)}</p>',
        f'<p class="about">{" · ".join(markup(part) for part in about)}</p>',
    ]
    if columns:
        lines.append(f'<p class="columns">{" · ".join(columns)}</p>')
    return "\n".join(lines)


def _names(names: Sequence[str]) -> str:
    shown = names if len(names) <= 6 else [*names[:3], "…", names[-1]]
    more = f" ({len(names)})" if len(names) > 6 else ""
    return ", ".join(f"<code>{markup(name)}</code>" for name in shown) + more


# ---- findings ----------------------------------------------------------------------------------


def _findings(report: Report, ids: _Ids, level: int) -> str:
    if not report.findings:
        return ""
    heading = f"h{level}"
    blocks = "\n".join(_finding(f, level + 1) for f in report.findings)
    return f'<section class="findings">\n<{heading}>Findings</{heading}>\n{blocks}\n</section>'


def _finding(finding: Finding, level: int) -> str:
    kind = SEVERITY_CLASS[finding.severity]
    heading = f"h{level}"
    parts = [
        f'<article class="finding {kind}">',
        f'<{heading}><span class="badge {kind}">{finding.severity}</span> '
        f'{markup(finding.title)} <code class="check">{markup(finding.check)}</code>'
        f"</{heading}>",
        f"<p>{markup(finding.message)}</p>",
    ]
    if finding.fix:
        parts.append(f'<p class="fix">Fix: {_fix(finding.fix)}</p>')
    advice = []
    if finding.why:
        advice.append(f'<p class="why"><strong>Why it matters:</strong> {markup(finding.why)}</p>')
    if finding.fixes:
        rows = "".join(
            f'<tr><th scope="row">{markup(framework)}</th><td>{_fix(line, block=True)}</td></tr>'
            for framework, line in finding.fixes.items()
        )
        advice.append(
            '<table class="fixes"><caption>Fixes by framework</caption>'
            f"<tbody>{rows}</tbody></table>"
        )
    evidence = ""
    if finding.evidence:
        rows = "".join(
            f'<tr><th scope="row"><code>{markup(name)}</code></th>'
            f"<td>{markup(words.evidence(value, DASH))}</td></tr>"
            for name, value in finding.evidence.items()
        )
        evidence = (
            f'<table class="evidence"><caption>Evidence</caption><tbody>{rows}</tbody></table>'
        )
    if advice or evidence:
        details = f'<div class="details"><div>{"".join(advice)}</div><div>{evidence}</div></div>'
        if finding.severity == Severity.INFO:
            # A note folds its details away, as the terminal shows notes in one line.
            details = f"<details><summary>Why, fixes, evidence</summary>{details}</details>"
        parts.append(details)
    parts.append("</article>")
    return "\n".join(parts)


def _fix(fix: str, *, block: bool = False) -> str:
    """A line to type as code, to copy; advice in words as text."""
    try:
        ast.parse(fix)
    except SyntaxError:
        return markup(fix)
    code = f"<code>{markup(fix)}</code>"
    return f"<pre>{code}</pre>" if block else code


# ---- the numbers -------------------------------------------------------------------------------


def _number(value: float | int | None, digits: int = 4) -> str:
    """A table cell: the value rounded for the eye, and in full in data-value."""
    if value is None:
        return f"<td>{DASH}</td>"
    shown = f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"
    return f'<td data-value="{value!r}">{shown}</td>'


def _metrics(report: Report, ids: _Ids, level: int) -> str:
    metrics = report.metrics
    notes = words.metric_notes(metrics)
    intervals = report.metrics_ci
    rows = "".join(
        f'<tr data-metric="{markup(name)}"><th scope="row"><code>{markup(name)}</code></th>'
        f"{_number(value)}{_interval(intervals.get(name)) if intervals else ''}"
        f"<td>{markup(notes.get(name, ''))}</td></tr>"
        for name, value in metrics.values.items()
    )
    level_column = f'<th scope="col">{words.confidence(report)} interval</th>' if intervals else ""
    heading = f"h{level}"
    return (
        f'<section class="metrics">\n<{heading}>Metrics</{heading}>\n'
        '<div class="scroll"><table class="numbers metrics-table"><thead><tr>'
        '<th scope="col">metric</th><th scope="col">value</th>'
        f'{level_column}<th scope="col">note</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>\n</section>"
    )


def _interval(ends: tuple[float, float] | None) -> str:
    """A confidence interval's cell: its ends rounded, and in full in data-low and data-high."""
    if ends is None:
        return '<td class="interval"></td>'
    low, high = ends
    return (
        f'<td class="interval" data-low="{low!r}" data-high="{high!r}">{words.interval(ends)}</td>'
    )


def _thresholds(report: Report, ids: _Ids, level: int) -> str:
    if report.task != "binary":
        return ""
    heading = f"h{level}"
    rows = []
    for row in sorted(report.metrics.thresholds, key=lambda r: (r.threshold, r.best_f1)):
        note = "best F1" if row.best_f1 else "yours" if row.threshold == report.threshold else ""
        cells = [
            _number(row.threshold),
            *(_number(v, 3) for v in (row.accuracy, row.precision, row.recall, row.f1)),
            *(_number(v) for v in (row.tp, row.fp, row.fn, row.tn)),
        ]
        marked = ' class="marked"' if note else ""
        rows.append(f"<tr{marked}>{''.join(cells)}<td>{note}</td></tr>")
    header = "".join(
        f'<th scope="col">{name}</th>'
        for name in ("t", "accuracy", "precision", "recall", "F1", "tp", "fp", "fn", "tn", "")
    )
    return (
        f'<section class="thresholds">\n<{heading}>Thresholds: predict 1 when '
        f"<code>p &gt;= t</code></{heading}>\n"
        f'<div class="scroll"><table class="numbers"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>\n</section>"
    )


# ---- curves ------------------------------------------------------------------------------------


def _label(report: Report, index: int) -> str:
    return str(report.class_labels[index])


def _curve_name(report: Report, curve: Curve) -> str:
    noun = "label" if report.task == "multilabel" else "class"
    return f"{noun} {_label(report, curve.index)}"


def _rule(point: OperatingPoint) -> str:
    return "argmax" if point.threshold is None else f"p >= {point.threshold:.4g}"


def _curves(report: Report, ids: _Ids, level: int) -> str:
    curves = report.metrics.curves
    if not curves:
        return ""
    heading = f"h{level}"
    binary = report.task == "binary"
    names = [_curve_name(report, c) for c in curves]
    roc = svg.line_chart(
        svg.Frame(
            ids.next(),
            "ROC curve" + ("" if binary else "s, one class against the rest"),
            _curve_description("ROC", report, curves, names),
            "false positive rate",
            "true positive rate (recall)",
        ),
        [
            svg.Series(name, np.r_[0.0, c.fpr], np.r_[0.0, c.tpr], n)
            for n, (c, name) in enumerate(zip(curves, names, strict=True))
        ],
        _marks(curves, names, "fpr", "tpr"),
        diagonal=True,
    )
    pr = svg.line_chart(
        svg.Frame(
            ids.next(),
            "Precision-recall curve" + ("" if binary else "s"),
            _curve_description("precision-recall", report, curves, names),
            "recall",
            "precision",
        ),
        [
            svg.Series(name, c.tpr, c.precision, n)
            for n, (c, name) in enumerate(zip(curves, names, strict=True))
        ],
        _marks(curves, names, "tpr", "precision"),
    )
    charts = [_figure(roc, _legend(curves, names, report)), _figure(pr, "")]
    charts.append(_figure(_against_threshold(report, curves, names, ids), ""))
    shown = ""
    if len(curves) < report.n_classes and not binary:
        shown = (
            f'<p class="note">{len(curves)} of {report.n_classes}: the worst and the best by '
            "ROC-AUC (every class's numbers are in the per-class table).</p>"
        )
    return (
        f'<section class="curves">\n<{heading}>Curves</{heading}>\n{shown}'
        f'<div class="charts">{"".join(charts)}</div>\n{_points_table(report, curves, names)}'
        "\n</section>"
    )


def _curve_description(kind: str, report: Report, curves: Sequence[Curve], names) -> str:
    marked = "; ".join(
        f"{name}: {_rule(c.chosen)} at FPR {c.chosen.fpr:.3f}, TPR {c.chosen.tpr:.3f}, "
        f"precision {c.chosen.precision:.3f}; best F1 {c.best_f1.f1:.3f} at "
        f"p >= {c.best_f1.threshold:.4g}"
        for c, name in zip(curves, names, strict=True)
    )
    return f"The {kind} curve of {', '.join(names)}. Circles: {marked}. Diamonds: best F1."


def _marks(curves: Sequence[Curve], names: Sequence[str], x: str, y: str) -> list[svg.Mark]:
    marks = []
    for n, (c, name) in enumerate(zip(curves, names, strict=True)):
        for point, diamond in ((c.chosen, False), (c.best_f1, True)):
            what = "best F1" if diamond else "yours"
            label = (
                f"{name}, {what}: {_rule(point)}, FPR {point.fpr:.3f}, TPR {point.tpr:.3f}, "
                f"precision {point.precision:.3f}, F1 {point.f1:.3f}"
            )
            marks.append(svg.Mark(label, getattr(point, x), getattr(point, y), n, diamond))
    return marks


def _legend(curves: Sequence[Curve], names: Sequence[str], report: Report) -> str:
    by_index = {c.index: c for c in report.metrics.per_class}
    items = "".join(
        f'<li><span class="swatch c{n % svg.COLOURS}"></span>{markup(name)}: ROC-AUC '
        f"{_plain(by_index[c.index].roc_auc)}, AP {_plain(by_index[c.index].pr_auc)}</li>"
        for n, (c, name) in enumerate(zip(curves, names, strict=True))
    )
    keys = "<li>● your rule</li><li>◆ best F1</li><li>- - - chance</li>"
    return f'<ul class="legend">{items}</ul><ul class="legend keys">{keys}</ul>'


def _plain(value: float | None) -> str:
    return DASH if value is None else f"{value:.4f}"


THRESHOLD_AXIS = "threshold t (predict when p >= t)"


def _against_threshold(report: Report, curves: Sequence[Curve], names, ids: _Ids) -> str:
    """Binary: precision, recall and F1; else the F1 of each class against its threshold."""
    if report.task == "binary":
        return _binary_against_threshold(curves[0], ids)
    series = [
        svg.Series(name, c.threshold, c.f1, n)
        for n, (c, name) in enumerate(zip(curves, names, strict=True))
    ]
    marks = [
        svg.Mark(
            f"{name}: best F1 {c.best_f1.f1:.3f} at p >= {c.best_f1.threshold:.4g}",
            c.best_f1.threshold,
            c.best_f1.f1,
            n,
            diamond=True,
        )
        for n, (c, name) in enumerate(zip(curves, names, strict=True))
    ]
    description = "The F1 of each class when predicted by p >= t, against t. " + "; ".join(
        f"{name}: best F1 {c.best_f1.f1:.3f} at {c.best_f1.threshold:.4g}"
        for c, name in zip(curves, names, strict=True)
    )
    threshold = curves[0].chosen.threshold  # None for the argmax of a multi-class model
    title = "F1 against the threshold, one against the rest"
    return svg.line_chart(
        svg.Frame(ids.next(), title, description, THRESHOLD_AXIS, "F1"),
        series,
        marks,
        vertical=None if threshold is None else (threshold, f"t = {threshold:g}"),
    )


def _binary_against_threshold(c: Curve, ids: _Ids) -> str:
    chosen, best = c.chosen, c.best_f1
    series = [
        svg.Series("precision", c.threshold, c.precision, 0),
        svg.Series("recall", c.threshold, c.tpr, 1),
        svg.Series("F1", c.threshold, c.f1, 2),
    ]
    marks = [
        svg.Mark(
            f"best F1 {best.f1:.3f} at p >= {best.threshold:.4g}",
            best.threshold,
            best.f1,
            2,
            diamond=True,
        ),
        svg.Mark(
            f"F1 {chosen.f1:.3f} at p >= {chosen.threshold:.4g}", chosen.threshold, chosen.f1, 2
        ),
    ]
    description = (
        f"Precision, recall and F1 of predicting 1 when p >= t. At your threshold "
        f"{chosen.threshold:g}: F1 {chosen.f1:.3f}; best F1 {best.f1:.3f} at {best.threshold:.4g}."
    )
    title = "Precision, recall and F1 against the threshold"
    chart = svg.line_chart(
        svg.Frame(ids.next(), title, description, THRESHOLD_AXIS, "score"),
        series,
        marks,
        vertical=(chosen.threshold, f"t = {chosen.threshold:g}"),
    )
    legend = "".join(
        f'<li><span class="swatch c{n}"></span>{line.name}</li>' for n, line in enumerate(series)
    )
    return f'{chart}<ul class="legend">{legend}</ul>'


def _points_table(report: Report, curves: Sequence[Curve], names: Sequence[str]) -> str:
    """The marked points as numbers: text to read, search and copy."""
    rows = []
    for c, name in zip(curves, names, strict=True):
        for what, point in (("yours", c.chosen), ("best F1", c.best_f1)):
            rows.append(
                f'<tr><th scope="row">{markup(name)}</th><td>{what}</td>'
                f"<td>{markup(_rule(point))}</td>"
                + "".join(_number(v, 3) for v in (point.fpr, point.tpr, point.precision, point.f1))
                + "</tr>"
            )
    header = "".join(
        f'<th scope="col">{name}</th>'
        for name in ("", "point", "rule", "FPR", "TPR (recall)", "precision", "F1")
    )
    return (
        '<div class="scroll"><table class="numbers points"><caption>Marked points</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _figure(chart: str, caption: str) -> str:
    return f'<figure class="chart-box">{chart}{caption}</figure>'


# ---- distributions -----------------------------------------------------------------------------


def _distributions(report: Report, ids: _Ids, level: int) -> str:
    heading = f"h{level}"
    histogram = report.metrics.histogram
    totals = histogram.counts.sum(axis=1, keepdims=True)
    shares = histogram.counts / np.maximum(totals, 1)
    top = max(float(shares.max()), 0.05)
    step = 0.1 if top <= 0.5 else 0.25
    ticks = [round(step * k, 2) for k in range(int(top / step) + 2)]
    bars = [
        svg.Bars(f"{group} ({int(total):,} rows)", share, n)
        for n, (group, share, total) in enumerate(
            zip(histogram.groups, shares, totals[:, 0], strict=True)
        )
    ]
    vertical = None
    if report.task != "multiclass":
        vertical = (report.threshold, f"t = {report.threshold:g}")
    groups = ", ".join(f"{b.name}" for b in bars)
    spread = svg.bar_chart(
        svg.Frame(
            ids.next(),
            "Scores by true class",
            f"Share of each group's rows in each probability bin: {groups}.",
            _histogram_axis(report),
            "share of the group's rows",
            y_range=(0.0, ticks[-1]),
            y_ticks=ticks,
            y_percent=True,
        ),
        histogram.edges,
        bars,
        vertical=vertical,
    )
    legend = "".join(
        f'<li><span class="swatch c{b.colour}"></span>{markup(b.name)}</li>' for b in bars
    )
    calibration = report.metrics.calibration
    ece = report.metrics.values.get("ece")
    ece_text = DASH if ece is None else f"{ece:.4f}"
    points = [
        svg.Mark(f"predicted {p:.3f}, observed {o:.3f}, {int(n):,} rows", p, o, 0)
        for p, o, n in zip(
            calibration.predicted.tolist(),
            calibration.observed.tolist(),
            calibration.counts.tolist(),
            strict=True,
        )
    ]
    reliability = svg.line_chart(
        svg.Frame(
            ids.next(),
            f"Reliability diagram, ECE {ece_text}",
            f"Mean predicted probability against the observed frequency in "
            f"{len(points)} equal-mass bins; expected calibration error {ece_text}.",
            _calibration_axis(report),
            "observed frequency",
        ),
        [svg.Series("reliability", calibration.predicted, calibration.observed, 0)],
        points,
        diagonal=True,
    )
    return (
        f'<section class="distributions">\n<{heading}>Scores and calibration</{heading}>\n'
        f'<div class="charts">{_figure(spread, f"<ul class=legend>{legend}</ul>")}'
        f"{_figure(reliability, _calibration_note(ece_text))}</div>\n</section>"
    )


def _histogram_axis(report: Report) -> str:
    if report.task == "binary":
        return "P(class 1)"
    return "P(true class)" if report.task == "multiclass" else "P(label), every cell"


def _calibration_axis(report: Report) -> str:
    if report.task == "binary":
        return "mean predicted P(class 1)"
    if report.task == "multiclass":
        return "mean top-label confidence"
    return "mean predicted P(label), every cell"


def _calibration_note(ece: str) -> str:
    return (
        f'<p class="note">ECE {ece}: the row-weighted mean distance from the diagonal; '
        "points below it are over-confident.</p>"
    )


# ---- confusion ---------------------------------------------------------------------------------


def _confusion(report: Report, ids: _Ids, level: int) -> str:
    heading = f"h{level}"
    matrix = report.metrics.confusion
    labels = [str(label) for label in report.class_labels]
    if report.task == "multilabel":
        rows = "".join(
            f'<tr><th scope="row">{markup(labels[k])}</th>'
            + "".join(_number(n.item()) for n in matrix[k].ravel())
            + "</tr>"
            for k in range(len(labels))
        )
        header = "".join(f'<th scope="col">{n}</th>' for n in ("label", "tn", "fp", "fn", "tp"))
        return (
            f'<section class="confusion">\n<{heading}>Confusion per label '
            f"(<code>p &gt;= {report.threshold:g}</code>)</{heading}>\n"
            f'<div class="scroll"><table class="numbers"><thead><tr>{header}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>\n</section>"
        )
    rule = f"p &gt;= {report.threshold:g}" if report.task == "binary" else "argmax"
    title = f"<{heading}>Confusion matrix (<code>{rule}</code>)</{heading}>"
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    if len(labels) > MAX_HEAT_CLASSES:
        return f'<section class="confusion">\n{title}\n{_pairs(labels, matrix, shares)}</section>'
    chart = svg.heat_map(
        ids.next(),
        "Confusion matrix: rows true, columns predicted",
        "Each cell holds the rows of a true class (row) predicted as a class (column), shaded "
        "by its share of the row.",
        labels,
        matrix,
        shares,
        with_shares=len(labels) <= SHARE_CLASSES,
    )
    return (
        f'<section class="confusion">\n{title}\n'
        f'<div class="charts"><figure class="chart-box heat-box">{chart}'
        '<p class="note">Rows: true class; columns: predicted. Shade: share of the row.</p>'
        "</figure></div>\n</section>"
    )


def _pairs(labels: Sequence[str], matrix: np.ndarray, shares: np.ndarray) -> str:
    """The largest off-diagonal cells, for a matrix too large to draw."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:TOP_PAIRS]
    rows = []
    for flat in order.tolist():
        i, j = divmod(flat, matrix.shape[1])
        if off[i, j] == 0:
            break
        rows.append(
            f'<tr><td class="name">{markup(labels[i])}</td>'
            f'<td class="name">{markup(labels[j])}</td>'
            f"{_number(off[i, j].item())}{_number(float(shares[i, j]), 3)}</tr>"
        )
    header = "".join(
        f'<th scope="col">{n}</th>' for n in ("true", "predicted", "rows", "share of true")
    )
    return (
        f'<p class="note">{len(labels)} classes: the {TOP_PAIRS} most confused pairs.</p>'
        f'<div class="scroll"><table class="numbers pairs"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>\n"
    )


def _per_class(report: Report, ids: _Ids, level: int) -> str:
    if report.task == "binary":
        return ""  # class 1's numbers are the metrics, class 0's are in the matrix
    heading = f"h{level}"
    noun = "label" if report.task == "multilabel" else "class"
    worst = sorted(report.metrics.per_class, key=lambda c: (c.f1, c.index))
    intervals = report.metrics_ci
    with_intervals = any(f"roc_auc[{c.index}]" in intervals for c in worst)
    rows = "".join(
        f'<tr><th scope="row">{markup(_label(report, c.index))}</th>'
        + "".join(_number(v) for v in (c.precision, c.recall, c.f1, c.support, c.roc_auc))
        + (_interval(intervals.get(f"roc_auc[{c.index}]")) if with_intervals else "")
        + _number(c.pr_auc)
        + "</tr>"
        for c in worst
    )
    level = [f"roc_auc {words.confidence(report)} interval"] if with_intervals else []
    header = "".join(
        f'<th scope="col">{n}</th>'
        for n in (noun, "precision", "recall", "f1", "support", "roc_auc", *level, "pr_auc")
    )
    return (
        f'<section class="per-class">\n<{heading}>Per {noun}, worst F1 first</{heading}>\n'
        f'<div class="scroll"><table class="numbers per-class-table"><thead><tr>{header}</tr>'
        f"</thead><tbody>{rows}</tbody></table></div>\n</section>"
    )


# The page, in order; a new part of the report is a new function here.
SECTIONS: tuple[Callable[[Report, _Ids, int], str], ...] = (
    _verdict,
    _findings,
    _metrics,
    _curves,
    _thresholds,
    _distributions,
    _confusion,
    _per_class,
)


def _palette(colours: Sequence[str]) -> str:
    return "".join(f"--c{n}:{colour};" for n, colour in enumerate(colours))


STYLE = f"""
.lossdoctor{{{_palette(LIGHT)}--fg:#1b1b1b;--bg:#ffffff;--muted:#5a5a5a;--line:#d0d0d0;
--soft:#f3f3f3;--error:#b3261e;--warning:#8a5a00;--info:#005a8c;--healthy:#1e6b34;
color:var(--fg);background:var(--bg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,Helvetica,Arial,sans-serif;max-width:1180px;margin:0 auto;padding:12px 16px}}
@media (prefers-color-scheme:dark){{.lossdoctor{{{_palette(DARK)}--fg:#e8e8e8;--bg:#16181b;
--muted:#a8a8a8;--line:#3c4046;--soft:#22252a;--error:#ff8a80;--warning:#ffcc66;
--info:#7cc4ff;--healthy:#7fd494}}.lossdoctor svg.heat text.value.on-dark{{fill:#000000}}}}
.lossdoctor h1{{font-size:1.5em;margin:.2em 0 .4em}}
.lossdoctor h2,.lossdoctor h3,.lossdoctor h4,.lossdoctor h5{{margin:1.1em 0 .4em;line-height:1.25}}
.lossdoctor .paths{{font-size:1.2em;word-break:break-all;border-bottom:1px solid var(--line);
padding-bottom:.2em}}
.lossdoctor code,.lossdoctor pre{{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,
"DejaVu Sans Mono",monospace;font-size:.9em}}
.lossdoctor pre{{margin:0;white-space:pre-wrap;word-break:break-word;background:var(--soft);
padding:.3em .5em;border-radius:4px;user-select:all}}
.lossdoctor code{{word-break:break-word}}
.lossdoctor .verdict{{font-size:1.25em;font-weight:700;margin:.3em 0}}
.lossdoctor .verdict.error,.lossdoctor .badge.error{{color:var(--error)}}
.lossdoctor .verdict.warning,.lossdoctor .badge.warning{{color:var(--warning)}}
.lossdoctor .verdict.info,.lossdoctor .badge.info{{color:var(--info)}}
.lossdoctor .verdict.healthy{{color:var(--healthy)}}
.lossdoctor .about,.lossdoctor .columns,.lossdoctor .note{{color:var(--muted);margin:.2em 0}}
.lossdoctor .finding{{border:1px solid var(--line);border-left:6px solid var(--info);
border-radius:6px;padding:.2em .9em .6em;margin:.7em 0;break-inside:avoid}}
.lossdoctor .finding.error{{border-left-color:var(--error)}}
.lossdoctor .finding.warning{{border-left-color:var(--warning)}}
.lossdoctor .finding h4,.lossdoctor .finding h5{{margin:.5em 0 .3em}}
.lossdoctor .badge{{text-transform:uppercase;font-size:.75em;letter-spacing:.05em;
border:1px solid currentColor;border-radius:3px;padding:0 .3em;vertical-align:middle}}
.lossdoctor .check{{color:var(--muted);font-weight:400}}
.lossdoctor table{{border-collapse:collapse;margin:.4em 0;font-size:.92em}}
.lossdoctor caption{{text-align:left;font-weight:600;padding:.2em 0}}
.lossdoctor th,.lossdoctor td{{border-bottom:1px solid var(--line);padding:.2em .6em;
text-align:left;vertical-align:top}}
.lossdoctor .numbers td{{text-align:right;font-variant-numeric:tabular-nums}}
.lossdoctor .numbers th,.lossdoctor .numbers td{{white-space:nowrap}}
.lossdoctor .numbers td.name{{text-align:left}}
.lossdoctor .keys{{color:var(--muted)}}
.lossdoctor .numbers td:last-child:not([data-value]){{text-align:left;color:var(--muted)}}
.lossdoctor tr.marked{{font-weight:700}}
.lossdoctor .fixes td{{width:100%}}
.lossdoctor .fixes th,.lossdoctor .evidence th{{white-space:nowrap}}
.lossdoctor .fixes{{width:100%}}
.lossdoctor .details{{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));
gap:0 24px}}
.lossdoctor .details>div{{min-width:0}}
.lossdoctor summary{{cursor:pointer;color:var(--muted)}}
.lossdoctor .scroll{{overflow-x:auto;max-width:100%}}
.lossdoctor .charts{{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));
gap:12px 20px;align-items:start}}
.lossdoctor figure{{margin:0;break-inside:avoid;min-width:0}}
.lossdoctor svg.chart{{width:100%;height:auto;display:block;max-width:560px}}
.lossdoctor svg.heat{{max-width:620px}}
.lossdoctor svg text{{fill:var(--fg);font-size:11px;font-family:inherit}}
.lossdoctor svg .label{{font-size:12px}}
.lossdoctor svg .grid{{stroke:var(--line);stroke-width:.5}}
.lossdoctor svg .axis{{stroke:var(--fg);stroke-width:1}}
.lossdoctor svg .reference{{stroke:var(--muted);stroke-dasharray:4 4;fill:none}}
.lossdoctor svg .threshold{{stroke:var(--fg);stroke-dasharray:2 3;stroke-width:1.2}}
.lossdoctor svg .line{{fill:none;stroke-width:2;stroke-linejoin:round}}
.lossdoctor svg .dashed{{stroke-dasharray:6 3}}
.lossdoctor svg .mark{{stroke:var(--bg);stroke-width:1.5}}
.lossdoctor svg .bars rect{{fill-opacity:.75}}
.lossdoctor svg .cell{{fill:var(--c0);stroke:var(--bg);stroke-width:1}}
.lossdoctor svg text.value.on-dark{{fill:#ffffff}}
{"".join(f".lossdoctor svg .c{n}{{stroke:var(--c{n});fill:var(--c{n})}}" for n in range(8))}
{"".join(f".lossdoctor svg .line.c{n}{{fill:none}}" for n in range(8))}
.lossdoctor .legend{{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;
gap:.2em 1em;font-size:.9em}}
.lossdoctor .swatch{{display:inline-block;width:.9em;height:.9em;border-radius:2px;
margin-right:.35em;vertical-align:-.1em}}
{"".join(f".lossdoctor .swatch.c{n}{{background:var(--c{n})}}" for n in range(8))}
@media print{{@page{{size:A4;margin:12mm}}
.lossdoctor{{max-width:none;padding:0;font-size:10.5pt;color:#000;background:#fff}}
.lossdoctor .charts{{grid-template-columns:1fr 1fr}}
.lossdoctor .scroll{{overflow:visible}}
.lossdoctor section{{break-inside:auto}}
.lossdoctor details::details-content{{content-visibility:visible;display:contents}}
.lossdoctor h2,.lossdoctor h3,.lossdoctor h4{{break-after:avoid}}}}
"""
# The page around the reports; not in a notebook, whose page is not ours to style.
PAGE_STYLE = """
html,body{margin:0;background:#ffffff}
@media (prefers-color-scheme:dark){html,body{background:#16181b}}
@media print{html,body{background:#ffffff}}
"""
