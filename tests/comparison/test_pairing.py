"""Pairing the rows of two files, on the command line: by order, by id, and every bad pairing
as one clear line and exit code 2; streamed datasets compare as the files in memory do."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import lossdoctor
from lossdoctor.cli import cli
from tests.comparison.helpers import (
    assert_same_comparison,
    multiclass_models,
    two_models,
    write,
    write_dataset,
)


def run(*args: str):
    return CliRunner().invoke(cli, ["compare", *args])


def one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def pair(tmp_path):
    y, a, b = two_models(300, 2, gap=0.6)
    return y, a, b, write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b)


def test_different_lengths_are_refused(tmp_path, pair):
    y, _, b, first, _ = pair
    shorter = write(tmp_path / "short.parquet", y[:-5], b[:-5])
    one_line_error(run(first, shorter), "not the same evaluation set", "300", "295")


def test_different_labels_name_their_count_and_first_row(tmp_path, pair):
    y, _, b, first, _ = pair
    other = y.copy()
    other[[17, 40, 41]] = 1 - other[[17, 40, 41]]
    second = write(tmp_path / "other.parquet", other, b)
    one_line_error(
        run(first, second), "3 rows have different labels, the first at row 17", "--id-col"
    )


def test_shuffled_rows_pair_by_id_as_the_ordered_file_does(tmp_path, pair):
    y, a, b, first, second = pair
    ids = np.arange(len(y)) * 7 + 3
    order = np.random.default_rng(0).permutation(len(y))
    with_ids = write(tmp_path / "a_ids.parquet", y, a, row_id=ids)
    shuffled = write(tmp_path / "b_ids.parquet", y[order], b[order], row_id=ids[order])
    by_order = json.loads(run(first, second, "--format", "json").output)
    by_id = json.loads(run(with_ids, shuffled, "--id-col", "row_id", "--format", "json").output)
    assert by_id["rows_paired"] == len(y)
    for name, row in by_order["comparison"].items():
        assert by_id["comparison"][name]["p_value"] == pytest.approx(row["p_value"], rel=1e-12)
        assert by_id["comparison"][name]["ci"] == pytest.approx(row["ci"], rel=1e-12, abs=1e-15)


def test_rows_in_one_file_only_are_an_error_or_left_out_when_allowed(tmp_path, pair):
    y, a, b, _, _ = pair
    ids = np.arange(len(y))
    first = write(tmp_path / "a_ids.parquet", y, a, row_id=ids)
    second = write(tmp_path / "b_ids.parquet", y[10:], b[10:], row_id=ids[10:])
    one_line_error(run(first, second, "--id-col", "row_id"), "10 rows", "--unpaired-ok")
    allowed = run(first, second, "--id-col", "row_id", "--unpaired-ok", "--format", "json")
    assert allowed.exit_code in (0, 1), allowed.output
    result = json.loads(allowed.output)
    assert (result["rows_paired"], result["rows_unpaired"]) == (len(y) - 10, 10)
    same = lossdoctor.compare(write(tmp_path / "a_cut.parquet", y[10:], a[10:]), second).to_dict()
    assert result["comparison"]["roc_auc"]["p_value"] == pytest.approx(
        same["comparison"]["roc_auc"]["p_value"], rel=1e-12
    )


def test_duplicate_ids_are_refused(tmp_path, pair):
    y, a, b, _, _ = pair
    ids = np.arange(len(y))
    ids[5] = ids[6]
    first = write(tmp_path / "a_ids.parquet", y, a, row_id=ids)
    second = write(tmp_path / "b_ids.parquet", y, b, row_id=np.arange(len(y)))
    one_line_error(run(first, second, "--id-col", "row_id"), "1 ids appear more than once")


def test_rows_without_an_id_are_refused(tmp_path, pair):
    y, a, b, _, _ = pair
    ids = np.arange(len(y), dtype=float)
    ids[7] = np.nan
    first = write(tmp_path / "a_ids.parquet", y, a, row_id=ids)
    second = write(tmp_path / "b_ids.parquet", y, b, row_id=np.arange(len(y)))
    one_line_error(run(first, second, "--id-col", "row_id"), "1 rows have no id")


def test_a_missing_id_column_is_refused(pair):
    *_, first, second = pair
    one_line_error(run(first, second, "--id-col", "nope"), "no column 'nope'")


def test_different_tasks_are_refused(tmp_path, pair):
    *_, first, _ = pair
    y, a, _ = multiclass_models(300, 3)
    one_line_error(run(first, write(tmp_path / "m.parquet", y, a)), "not the same task")


def test_lockstep_cuts_the_batches_where_either_ends():
    from lossdoctor.comparison.pairing import lockstep
    from lossdoctor.io import Batch, from_arrays

    y = np.arange(10) % 2
    scores = np.linspace(0.05, 0.95, 10)

    def batches(sizes):
        start = 0
        for size in sizes:
            rows = slice(start, start + size)
            yield Batch(from_arrays(y[rows], scores[rows], source="x", format="array"), start)
            start += size

    pairs = list(lockstep(batches([3, 3, 4]), batches([5, 5])))
    assert [(p.baseline.first_row, len(p.baseline.predictions.y_score)) for p in pairs] == [
        (0, 3),
        (3, 2),
        (5, 1),
        (6, 4),
    ]
    for p in pairs:
        np.testing.assert_array_equal(
            p.baseline.predictions.y_score, p.candidate.predictions.y_score
        )
        start = p.baseline.first_row
        np.testing.assert_array_equal(
            p.candidate.predictions.y_score,
            scores[start : start + len(p.candidate.predictions.y_score)],
        )


@pytest.fixture
def small_batches(monkeypatch):
    """Datasets read in batches of 64 rows (the baseline's) and 100 (the candidate's), so that
    their batches end apart."""
    import lossdoctor.io

    opened = lossdoctor.io.open_dataset

    def open_small(path, **columns):
        return opened(path, batch_rows=64 if path.endswith("a") else 100, **columns)

    monkeypatch.setattr(lossdoctor.io, "open_dataset", open_small)


@pytest.mark.parametrize("k", [2, 4])
def test_streamed_datasets_compare_as_in_memory(tmp_path, k, small_batches):
    if k == 2:
        y, a, b = two_models(900, 4, gap=0.3, ties=2)
    else:
        y, a, b = multiclass_models(900, k, seed=4)
    in_memory = lossdoctor.compare(
        write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b), bootstrap=30
    ).to_dict()
    # batches that end apart in the two datasets: the pairs are cut again
    streamed = lossdoctor.compare(
        write_dataset(tmp_path / "a", y, a, [100, 450, 451]),
        write_dataset(tmp_path / "b", y, b, [300, 600]),
        bootstrap=30,
    ).to_dict()
    assert streamed["rows_paired"] == len(y)
    assert_same_comparison(streamed, in_memory)


def test_a_dataset_is_not_compared_with_a_file(tmp_path, pair):
    y, _, b, first, _ = pair
    one_line_error(run(first, write_dataset(tmp_path / "b", y, b, [100])), "a dataset")


def test_a_significant_regression_exits_1_and_an_improvement_0(pair):
    *_, first, second = pair
    worse = run(first, second, "--format", "json")
    assert worse.exit_code == 1
    checks = [f["check"] for f in json.loads(worse.output)["findings"]]
    assert "regression" in checks
    better = run(second, first, "--format", "json")
    found = json.loads(better.output)["findings"]
    assert {f["check"] for f in found} >= {"improvement"}
    assert all(f["severity"] == "info" for f in found if f["check"] == "improvement")
    assert better.exit_code == json.loads(better.output)["candidates"][0]["exit_code"]


def test_gates_name_the_baseline(tmp_path):
    y, a, _ = two_models(300, 8)
    nudged = np.clip(a + np.random.default_rng(0).normal(scale=0.01, size=a.size), 0, 1)
    first, second = write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, nudged)
    passing = run(first, second, "--gate", "roc_auc >= baseline - 0.05", "--format", "json")
    assert passing.exit_code == 0, passing.output
    failing = run(first, second, "--gate", "roc_auc >= baseline + 0.05", "--format", "json")
    assert failing.exit_code == 1
    gate = next(f for f in json.loads(failing.output)["findings"] if f["check"] == "gate")
    assert gate["evidence"]["gate"] == "roc_auc >= baseline + 0.05"
    assert gate["evidence"]["bound"] == pytest.approx(gate["evidence"]["baseline"] + 0.05)


def test_check_refuses_a_gate_naming_the_baseline(pair):
    *_, first, _ = pair
    result = CliRunner().invoke(cli, ["check", first, "--gate", "roc_auc >= baseline"])
    assert result.exit_code == 2
    assert "lossdoctor compare" in result.stderr


def test_logits_where_the_baseline_saved_probabilities_are_said_first(tmp_path, pair):
    y, _, b, first, _ = pair
    logits = write(tmp_path / "logits.parquet", y, np.log(b / (1 - b)))
    result = json.loads(run(first, logits, "--format", "json").output)
    assert result["findings"][0]["check"] == "kind-changed"
    assert result["candidates"][0]["prediction_kind"] == "logits"


def test_markdown_says_the_verdict_in_a_sentence(pair):
    *_, first, second = pair
    text = run(first, second, "--format", "markdown").output
    line = next(line for line in text.splitlines() if line.startswith("- ROC-AUC"))
    assert line.endswith(": significant regression")
    assert ", p " in line and "[" in line


def test_file_names_are_escaped_in_every_format(tmp_path, pair):
    y, _, b, first, _ = pair
    hostile = write(tmp_path / "b\x1b[31m::warning::x.parquet", y, b)
    for fmt in ("terminal", "markdown", "html"):
        output = run(first, hostile, "--format", fmt).output
        assert "\x1b" not in output
        assert "::warning" not in output


def test_rows_a_model_cannot_score_are_left_out_of_the_paired_tests(tmp_path, pair):
    y, a, b, first, _ = pair
    holed = b.copy()
    holed[[3, 99]] = np.nan
    result = lossdoctor.compare(first, write(tmp_path / "holed.parquet", y, holed)).to_dict()
    assert result["rows_paired"] == len(y) - 2
    keep = np.isfinite(holed)
    same = lossdoctor.compare(
        write(tmp_path / "a_kept.parquet", y[keep], a[keep]),
        write(tmp_path / "b_kept.parquet", y[keep], b[keep]),
    ).to_dict()
    for name in ("accuracy", "log_loss", "roc_auc"):
        assert result["comparison"][name]["p_value"] == pytest.approx(
            same["comparison"][name]["p_value"], rel=1e-9
        )


def test_several_candidates_each_against_the_baseline(tmp_path, pair):
    *_, first, second = pair
    result = json.loads(run(first, second, first, "--format", "json").output)
    assert len(result["candidates"]) == len(result["comparison"]) == 2
    assert result["comparison"][1]["roc_auc"]["difference"] == 0
    assert result["comparison"][0]["roc_auc"]["verdict"] == "regression"


@pytest.mark.parametrize("id_col", [None, "id"])
def test_each_of_several_candidates_is_compared_as_if_alone(tmp_path, pair, id_col):
    """The baseline is read and diagnosed once; with --id-col each candidate's ids choose the
    baseline's rows, here 250 of its 300 from a shuffled file."""
    y, a, b, _, _ = pair
    ids = np.arange(len(y))
    first = write(tmp_path / "first.parquet", y, a, id=ids)
    second = write(tmp_path / "second.parquet", y, b, id=ids)
    third = write(tmp_path / "third.parquet", y, a[::-1], id=ids)
    if id_col is not None:
        some = np.random.default_rng(2).permutation(len(y))[:250]
        third = write(tmp_path / "third.parquet", y[some], a[::-1][some], id=ids[some])
    options = {"id_col": id_col, "unpaired_ok": id_col is not None, "bootstrap": 50}
    several = lossdoctor.compare(first, [second, third], **options).to_dict()
    for index, candidate in enumerate((second, third)):
        alone = lossdoctor.compare(first, candidate, **options).to_dict()
        assert several["comparison"][index] == alone["comparison"]
        if index == 0 or id_col is None:  # the report shown: the first pairing's baseline
            assert several["baseline"] == alone["baseline"]
        candidate_report = several["candidates"][index]
        assert candidate_report["metrics"] == alone["candidates"][0]["metrics"]


