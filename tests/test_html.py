"""The HTML report, read back with the standard library's parser: one self-contained page with
no address to fetch, every chart an SVG with its axes and title, the numbers of the JSON report,
everything from the data escaped, and a size that stays small for a thousand classes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.io import read_predictions
from lossdoctor.render import Format, render_text, words
from lossdoctor.render.html import fragment, render_all
from lossdoctor.render.html.classes import MAX_HEAT_CLASSES, TOP_PAIRS
from lossdoctor.report import FailedInput, Report
from lossdoctor.settings import Settings
from tests.conftest import SAMPLES, multilabel
from tests.helpers import diagnose_predictions

ROOT = SAMPLES.parent
HOSTILE = ("<script>alert(1)</script>", 'a"b&c', "<img src=x onerror=alert(2)>")


VOID = {"meta", "br", "hr", "img", "input", "link", "base", "wbr"}


class Page(HTMLParser):
    """Every element with its attributes, the text inside each, and the stylesheets."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.stack: list[list] = []  # [tag, attrs, text parts]
        self.closed: list[tuple[str, dict[str, str], str]] = []
        self.styles: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag not in VOID:
            self.stack.append([tag, attributes, []])

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, attributes, parts = self.stack.pop()
            text = "".join(parts)
            self.closed.append((open_tag, attributes, text))
            if self.stack:
                self.stack[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)
            if self.stack[-1][0] == "style":
                self.styles.append(data)

    def tags(self, name: str) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def texts(self, name: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        return [
            (a, text)
            for tag, a, text in self.closed
            if tag == name and all(a.get(k) == v for k, v in attrs.items())
        ]


def sample(name: str, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.chdir(ROOT)
    return diagnose_predictions(read_predictions(f"sample_data/{name}"), Settings())


def classes(k: int, n: int = 20_000, seed: int = 0) -> Report:
    """A multi-class report of k classes from synthetic softmax scores."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)).astype(np.float32)
    logits[np.arange(n), y] += 2.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return lossdoctor.diagnose(y, proba)


def hostile() -> Report:
    """Class names and column names that are HTML."""
    rng = np.random.default_rng(1)
    names = np.array(HOSTILE)
    y = names[rng.integers(0, 3, 300)]
    proba = rng.dirichlet([1, 1, 1], 300)
    frame = pd.DataFrame({"label": y, **{f"p_<b>{k}": proba[:, k] for k in range(3)}})
    return lossdoctor.diagnose(frame, pred_col="p_*")


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    rng = np.random.default_rng(2)
    p = rng.uniform(size=2000)
    y = (rng.uniform(size=2000) < p**2).astype(int)
    return {
        "binary": lossdoctor.diagnose(y, p),
        "multiclass": classes(5, 3000),
        "multilabel": multilabel(),
        "many": classes(40, 8000),
    }


# ---- self-contained -----------------------------------------------------------------------------

URL = re.compile(r"(?i)\b(?:https?|ftp|wss?):|//[\w.-]+\.\w")


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "many"])
def test_the_page_names_no_address_to_fetch(reports, kind):
    text = render_all([reports[kind]])
    page = Page(text)
    fetching = {"src", "href", "srcset", "action", "formaction", "data", "poster", "xlink:href"}
    for tag, attrs in page.elements:
        assert not fetching & set(attrs), (tag, attrs)
        assert tag not in ("script", "link", "iframe", "object", "embed", "img", "base"), tag
        for name, value in attrs.items():
            assert not URL.search(value), (tag, name, value)
    css = "".join(page.styles)
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert not URL.search(text)
    policy = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in policy[0]["content"]


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "many"])
def test_every_chart_is_an_svg_with_a_title_and_its_axes(reports, kind):
    page = Page(render_all([reports[kind]]))
    charts = page.texts("svg")
    assert len(charts) >= 4
    for attrs, _ in charts:
        assert attrs["role"] == "img"
        title_id, desc_id = attrs["aria-labelledby"].split()
        assert page.texts("title", id=title_id)[0][1].strip()
        assert page.texts("desc", id=desc_id)[0][1].strip()
    lines = [a for a in page.tags("line") if "axis" in a.get("class", "")]
    plots = [a for a, _ in charts if "heat" not in a["class"]]
    assert len([a for a in lines if "x-axis" in a["class"]]) == len(plots)
    assert len([a for a in lines if "y-axis" in a["class"]]) == len(plots)
    assert [t for a, t in page.texts("text") if a.get("class") == "label"]  # axis labels


def test_a_binary_page_has_every_chart_the_report_calls_for(reports):
    titles = [t for _, t in Page(render_all([reports["binary"]])).texts("title")]
    for wanted in (
        "ROC curve",
        "Precision-recall curve",
        "Precision, recall and F1 against the threshold",
        "Scores by true class",
        "Reliability diagram, ECE",
        "Confusion matrix",
    ):
        assert any(t.startswith(wanted) for t in titles), wanted


def test_the_marked_points_are_drawn_where_the_report_puts_them(reports):
    report = reports["binary"]
    curve = report.metrics.curves[0]
    page = Page(render_all([report]))
    tips = [text for attrs, text in page.texts("circle") if "mark" in attrs.get("class", "")]
    tips += [text for attrs, text in page.texts("polygon") if "diamond" in attrs.get("class", "")]
    assert any(f"p >= {curve.chosen.threshold:.4g}" in t for t in tips)
    assert any(f"F1 {curve.best_f1.f1:.3f}" in t for t in tips)
    best = next(row for row in report.metrics.thresholds if row.best_f1)
    assert curve.best_f1.f1 == pytest.approx(best.f1, abs=1e-15)
    assert curve.best_f1.threshold == best.threshold


# ---- the numbers are the JSON report's ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "many"])
def test_the_metrics_in_the_page_are_the_json_reports(reports, kind):
    report = reports[kind]
    data = json.loads(render_text([report], Format.JSON))
    text = render_all([report])
    rows = re.findall(r'<tr data-metric="([^"]+)">.*?</tr>', text)
    assert rows == list(data["metrics"])
    for name, value in data["metrics"].items():
        cell = re.search(rf'<tr data-metric="{name}">.*?<td([^>]*)>([^<]*)</td>', text)
        if value is None:
            assert cell.group(2) == "—"
            continue
        assert float(re.search(r'data-value="([^"]+)"', cell.group(1)).group(1)) == value
        assert cell.group(2) == f"{value:.4f}"


@pytest.mark.parametrize("kind", ["multiclass", "multilabel", "many"])
def test_the_per_class_table_is_the_json_reports(reports, kind):
    report = reports[kind]
    data = report.to_dict()
    text = render_all([report])
    table = re.search(r'<table class="numbers per-class-table">.*?</table>', text).group(0)
    rows = re.findall(r"<tr><th scope=\"row\">([^<]*)</th>(.*?)</tr>", table)
    assert len(rows) == len(data["per_class"])
    by_label = {str(c["label"]): c for c in data["per_class"]}
    for label, cells in rows:
        values = [
            float(v) if v else None for v in re.findall(r'<td(?: data-value="([^"]+)")?>', cells)
        ]
        expected = by_label[label]
        keys = ("precision", "recall", "f1", "support", "roc_auc", "pr_auc")
        assert values == [expected[k] for k in keys]


def test_the_heat_map_holds_the_confusion_matrix(reports):
    report = reports["multiclass"]
    matrix = report.to_dict()["confusion_matrix"]["matrix"]
    page = Page(render_all([report]))
    counts = [t for a, t in page.texts("text") if a.get("class", "").startswith("value")]
    cells = [t for t in counts if not t.endswith("%")]
    assert [int(t.replace(",", "")) for t in cells] == [n for row in matrix for n in row]


def test_a_large_matrix_becomes_its_most_confused_pairs(reports):
    report = reports["many"]
    assert report.n_classes > MAX_HEAT_CLASSES
    matrix = np.asarray(report.to_dict()["confusion_matrix"]["matrix"])
    text = render_all([report])
    assert 'class="chart heat"' not in text
    table = re.search(r'<table class="numbers pairs">.*?</table>', text).group(0)
    counts = [int(v) for v in re.findall(r'<td data-value="(\d+)">', table)]
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    assert counts == sorted(off.ravel().tolist(), reverse=True)[:TOP_PAIRS]


def test_the_threshold_table_is_the_json_reports(reports):
    report = reports["binary"]
    data = report.to_dict()
    text = render_all([report])
    section = re.search(r'<section class="thresholds">.*?</section>', text, re.S).group(0)
    thresholds = [float(v) for v in re.findall(r"<tr[^>]*><td data-value=\"([^\"]+)\"", section)]
    assert sorted(thresholds) == sorted(row["threshold"] for row in data["thresholds"])


# ---- escaped ------------------------------------------------------------------------------------


def test_names_from_the_data_are_shown_as_written_never_as_markup():
    report = hostile()
    text = render_all([report])
    page = Page(text)
    assert not page.tags("script") and not page.tags("img") and not page.tags("b")
    assert not any("onerror" in attrs for _, attrs in page.elements)
    shown = "".join(t for _, t in page.texts("main"))
    for name in HOSTILE:
        assert name in shown
    assert "p_<b>0" in shown
    for name in HOSTILE:
        assert name not in text  # only in its escaped form


def test_a_path_that_looks_like_markup_is_escaped(tmp_path, monkeypatch):
    path = tmp_path / "<i>preds&amp;.csv"
    path.write_text("label,prob\n0,0.1\n1,0.8\n0,0.3\n1,0.6\n")
    monkeypatch.chdir(tmp_path)
    report = diagnose_predictions(read_predictions(path.name), Settings())
    failed = FailedInput("<b>gone</b>.csv", "<b>gone</b>.csv: no such file")
    page = Page(render_all([report, failed]))
    assert not page.tags("i") and not page.tags("b")
    assert "<i>preds&amp;.csv" in page.texts("title")[0][1]


# ---- size ---------------------------------------------------------------------------------------


def test_ten_classes_fit_in_a_megabyte_and_a_thousand_in_two():
    ten = render_all([classes(10, 20_000)])
    thousand_report = classes(1000, 12_000)
    thousand = render_all([thousand_report])
    assert len(ten.encode()) < 1_000_000
    assert len(thousand.encode()) < 2_000_000
    # every class is in the per-class table, a few in the curves
    assert thousand.count('<tr><th scope="row">') >= 1000
    assert len(thousand_report.metrics.curves) == 6


# ---- where it is used ---------------------------------------------------------------------------


def test_format_html_writes_the_page_to_output(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["check", "sample_data/healthy_binary.parquet", "--format", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "healthy" in result.stdout  # the terminal report stays on stdout
    written = out.read_text(encoding="utf-8")
    assert written == render_all([sample("healthy_binary.parquet", monkeypatch)])
    assert written.startswith("<!DOCTYPE html>")


def test_format_html_without_output_prints_the_page(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        cli, ["check", "sample_data/imbalanced.parquet", "--format", "html"]
    )
    assert result.exit_code in (0, 1)
    assert result.stdout == render_all([sample("imbalanced.parquet", monkeypatch)])


def test_github_annotations_and_html_on_stdout_exclude_each_other(monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["check", "sample_data/healthy_binary.parquet", "--format", "html", "--github"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_a_notebook_shows_the_same_report_scoped_to_its_block(reports):
    report = reports["multiclass"]
    shown = report._repr_html_()
    page = render_all([report])
    assert shown.startswith('<div class="lossdoctor">')
    # the same sections and numbers, without the page around them
    assert re.findall(r'data-value="[^"]+"', shown) == re.findall(r'data-value="[^"]+"', page)
    style = re.search(r"<style>(.*?)</style>", shown, re.S).group(1)
    selectors = re.findall(r"(?:^|})\s*([^{}@]+)\{", style)
    assert selectors and all(s.strip().startswith(".lossdoctor") for s in selectors)


def test_the_page_is_written_for_print_and_dark_themes(reports):
    css = "".join(Page(render_all([reports["binary"]])).styles)
    assert "@media (prefers-color-scheme:dark)" in css
    assert "@page{size:A4" in css


def test_the_html_renderer_is_imported_only_for_html():
    import subprocess
    import sys

    probe = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from lossdoctor.cli import cli\n"
        "CliRunner().invoke(cli, ['check', 'sample_data/healthy_binary.parquet', "
        "'--format', 'json'])\n"
        "before = 'lossdoctor.render.html' in sys.modules\n"
        "CliRunner().invoke(cli, ['check', 'sample_data/healthy_binary.parquet', "
        "'--format', 'html'])\n"
        "print(json.dumps([before, 'lossdoctor.render.html' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [False, True], done.stderr


def test_several_paths_make_one_page(monkeypatch):
    first = sample("healthy_binary.parquet", monkeypatch)
    second = sample("healthy_multiclass.parquet", monkeypatch)
    failed = FailedInput("gone.csv", "gone.csv: no such file")
    page = Page(render_all([first, failed, second]))
    headings = [t for _, t in page.texts("h2")]
    wanted = ["sample_data/healthy_binary.parquet", "gone.csv"]
    assert headings == [*wanted, "sample_data/healthy_multiclass.parquet"]
    ids = [a["id"] for a in page.tags("title") if "id" in a]
    assert len(ids) == len(set(ids))


def test_the_fragment_is_the_pages_report(reports):
    report = reports["binary"]
    assert fragment(report).count("<svg") == render_all([report]).count("<svg")


def test_the_page_says_which_class_is_which_for_named_classes():
    report = hostile()
    order = words.class_order(report)
    assert order.startswith("classes ")
    about = Page(render_all([report])).texts("p", **{"class": "about"})[0][1]
    assert order in about


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_the_confidence_intervals_in_the_page_are_the_json_reports(reports, kind):
    report = reports[kind]
    data = json.loads(render_text([report], Format.JSON))
    labels = [str(label) for label in report.class_labels]
    text = render_all([report])
    cell = r'(?:(?!</tr>).)*?<td class="interval" data-low="([^"]+)" data-high="([^"]+)">'
    found = {
        name: [float(low), float(high)]
        for name, low, high in re.findall(r'<tr data-metric="([^"]+)">' + cell, text)
    }
    for label, low, high in re.findall(r'<tr><th scope="row">([^<]+)</th>' + cell, text):
        found[f"roc_auc[{labels.index(label)}]"] = [float(low), float(high)]
    assert found == data["metrics_ci"]
    if data["metrics_ci"]:
        assert f"{data['metrics_ci_level'] * 100:g} % interval" in text
