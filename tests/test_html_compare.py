"""The compare page (`lossdoctor compare --format html`), read back with the standard library's
parser: self-contained, every chart an SVG with its axes, the table's numbers the comparison
JSON's, each model's curves and reliability diagram drawn where its report puts them, and the
notebook's view the same page."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from lossdoctor.cli import cli
from lossdoctor.comparison import Frame, Pairing, compare_paths
from lossdoctor.comparison.result import Comparison
from lossdoctor.render import svg
from lossdoctor.render.comparison import render_html
from lossdoctor.render.html.comparison import fragment
from lossdoctor.settings import Settings
from tests.comparison.helpers import multiclass_models, two_models, write
from tests.test_html import HOSTILE, URL, Page


def frame(name: str, y: np.ndarray, scores: np.ndarray) -> Frame:
    columns = {"label": y}
    if scores.ndim == 1:
        columns["score"] = scores
    else:
        columns.update({f"prob_{k}": scores[:, k] for k in range(scores.shape[1])})
    return Frame(name, columns)


def compared(y: np.ndarray, *scores: np.ndarray) -> Comparison:
    """The first scores as the baseline, each of the others a candidate, 200 replicates."""
    frames = [
        frame(f"models/{name}.parquet", y, s)
        for name, s in zip(("baseline", "candidate", "other"), scores, strict=False)
    ]
    return compare_paths(frames[0], frames[1:], Settings(), Pairing(replicates=200))


@pytest.fixture(scope="module")
def comparisons() -> dict[str, Comparison]:
    y, a, b = two_models(2000, seed=3, gap=0.3)
    ym, ma, mb = multiclass_models(2000, 4, seed=4)
    yl, la, lb = multiclass_models(3000, 12, seed=5)
    return {
        "binary": compared(y, a, b),
        "several": compared(y, a, b, np.clip(a + 0.05, 0, 1)),
        "multiclass": compared(ym, ma, mb),
        "many": compared(yl, la, lb),
    }


KINDS = ["binary", "several", "multiclass", "many"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_compare_page_names_no_address_to_fetch(comparisons, kind):
    text = render_html(comparisons[kind])
    page = Page(text)
    fetching = {"src", "href", "srcset", "action", "formaction", "data", "poster", "xlink:href"}
    for tag, attrs in page.elements:
        assert not fetching & set(attrs), (tag, attrs)
        assert tag not in ("script", "link", "iframe", "object", "embed", "img", "base"), tag
    assert not URL.search(text)
    css = "".join(page.styles)
    assert "@import" not in css and "url(" not in css
    policy = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in policy[0]["content"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_chart_of_the_compare_page_is_an_svg_with_a_title_and_its_axes(comparisons, kind):
    page = Page(render_html(comparisons[kind]))
    charts = page.texts("svg")
    for attrs, _ in charts:
        assert attrs["role"] == "img"
        title_id, desc_id = attrs["aria-labelledby"].split()
        assert page.texts("title", id=title_id)[0][1].strip()
        assert page.texts("desc", id=desc_id)[0][1].strip()
    ids = [a["aria-labelledby"] for a, _ in charts]
    assert len(ids) == len(set(ids))
    lines = [a for a in page.tags("line") if "axis" in a.get("class", "")]
    plots = [a for a, _ in charts if "heat" not in a["class"]]
    assert len([a for a in lines if "x-axis" in a["class"]]) == len(plots)
    assert len([a for a in lines if "y-axis" in a["class"]]) == len(plots)
    titles = [t for _, t in page.texts("title")]
    for overlaid in ("ROC curves of the baseline", "Precision-recall curves of the baseline"):
        assert sum(t.startswith(overlaid) for t in titles) == 1
    assert sum(t.startswith("Reliability diagrams of the baseline") for t in titles) == 1


@pytest.mark.parametrize("kind", ["binary", "several", "multiclass"])
def test_the_table_holds_the_comparison_jsons_numbers(comparisons, kind):
    comparison = comparisons[kind]
    data = json.loads(comparison.to_json())
    tested = data["comparison"] if len(comparison.pairs) > 1 else [data["comparison"]]
    text = render_html(comparison)
    sections = re.findall(r'<section class="comparison">.*?</section>', text, re.S)
    assert len(sections) == len(tested)
    for section, metrics in zip(sections, tested, strict=True):
        rows = re.findall(r'<tr(?: class="(\w+)")? data-metric="([^"]+)">(.*?)</tr>', section)
        assert [metric for _, metric, _ in rows] == list(metrics)
        for verdict_class, metric, row in rows:
            expected = metrics[metric]
            values = [float(v) for v in re.findall(r'data-value="([^"]+)"', row)]
            # baseline, candidate, difference, p, Holm's p (the p-values where defined)
            wanted = [expected[k] for k in ("baseline", "candidate", "difference")]
            wanted += [expected[k] for k in ("p_value", "p_adjusted") if expected[k] is not None]
            assert values == wanted
            low, high = (
                float(v) for v in re.search(r'data-low="([^"]+)" data-high="([^"]+)"', row).groups()
            )
            assert [low, high] == expected["ci"]
            assert f">{expected['test']}<" in row
            if expected["verdict"] in ("regression", "improvement"):
                assert verdict_class == expected["verdict"]
                assert f"{expected['verdict']}</td>" in row
            else:
                assert verdict_class == "" and "no detectable difference" in row


def test_a_regressed_candidate_says_so_at_the_top(comparisons):
    text = render_html(comparisons["binary"])
    first = re.search(r'<p class="verdict (\w+)">([^<]*)</p>', text)
    assert first.group(1) == "error" and "regression: ROC-AUC" in first.group(2)
    assert text.index('<section class="comparison">') < text.index('<section class="overlaid">')
    assert text.index('<section class="overlaid">') < text.index('<section class="report">')


def _points(attrs: dict[str, str]) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in attrs["points"].split()])


def _pixels(x, y) -> np.ndarray:
    """Where a chart over [0, 1] x [0, 1] puts (x, y): the geometry of lossdoctor.render.svg."""
    width = svg.WIDTH - svg.MARGIN_LEFT - svg.MARGIN_RIGHT
    height = svg.HEIGHT - svg.MARGIN_TOP - svg.MARGIN_BOTTOM
    return np.column_stack(
        [svg.MARGIN_LEFT + np.asarray(x) * width, svg.MARGIN_TOP + (1 - np.asarray(y)) * height]
    )


def _chart(page: Page, title: str) -> str:
    """The text of the svg whose title starts with `title`."""
    return next(text for _, text in page.texts("svg") if text.lstrip().startswith(title))


def test_each_models_curves_are_its_reports_overlaid(comparisons):
    comparison = comparisons["several"]
    text = render_html(comparison)
    overlaid = re.search(r'<section class="overlaid">.*?</section>', text, re.S).group(0)
    roc = re.search(r"<svg[^>]*>\s*<title[^>]*>ROC curves.*?</svg>", overlaid, re.S).group(0)
    lines = Page(roc).texts("polyline")
    drawn = {name: attrs for attrs, name in lines if "line" in attrs["class"].split()}
    reports = {
        "baseline": comparison.baseline,
        "candidate 1": comparison.candidates[0],
        "candidate 2": comparison.candidates[1],
    }
    assert set(drawn) == set(reports)
    styles = {name: set(attrs["class"].split()) - {"line"} for name, attrs in drawn.items()}
    assert styles == {
        "baseline": {"c0", "dashed"},
        "candidate 1": {"c1"},
        "candidate 2": {"c2", "dotted"},
    }
    for name, report in reports.items():
        (curve,) = report.metrics.curves
        wanted = _pixels(np.r_[0.0, curve.fpr], np.r_[0.0, curve.tpr])
        np.testing.assert_allclose(_points(drawn[name]), wanted, atol=0.051)
        circle = _pixels([curve.chosen.fpr], [curve.chosen.tpr])[0]
        marks = re.findall(
            rf'<circle class="mark c\d" cx="([\d.]+)" cy="([\d.]+)" r="5"><title>{name}, yours', roc
        )
        assert len(marks) == 1
        np.testing.assert_allclose([float(v) for v in marks[0]], circle, atol=0.051)


def test_each_models_reliability_diagram_is_its_reports(comparisons):
    comparison = comparisons["multiclass"]
    page = Page(render_html(comparison))
    chart = _chart(page, "Reliability diagrams of the baseline")
    assert "ECE" in chart
    text = render_html(comparison)
    diagram = re.search(r"<svg[^>]*>\s*<title[^>]*>Reliability diagrams.*?</svg>", text, re.S)
    inside = Page(diagram.group(0))
    for m, (name, report) in enumerate(
        (("baseline", comparison.baseline), ("candidate", comparison.candidates[0]))
    ):
        calibration = report.metrics.calibration
        line = next(a for a, t in inside.texts("polyline") if t == name)
        wanted = _pixels(calibration.predicted, calibration.observed)
        np.testing.assert_allclose(_points(line), wanted, atol=0.051)
        circles = [a for a, t in inside.texts("circle") if t.startswith(f"{name}:")]
        assert len(circles) == len(calibration.counts)
        assert all(a["class"] == f"mark c{m}" for a in circles)


def test_multiclass_curves_are_coloured_by_class_and_styled_by_model(comparisons):
    comparison = comparisons["multiclass"]
    text = render_html(comparison)
    roc = re.search(r"<svg[^>]*>\s*<title[^>]*>ROC curves.*?</svg>", text, re.S).group(0)
    lines = [(a["class"], t) for a, t in Page(roc).texts("polyline") if "line" in a["class"]]
    k = comparison.baseline.n_classes
    assert len(lines) == 2 * k
    for position in range(k):
        assert (f"line c{position} dashed", f"baseline, class {position}") in lines
        assert (f"line c{position}", f"candidate, class {position}") in lines


def test_beyond_the_drawn_classes_the_charts_hold_those_every_report_draws(comparisons):
    comparison = comparisons["many"]
    held = [
        {c.index for c in r.metrics.curves} for r in (comparison.baseline, *comparison.candidates)
    ]
    shared = sorted(held[0] & held[1])
    assert len(shared) < comparison.baseline.n_classes
    text = render_html(comparison)
    roc = re.search(r"<svg[^>]*>\s*<title[^>]*>ROC curves.*?</svg>", text, re.S).group(0)
    names = [t for a, t in Page(roc).texts("polyline") if "line" in a["class"]]
    assert sorted(names) == sorted(
        f"{model}, class {k}" for model in ("baseline", "candidate") for k in shared
    )
    assert f"{len(shared)} of {comparison.baseline.n_classes} classes" in text


def test_a_large_comparison_draws_thinned_curves():
    """The curves are the reports', thinned from the summaries: a few hundred points each,
    whatever the rows."""
    y, a, b = two_models(200_000, seed=6)
    text = render_html(compared(y, a, b))
    lines = [a for a, _ in Page(text).texts("polyline") if "line" in a.get("class", "")]
    assert lines and max(len(_points(a)) for a in lines) < 1_500
    assert len(text) < 1_000_000


def test_a_notebook_shows_the_compare_page_scoped_to_its_block(comparisons):
    comparison = comparisons["binary"]
    shown = comparison._repr_html_()
    assert shown == fragment(comparison)
    assert shown.startswith('<div class="lossdoctor">') and "<html" not in shown
    page = render_html(comparison)
    assert re.findall(r'data-value="[^"]+"', shown) == re.findall(r'data-value="[^"]+"', page)
    assert shown.count("<svg") == page.count("<svg")


def test_names_from_the_files_are_escaped_on_the_compare_page():
    y, a, b = two_models(500, seed=7)
    hostile = "</code><script>alert(1)</script>.parquet"
    comparison = compare_paths(
        frame("a.parquet", y, a), [frame(hostile, y, b)], Settings(), Pairing(replicates=50)
    )
    for text in (render_html(comparison), comparison._repr_html_()):
        assert "<script>" not in text and not Page(text).tags("script")
        assert "&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;.parquet" in text


def test_class_names_from_the_files_are_escaped_in_the_overlaid_charts():
    y, a, b = multiclass_models(600, 3, seed=10)
    named = np.array(HOSTILE)[y]
    comparison = compared(named, a, b)
    text = render_html(comparison)
    page = Page(text)
    assert not page.tags("script") and not page.tags("img")
    roc = _chart(page, "ROC curves")
    for hostile in HOSTILE:
        assert f"baseline, class {hostile}" in roc  # the parser reads the escaped text back


def test_compare_format_html_writes_the_page_to_output(tmp_path):
    y, a, b = two_models(500, seed=8)
    first, second = write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b)
    out = tmp_path / "out.html"
    result = CliRunner().invoke(
        cli, ["compare", first, second, "--format", "html", "-o", str(out), "--bootstrap", "50"]
    )
    assert result.exit_code in (0, 1) and result.output == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count('<section class="report">') == 2


def test_a_file_of_class_labels_leaves_the_curves_out_and_says_so():
    """Labels saved as scores have no curve: the page draws the reliability diagrams alone."""
    y, a, b = two_models(1000, seed=9)
    comparison = compared(y, a, (b > 0.5).astype(float))
    assert comparison.candidates[0].metrics.curves == ()
    page = Page(render_html(comparison))
    overlaid = [t for _, t in page.texts("title") if "of the baseline" in t]
    assert overlaid == ["Reliability diagrams of the baseline and candidate"]
    assert any(
        "No ROC or precision-recall curve" in t for _, t in page.texts("p", **{"class": "note"})
    )


def test_the_verdict_line_names_the_headline_metrics_that_moved(comparisons):
    comparison = comparisons["multiclass"]
    moved = [
        m.metric
        for m in comparison.pairs[0].metrics
        if m.verdict == "regression" and "[" not in m.metric
    ]
    assert "roc_auc" in moved and any("[" in m.metric for m in comparison.pairs[0].metrics)
    text = render_html(comparison)
    line = re.search(r'<p class="verdict error">([^<]*)</p>', text).group(1)
    assert "[" not in line and line.count(",") == len(moved) - 1