def test_unpaired_ok_needs_an_id_column(pair):
    *_, first, second = pair
    one_line_error(run(first, second, "--unpaired-ok"), "--id-col")


def test_the_project_config_is_read_as_check_reads_it(tmp_path, pair, monkeypatch):
    y, a, b, _, _ = pair
    first = write(tmp_path / "a.parquet", np.zeros_like(y), a, target=y)
    second = write(tmp_path / "b.parquet", np.zeros_like(y), b, target=y)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.lossdoctor]\nlabel-col = ["target"]\n'
        'gates = ["roc_auc >= 0.99"]\n'
    )
    monkeypatch.chdir(tmp_path)
    configured = json.loads(run(first, second, "--format", "json").output)
    assert configured["baseline"]["input"]["label_columns"] == ["target"]
    assert any(f["check"] == "gate" for f in configured["findings"])
    ignored = run(first, second, "--format", "json", "--no-config", "--label-col", "target")
    assert not any(f["check"] == "gate" for f in json.loads(ignored.output)["findings"])


def test_the_html_page_holds_the_table_and_both_reports(pair):
    *_, first, second = pair
    page = run(first, second, "--format", "html").output
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert '<td class="name">DeLong paired</td>' in page
    assert page.count('<section class="report">') == 2


def test_streamed_past_the_capacity_reads_the_report_grid(tmp_path, small_batches):
    """More distinct scores than a streamed table holds: the tables become the report's fine
    grid, and DeLong's test reads each bin as one tied score, close to the exact test."""
    from lossdoctor.comparison import Pairing, compare_paths
    from lossdoctor.settings import Settings

    y, a, b = two_models(3000, 5, gap=0.3)
    exact = lossdoctor.compare(
        write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b), bootstrap=0
    ).to_dict()["comparison"]["roc_auc"]
    gridded = compare_paths(
        str(write_dataset(tmp_path / "a", y, a, [1000])),
        [str(write_dataset(tmp_path / "b", y, b, [2000]))],
        Settings(capacity=100),
        Pairing(replicates=0),
    ).to_dict()["comparison"]["roc_auc"]
    assert gridded["p_value"] == pytest.approx(exact["p_value"], rel=1e-3)
    assert gridded["ci"] == pytest.approx(exact["ci"], rel=1e-3)


