"""Markdown for pull requests: golden renderings, tables a Markdown parser reads as tables, data
that looks like markup shown as written, and every --format with its renderer.

Regenerate the golden files after an intended change with
`LOSSDOCTOR_UPDATE_GOLDEN=1 pytest tests/test_markdown.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.gates import parse_gate
from lossdoctor.io import from_arrays, read_predictions
from lossdoctor.render import (
    ERROR_RENDERERS,
    GITHUB,
    QUIET,
    RENDERERS,
    Format,
    render_error,
    render_text,
)
from lossdoctor.render.markdown import render, render_all
from lossdoctor.render.words import MAX_MATRIX_CLASSES
from lossdoctor.report import FailedInput, Report
from lossdoctor.settings import Settings
from tests.conftest import multilabel
from tests.helpers import diagnose_predictions

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "markdown"
UPDATE = os.environ.get("LOSSDOCTOR_UPDATE_GOLDEN") == "1"


def sample(name: str, monkeypatch: pytest.MonkeyPatch, *gates: str) -> Report:
    """A sample's report, read by its path relative to the repository (as the heading shows)."""
    monkeypatch.chdir(ROOT)
    predictions = read_predictions(f"sample_data/{name}")
    return diagnose_predictions(predictions, Settings(gates=tuple(parse_gate(g) for g in gates)))


def many_classes(k: int = 30, n: int = 600) -> Report:
    rows = np.arange(n)
    y = rows % k
    predicted = np.where(rows % 7 == 0, (y + 1) % k, y)
    proba = np.full((n, k), 0.1 / (k - 1))
    proba[rows, predicted] = 0.9
    return lossdoctor.diagnose(y, proba)


def one_class_with_a_gate() -> Report:
    """ROC-AUC undefined (one class): the metrics table grows a reason column, the gate fails."""
    predictions = from_arrays(
        np.ones(40, int), np.linspace(0.3, 0.95, 40), source="<array>", format="array"
    )
    return diagnose_predictions(predictions, Settings(gates=(parse_gate("roc_auc >= 0.8"),)))


def assert_golden(text: str, name: str) -> None:
    path = GOLDEN / f"{name}.md"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with LOSSDOCTOR_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is intended, regenerate with "
        "LOSSDOCTOR_UPDATE_GOLDEN=1 and review the diff"
    )


