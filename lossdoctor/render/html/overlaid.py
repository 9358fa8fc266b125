"""The compare page's charts: the baseline's and each candidate's curves in one chart each.

ROC, precision-recall and the reliability diagram of every model, overlaid, so a reader sees
where a candidate gains or loses. Each line is its file's report's own (thinned from the
summaries in lossdoctor.metrics, as the check page draws them); nothing is computed here. A
model is a line style (the baseline dashed, a candidate solid, a second dotted) in both task
kinds; in a binary chart it is also a colour, in a multi-class one the colour is the class
(one against the rest, as the check page draws it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from lossdoctor.curves import Curve
from lossdoctor.render import svg
from lossdoctor.render.escape import markup
from lossdoctor.render.html.classes import calibration_axis
from lossdoctor.render.html.curves import curve_name, description, marks
from lossdoctor.render.html.parts import DASH, Ids, figure, plain
from lossdoctor.report import Report

if TYPE_CHECKING:  # the comparison's model shows itself with this page (Comparison._repr_html_)
    from lossdoctor.comparison.result import Comparison

# The line style of the baseline, then of each candidate in turn (repeating past the third).
BASELINE_DASH = "dashed"
CANDIDATE_DASHES = ("", "dotted")


@dataclass(frozen=True)
class Model:
    """One file of the comparison, as its lines are drawn."""

    name: str  # "baseline", "candidate", "candidate 2"
    report: Report
    dash: str


def models(comparison: Comparison) -> list[Model]:
    several = len(comparison.pairs) > 1
    drawn = [Model("baseline", comparison.baseline, BASELINE_DASH)]
    for n, report in enumerate(comparison.candidates):
        name = f"candidate {n + 1}" if several else "candidate"
        drawn.append(Model(name, report, CANDIDATE_DASHES[n % len(CANDIDATE_DASHES)]))
    return drawn


def overlaid_section(comparison: Comparison, ids: Ids, level: int) -> str:
    """The ROC and precision-recall curves of the classes every model draws, and the
    reliability diagrams, with one legend for the models."""
    drawn = models(comparison)
    heading = f"h{level}"
    binary = drawn[0].report.task == "binary"
    # In a multi-class page the colours of the curves are the classes', of this the models'.
    key = ""
    if not binary:
        strokes = "".join(
            f"<li>{_stroke(model, m)}{model.name}</li>" for m, model in enumerate(drawn)
        )
        key = f'<ul class="legend">{strokes}</ul>'
    charts = [*_curve_charts(drawn, ids), figure(_reliability(drawn, ids), key)]
    return (
        f'<section class="overlaid">\n<{heading}>Curves, baseline and '
        f"candidate{'s' if len(drawn) > 2 else ''}</{heading}>\n"
        f"{_legend(drawn)}{_shown_note(drawn)}"
        f'<div class="charts">{"".join(charts)}</div>\n</section>'
    )


def _shared(drawn: Sequence[Model]) -> list[int]:
    """The classes whose curves every model's report holds (all of them up to MAX_CURVES
    classes; beyond, each report keeps its own worst and best, and some are in both)."""
    held = [{c.index for c in model.report.metrics.curves} for model in drawn]
    return sorted(set.intersection(*held))


class Line(NamedTuple):
    """One line of the ROC and precision-recall charts."""

    model: Model
    curve: Curve
    name: str  # "baseline", or "baseline, class 2"
    colour: int


def _lines(drawn: Sequence[Model]) -> list[Line]:
    """Every model's line of each class every model draws."""
    binary = drawn[0].report.task == "binary"
    shared = _shared(drawn)
    lines = []
    for m, model in enumerate(drawn):
        by_class = {c.index: c for c in model.report.metrics.curves}
        for position, index in enumerate(shared):
            curve = by_class[index]
            name = model.name if binary else f"{model.name}, {curve_name(model.report, curve)}"
            lines.append(Line(model, curve, name, m if binary else position))
    return lines


