"""The ROC and precision-recall curves of the HTML report, and the operating points on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from lossdoctor.curves import Curve, OperatingPoint
from lossdoctor.render import svg
from lossdoctor.render.escape import markup
from lossdoctor.render.html.parts import (
    Ids,
    figure,
    label,
    number,
    plain,
)
from lossdoctor.report import Report


def curve_name(report: Report, curve: Curve) -> str:
    noun = "label" if report.task == "multilabel" else "class"
    return f"{noun} {label(report, curve.index)}"


def _rule(point: OperatingPoint) -> str:
    return "argmax" if point.threshold is None else f"p >= {point.threshold:.4g}"


def curves_section(report: Report, ids: Ids, level: int) -> str:
    curves = report.metrics.curves
    if not curves:
        return ""
    heading = f"h{level}"
    binary = report.task == "binary"
    names = [curve_name(report, c) for c in curves]
    roc = svg.line_chart(
        svg.Frame(
            ids.next(),
            "ROC curve" + ("" if binary else "s, one class against the rest"),
            description("ROC", curves, names),
            "false positive rate",
            "true positive rate (recall)",
        ),
        [
            svg.Series(name, np.r_[0.0, c.fpr], np.r_[0.0, c.tpr], n)
            for n, (c, name) in enumerate(zip(curves, names, strict=True))
        ],
        marks(curves, names, range(len(curves)), "fpr", "tpr"),
        diagonal=True,
    )
    pr = svg.line_chart(
        svg.Frame(
            ids.next(),
            "Precision-recall curve" + ("" if binary else "s"),
            description("precision-recall", curves, names),
            "recall",
            "precision",
        ),
        [
            svg.Series(name, c.tpr, c.precision, n)
            for n, (c, name) in enumerate(zip(curves, names, strict=True))
        ],
        marks(curves, names, range(len(curves)), "tpr", "precision"),
    )
    charts = [figure(roc, _legend(curves, names, report)), figure(pr, "")]
    charts.append(figure(_against_threshold(report, curves, names, ids), ""))
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


def description(kind: str, curves: Sequence[Curve], names: Sequence[str]) -> str:
    """What a chart of these curves shows, for a screen reader: each curve's marked points."""
    marked = "; ".join(
        f"{name}: {_rule(c.chosen)} at FPR {c.chosen.fpr:.3f}, TPR {c.chosen.tpr:.3f}, "
        f"precision {c.chosen.precision:.3f}; best F1 {c.best_f1.f1:.3f} at "
        f"p >= {c.best_f1.threshold:.4g}"
        for c, name in zip(curves, names, strict=True)
    )
    return f"The {kind} curve of {', '.join(names)}. Circles: {marked}. Diamonds: best F1."


def marks(
    curves: Sequence[Curve], names: Sequence[str], colours: Iterable[int], x: str, y: str
) -> list[svg.Mark]:
    """Each curve's rule (a circle) and best-F1 point (a diamond), in its curve's colour."""
    drawn = []
    for n, c, name in zip(colours, curves, names, strict=True):
        for point, diamond in ((c.chosen, False), (c.best_f1, True)):
            what = "best F1" if diamond else "yours"
            label = (
                f"{name}, {what}: {_rule(point)}, FPR {point.fpr:.3f}, TPR {point.tpr:.3f}, "
                f"precision {point.precision:.3f}, F1 {point.f1:.3f}"
            )
            drawn.append(svg.Mark(label, getattr(point, x), getattr(point, y), n, diamond))
    return drawn


def _legend(curves: Sequence[Curve], names: Sequence[str], report: Report) -> str:
    by_index = {c.index: c for c in report.metrics.per_class}
    items = "".join(
        f'<li><span class="swatch c{n % svg.COLOURS}"></span>{markup(name)}: ROC-AUC '
        f"{plain(by_index[c.index].roc_auc)}, AP {plain(by_index[c.index].pr_auc)}</li>"
        for n, (c, name) in enumerate(zip(curves, names, strict=True))
    )
    keys = "<li>● your rule</li><li>◆ best F1</li><li>- - - chance</li>"
    return f'<ul class="legend">{items}</ul><ul class="legend keys">{keys}</ul>'


THRESHOLD_AXIS = "threshold t (predict when p >= t)"


def _against_threshold(report: Report, curves: Sequence[Curve], names, ids: Ids) -> str:
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


def _binary_against_threshold(c: Curve, ids: Ids) -> str:
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
                + "".join(number(v, 3) for v in (point.fpr, point.tpr, point.precision, point.f1))
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