GOLDEN_CASES = {
    "logits_saved_as_probabilities": lambda mp: sample("logits_saved_as_probabilities.parquet", mp),
    "healthy_multiclass": lambda mp: sample("healthy_multiclass.parquet", mp),
    "labels_one_to_k": lambda mp: sample("labels_one_to_k.csv", mp),
    "gates": lambda mp: sample(
        "healthy_binary.parquet", mp, "roc_auc >= 0.999", "log_loss <= 0.35", "brier < 0.01"
    ),
    "undefined_metric_gate": lambda mp: one_class_with_a_gate(),
    "multilabel": lambda mp: multilabel(),
    "30_classes": lambda mp: many_classes(),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_markdown_matches_the_golden_file(name, monkeypatch):
    assert_golden(render(GOLDEN_CASES[name](monkeypatch)), name)


def test_several_results_with_an_unreadable_file_match_the_golden_file(monkeypatch):
    results = [
        sample("healthy_binary.parquet", monkeypatch),
        FailedInput("sample_data/missing.parquet", "sample_data/missing.parquet: no such file"),
        sample("imbalanced.parquet", monkeypatch),
    ]
    assert_golden(render_all(results), "several")


# ---- what a Markdown parser makes of it -------------------------------------------------------

PARSER = MarkdownIt("commonmark").enable("table")  # raw HTML allowed, as GitHub allows some


def tables(markdown: str) -> list[list[int]]:
    """For each table, the number of cells in each row (header first)."""
    found, cells = [], None
    for token in PARSER.parse(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            found[-1].append(cells)
    return found


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_every_table_has_as_many_cells_in_each_row_as_in_its_header(name, monkeypatch):
    markdown = render(GOLDEN_CASES[name](monkeypatch))
    found = tables(markdown)
    assert found, "no table parsed"
    for rows in found:
        assert len(set(rows)) == 1, rows
    # GFM drops the cells beyond the header's, so also count the source's pipes per line
    for block in re.findall(r"(?:^\|.*\|$\n?)+", markdown, flags=re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block


MARKUP_LABELS = ["<b>x|y</b>", "a*b_c`d`", "[link](http://e.x)", "@here $x$ ~~s~~ &amp;"]


@pytest.fixture
def markup_report() -> Report:
    """String labels and column names that would be markup if they were not escaped."""
    import pandas as pd

    labels = np.array([MARKUP_LABELS[i % 4] for i in range(40)], dtype=object)
    proba = np.random.default_rng(0).dirichlet(np.ones(4), 40)
    names = [f"p_`{k}`|<i>" for k in range(4)]
    frame = pd.DataFrame({"label|<i>": labels} | dict(zip(names, proba.T, strict=True)))
    return lossdoctor.diagnose(frame, label_col="label|<i>", pred_col=names)


def test_labels_and_column_names_that_look_like_markup_are_shown_as_written(markup_report):
    markdown = render(markup_report)
    html = PARSER.render(markdown)
    for label in MARKUP_LABELS:
        escaped = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in html, label
    assert "<b>" not in html and "<a " not in html and "<del>" not in html
    assert "<i>" not in html
    for rows in tables(markdown):
        assert len(set(rows)) == 1, rows


def test_code_with_backticks_and_pipes_stays_one_code_span():
    from lossdoctor.render.markdown import _code

    for text in ["a`b", "``x``", "`start", "a | b"]:
        html = PARSER.renderInline(_code(text))
        assert html.count("<code>") == 1, (text, html)
        assert html.replace("&lt;", "<").startswith("<code>")
    cell = (
        MarkdownIt("commonmark")
        .enable("table")
        .render(f"| h |\n| --- |\n| {_code('a | b', in_table=True)} |\n")
    )
    assert "<code>a | b</code>" in cell


def test_a_matrix_too_wide_for_a_comment_points_to_the_json():
    markdown = render(many_classes(MAX_MATRIX_CLASSES + 1))
    assert "too many for a table" in markdown and "--format json" in markdown


def test_every_finding_title_and_fix_of_a_broken_sample_is_in_the_markdown(monkeypatch):
    report = sample("labels_minus_one_plus_one.csv", monkeypatch)
    html = PARSER.render(render(report))
    for finding in report.findings:
        assert finding.check in html
        assert finding.title in html
    for value in report.metrics.values.values():
        assert f"{value:.4f}" in html


# ---- every format has a renderer --------------------------------------------------------------


def test_every_format_has_a_renderer_that_renders_one_and_several_reports(monkeypatch):
    report = sample("logits_saved_as_probabilities.parquet", monkeypatch)  # with findings
    failed = FailedInput("x.csv", "x.csv: no such file")
    assert set(RENDERERS) == {fmt.value for fmt in Format} | {GITHUB, QUIET}
    assert set(ERROR_RENDERERS) == set(RENDERERS)  # what a run without a report leaves
    for name in RENDERERS:
        one = render_text([report], name)
        several = render_text([report, failed, report], name)
        assert isinstance(one, str) and one.strip(), name
        assert isinstance(several, str) and len(several) > len(one), name
        error = render_error("x.csv: no such file", 2, name)
        assert "x.csv: no such file" in error, name


def test_the_format_option_offers_exactly_the_formats():
    result = CliRunner().invoke(cli, ["check", "x.csv", "--format", "nope"])
    assert result.exit_code == 2
    for fmt in Format:
        assert fmt.value in result.stderr


def test_cli_markdown_is_the_renderers_output(monkeypatch):
    report = sample("logits_saved_as_probabilities.parquet", monkeypatch)
    result = CliRunner().invoke(
        cli,
        ["check", "sample_data/logits_saved_as_probabilities.parquet", "--format", "markdown"],
    )
    assert result.exit_code == 1
    assert result.stdout == render(report)


def test_json_renderer_is_to_dict(monkeypatch):
    report = sample("healthy_binary.parquet", monkeypatch)
    assert json.loads(render_text([report], Format.JSON)) == report.to_dict()


def test_markdown_metrics_have_their_intervals(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = lossdoctor.diagnose("sample_data/imbalanced.parquet")
    low, high = report.metrics_ci["accuracy"]
    assert "| metric | value | 95 % interval |" in render(report)
    assert (
        f"| `accuracy` | {report.metrics.values['accuracy']:.4f} | [{low:.4f}, {high:.4f}] |"
        in render(report)
    )
