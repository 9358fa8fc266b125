"""JSON Lines, written by the libraries that write it (the stdlib, pandas, polars), read with
pyarrow's JSON reader; every metric compared with scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

import lossdoctor
from lossdoctor.cli import cli
from tests.conftest import calibrated_multiclass

IRIS = np.array(["setosa", "versicolor", "virginica"])


@pytest.fixture(scope="module")
def iris_like():
    return calibrated_multiclass(300, 3, scale=2, seed=7)


def stdlib_lines(y, proba) -> str:
    """What an LLM evaluation script writes: one json.dumps per example."""
    rows = ({"label": IRIS[i], "probs": list(map(float, p))} for i, p in zip(y, proba, strict=True))
    return "".join(json.dumps(row) + "\n" for row in rows)


def assert_like_sklearn(report, y, proba):
    values = report.metrics.values
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    auc = skm.roc_auc_score(y, proba, multi_class="ovr")
    assert values["roc_auc"] == pytest.approx(auc, rel=1e-12)


@pytest.mark.parametrize("name", ["preds.jsonl", "preds.ndjson", "preds.json"])
def test_one_object_per_line_with_a_list_field(tmp_path, iris_like, name):
    y, proba = iris_like
    path = tmp_path / name
    path.write_text(stdlib_lines(y, proba))
    report = lossdoctor.diagnose(str(path))
    assert report.input.format == "jsonl"
    assert report.input.prediction_columns == ("probs",)
    assert report.class_labels == tuple(IRIS)
    assert_like_sklearn(report, y, proba)


def test_pandas_records_lines_with_per_class_fields(tmp_path, iris_like):
    y, proba = iris_like
    frame = pd.DataFrame({"y_true": y, **{f"prob_{k}": proba[:, k] for k in range(3)}})
    path = tmp_path / "preds.jsonl"
    frame.to_json(path, orient="records", lines=True, double_precision=15)
    report = lossdoctor.diagnose(str(path))
    assert report.input.prediction_columns == ("prob_0", "prob_1", "prob_2")
    stored = pd.read_json(path, lines=True)  # the values as written, 15 digits
    assert_like_sklearn(report, y, stored[["prob_0", "prob_1", "prob_2"]].to_numpy())


def test_polars_ndjson(tmp_path, iris_like):
    pl = pytest.importorskip("polars")
    y, proba = iris_like
    frame = pl.DataFrame({"label": y, "probs": proba.tolist()})
    frame.write_ndjson(tmp_path / "preds.ndjson")
    assert_like_sklearn(lossdoctor.diagnose(str(tmp_path / "preds.ndjson")), y, proba)


def test_stdin_is_sniffed_by_its_first_byte(iris_like):
    y, proba = iris_like
    text = "\n" + stdlib_lines(y, proba)  # a blank line first
    result = CliRunner().invoke(cli, ["check", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["input"]["format"] == "jsonl"
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)


def test_input_format_names_it_for_any_extension(tmp_path, iris_like):
    y, proba = iris_like
    path = tmp_path / "eval_output.txt"
    path.write_text(stdlib_lines(y, proba))
    result = CliRunner().invoke(cli, ["check", str(path), "--input-format", "jsonl", "-q"])
    assert result.exit_code == 0, result.output


def test_a_json_array_is_refused_with_the_command_that_converts_it(tmp_path, iris_like):
    y, proba = iris_like
    rows = [json.loads(line) for line in stdlib_lines(y, proba).splitlines()]
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(rows, indent=2))
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "JSON array" in result.stderr
    command = result.stderr.split("convert it: ", 1)[1].split(" (or jq", 1)[0]
    command = command.replace("F.jsonl", str(tmp_path / "f.jsonl")).replace("F.json", str(path))
    python = command.replace("python -c", f"{sys.executable} -c", 1)
    subprocess.run(python, shell=True, check=True)  # the advice works as printed
    assert_like_sklearn(lossdoctor.diagnose(str(tmp_path / "f.jsonl")), y, proba)


def test_lines_that_are_not_json_exit_2_in_one_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"label": 1, "prob": 0.5}\n{"label": 0, "prob": \n')
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("lossdoctor: error: cannot read")
    assert "JSON Lines" in result.stderr


def test_nested_objects_are_refused_by_name(tmp_path):
    path = tmp_path / "nested.jsonl"
    path.write_text('{"label": 1, "prob": {"a": 0.5}}\n{"label": 0, "prob": {"a": 0.2}}\n')
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "prob" in result.stderr


def test_help_and_small_csv_do_not_import_the_json_reader():
    code = (
        "import sys; from lossdoctor.cli import cli; import lossdoctor.io; "
        "print('pyarrow.json' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
