"""The HTML report by class: score distributions, calibration, confusion, per-class metrics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossdoctor.render import svg, words
from lossdoctor.render.escape import markup
from lossdoctor.render.html.parts import (
    DASH,
    Ids,
    figure,
    interval,
    label,
    number,
)
from lossdoctor.report import Report

# A heat map up to this many classes (cells stay legible); beyond, the most confused pairs.
MAX_HEAT_CLASSES = 12
SHARE_CLASSES = 6  # row shares written in the cells up to this many classes
TOP_PAIRS = 20


def distributions_section(report: Report, ids: Ids, level: int) -> str:
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
            calibration_axis(report),
            "observed frequency",
        ),
        [svg.Series("reliability", calibration.predicted, calibration.observed, 0)],
        points,
        diagonal=True,
    )
    return (
        f'<section class="distributions">\n<{heading}>Scores and calibration</{heading}>\n'
        f'<div class="charts">{figure(spread, f"<ul class=legend>{legend}</ul>")}'
        f"{figure(reliability, _calibration_note(ece_text))}</div>\n</section>"
    )


def _histogram_axis(report: Report) -> str:
    if report.task == "binary":
        return "P(class 1)"
    return "P(true class)" if report.task == "multiclass" else "P(label), every cell"


def calibration_axis(report: Report) -> str:
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


def confusion_section(report: Report, ids: Ids, level: int) -> str:
    heading = f"h{level}"
    matrix = report.metrics.confusion
    labels = [str(label) for label in report.class_labels]
    if report.task == "multilabel":
        rows = "".join(
            f'<tr><th scope="row">{markup(labels[k])}</th>'
            + "".join(number(n.item()) for n in matrix[k].ravel())
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
            f"{number(off[i, j].item())}{number(float(shares[i, j]), 3)}</tr>"
        )
    header = "".join(
        f'<th scope="col">{n}</th>' for n in ("true", "predicted", "rows", "share of true")
    )
    return (
        f'<p class="note">{len(labels)} classes: the {TOP_PAIRS} most confused pairs.</p>'
        f'<div class="scroll"><table class="numbers pairs"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>\n"
    )


def per_class_section(report: Report, ids: Ids, level: int) -> str:
    if report.task == "binary":
        return ""  # class 1's numbers are the metrics, class 0's are in the matrix
    heading = f"h{level}"
    noun = "label" if report.task == "multilabel" else "class"
    worst = sorted(report.metrics.per_class, key=lambda c: (c.f1, c.index))
    intervals = report.metrics_ci
    with_intervals = any(f"roc_auc[{c.index}]" in intervals for c in worst)
    rows = "".join(
        f'<tr><th scope="row">{markup(label(report, c.index))}</th>'
        + "".join(number(v) for v in (c.precision, c.recall, c.f1, c.support, c.roc_auc))
        + (interval(intervals.get(f"roc_auc[{c.index}]")) if with_intervals else "")
        + number(c.pr_auc)
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