def test_a_single_row_compares_without_a_warning(tmp_path):
    import warnings

    first = write(tmp_path / "a.parquet", np.array([1]), np.array([0.7]))
    second = write(tmp_path / "b.parquet", np.array([1]), np.array([0.2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lossdoctor.compare(first, second, bootstrap=50).to_dict()
    assert result["rows_paired"] == 1
    assert "roc_auc" not in result["comparison"]  # DeLong needs two rows of each class
    assert result["comparison"]["accuracy"]["p_value"] == 1.0  # one discordant pair


def test_dataframes_compare_as_their_files_do(tmp_path, pair):
    import pandas as pd

    y, a, b, first, second = pair
    ids = np.arange(len(y))
    order = np.random.default_rng(1).permutation(len(y))
    frames = (
        pd.DataFrame({"label": y, "score": a, "row_id": ids}),
        pd.DataFrame({"label": y[order], "score": b[order], "row_id": ids[order]}),
    )
    from_frames = lossdoctor.compare(*frames, id_col="row_id", bootstrap=100).to_dict()
    from_files = lossdoctor.compare(first, second, bootstrap=100).to_dict()
    assert from_frames["candidates"][0]["input"]["paths"] == ["<candidate>"]
    for name, row in from_files["comparison"].items():
        assert from_frames["comparison"][name]["p_value"] == pytest.approx(row["p_value"])
    with pytest.raises(lossdoctor.InputError, match="no column 'nope'"):
        lossdoctor.compare(*frames, id_col="nope")


@pytest.mark.parametrize("cells", [0, 10**9])
def test_reports_at_once_or_staggered_are_the_reports_one_after_the_other(
    tmp_path, pair, cells, monkeypatch
):
    import lossdoctor.comparison as comparison

    *_, first, second = pair
    alone = [lossdoctor.diagnose(path).to_dict() for path in (first, second)]
    monkeypatch.setattr(comparison, "REPORTS_AT_ONCE_CELLS", cells)
    result = lossdoctor.compare(first, second, bootstrap=10).to_dict()
    assert [result["baseline"], *result["candidates"]] == alone