def _curve_charts(drawn: Sequence[Model], ids: Ids) -> list[str]:
    lines = _lines(drawn)
    if not lines:
        return []
    curves = [line.curve for line in lines]
    names = [line.name for line in lines]
    colours = [line.colour for line in lines]
    binary = drawn[0].report.task == "binary"
    against = "" if binary else ", one class against the rest"
    roc = svg.line_chart(
        svg.Frame(
            ids.next(),
            f"ROC curves of the baseline and candidate{against}",
            description("ROC", curves, names),
            "false positive rate",
            "true positive rate (recall)",
        ),
        [
            svg.Series(name, np.r_[0.0, c.fpr], np.r_[0.0, c.tpr], colour, model.dash)
            for model, c, name, colour in lines
        ],
        marks(curves, names, colours, "fpr", "tpr"),
        diagonal=True,
    )
    pr = svg.line_chart(
        svg.Frame(
            ids.next(),
            f"Precision-recall curves of the baseline and candidate{against}",
            description("precision-recall", curves, names),
            "recall",
            "precision",
        ),
        [
            svg.Series(name, c.tpr, c.precision, colour, model.dash)
            for model, c, name, colour in lines
        ],
        marks(curves, names, colours, "tpr", "precision"),
    )
    return [figure(roc, ""), figure(pr, "")]


def _reliability(drawn: Sequence[Model], ids: Ids) -> str:
    """Each model's reliability diagram, in its colour and line style."""
    series, points, said = [], [], []
    for m, model in enumerate(drawn):
        calibration = model.report.metrics.calibration
        series.append(
            svg.Series(model.name, calibration.predicted, calibration.observed, m, model.dash)
        )
        points += [
            svg.Mark(f"{model.name}: predicted {p:.3f}, observed {o:.3f}, {int(n):,} rows", p, o, m)
            for p, o, n in zip(
                calibration.predicted.tolist(),
                calibration.observed.tolist(),
                calibration.counts.tolist(),
                strict=True,
            )
        ]
        said.append(f"{model.name} ECE {_ece(model.report)}")
    return svg.line_chart(
        svg.Frame(
            ids.next(),
            "Reliability diagrams of the baseline and candidate",
            "Mean predicted probability against the observed frequency in equal-mass bins, "
            f"each model's own bins: {'; '.join(said)}.",
            calibration_axis(drawn[0].report),
            "observed frequency",
        ),
        series,
        points,
        diagonal=True,
    )


def _ece(report: Report) -> str:
    ece = report.metrics.values.get("ece")
    return DASH if ece is None else f"{ece:.4f}"


def _legend(drawn: Sequence[Model]) -> str:
    """The models (line style; in a binary chart also the colour) with their headline numbers,
    then the classes' colours of a multi-class chart, then the marks."""
    binary = drawn[0].report.task == "binary"
    items = []
    for m, model in enumerate(drawn):
        values = model.report.metrics.values
        items.append(
            f"<li>{_stroke(model, m if binary else None)}{model.name} "
            f"<code>{markup(', '.join(model.report.input.paths))}</code>: ROC-AUC "
            f"{plain(values.get('roc_auc'))}, AP {plain(values.get('pr_auc'))}, "
            f"ECE {_ece(model.report)}</li>"
        )
    classes = ""
    if not binary:
        report = drawn[0].report
        by_class = {c.index: c for c in report.metrics.curves}
        classes = "".join(
            f'<li><span class="swatch c{position % svg.COLOURS}"></span>'
            f"{markup(curve_name(report, by_class[index]))}</li>"
            for position, index in enumerate(_shared(drawn))
        )
        classes = f'<ul class="legend">{classes}</ul>'
    keys = (
        "<li>● your rule</li><li>◆ best F1</li><li>grey diagonal: chance, or perfect "
        "calibration</li>"
    )
    return (
        f'<ul class="legend models">{"".join(items)}</ul>{classes}'
        f'<ul class="legend keys">{keys}</ul>'
    )


def _stroke(model: Model, colour: int | None) -> str:
    """A model's line as a legend draws it: its style, in its colour unless None."""
    colour_class = None if colour is None else f"c{colour % svg.COLOURS}"
    classes = " ".join(c for c in ("stroke", colour_class, model.dash) if c)
    return f'<span class="{classes}"></span>'


def _shown_note(drawn: Sequence[Model]) -> str:
    report = drawn[0].report
    shared = _shared(drawn)
    if not shared:
        return (
            '<p class="note">No ROC or precision-recall curve is in every file\'s report (a '
            "file that saves class labels as scores has none).</p>"
        )
    if report.task == "binary" or len(shared) == report.n_classes:
        return ""
    return (
        f'<p class="note">{len(shared)} of {report.n_classes} classes: those whose curves every '
        "file's report draws (each draws its worst and best by ROC-AUC; the others are in the "
        "reports below).</p>"
    )
