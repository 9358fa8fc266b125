"""Column names as real libraries and habits write them: predict_proba DataFrames named by
model.classes_, common names, and the one numeric column left beside the labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.io import resolve_columns
from lossdoctor.io.columns import by_class_names

IRIS = np.array(["setosa", "versicolor", "virginica"])


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return x, y


def assert_like_sklearn(report, y, proba):
    values = report.metrics.values
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    assert values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-12
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "frame"])
def test_predict_proba_frame_with_integer_classes(tmp_path, iris, fmt):
    x, y = iris
    model = LogisticRegression(max_iter=1000).fit(x, y)
    frame = pd.DataFrame(model.predict_proba(x), columns=model.classes_)
    frame["y"] = y
    frame.columns = frame.columns.astype(str)  # as to_parquet needs; CSV writes them so anyway
    source = frame if fmt == "frame" else str(tmp_path / f"p.{fmt}")
    if fmt == "csv":
        frame.to_csv(source, index=False)
    elif fmt == "parquet":
        frame.to_parquet(source)
    report = lossdoctor.diagnose(source)
    assert report.input.prediction_columns == ("0", "1", "2")
    assert_like_sklearn(report, y, model.predict_proba(x))


def test_predict_proba_frame_with_text_classes_maps_by_column_name(tmp_path, iris):
    x, y = iris
    names = IRIS[y]
    model = LogisticRegression(max_iter=1000).fit(x, names)
    proba = model.predict_proba(x)
    frame = pd.DataFrame(proba, columns=model.classes_)
    frame = frame[["virginica", "setosa", "versicolor"]]  # any column order: names decide
    frame["y"] = names
    frame.to_csv(tmp_path / "p.csv", index=False)
    report = lossdoctor.diagnose(str(tmp_path / "p.csv"))
    assert report.class_labels == ("virginica", "setosa", "versicolor")
    assert report.class_order == "columns"
    reordered = proba[:, [2, 0, 1]]
    y_in_column_order = np.array([["virginica", "setosa", "versicolor"].index(n) for n in names])
    assert_like_sklearn(report, y_in_column_order, reordered)
    [chosen] = [f for f in report.findings if f.check == "column-choice"]
    assert chosen.evidence["chosen_by"] == "class names"


def test_binary_frame_named_by_classes(iris):
    x, y = iris
    names = np.where(y == 0, "no", "yes")
    model = LogisticRegression(max_iter=1000).fit(x, names)
    frame = pd.DataFrame(model.predict_proba(x), columns=model.classes_).assign(label=names)
    report = lossdoctor.diagnose(frame)
    p_yes = model.predict_proba(x)[:, 1]
    assert report.metrics.values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(names == "yes", p_yes), rel=1e-12
    )


@pytest.mark.parametrize(
    "name",
    [
        "pred_proba",
        "predicted_probability",
        "y_hat",
        "yhat",
        "confidence",
        "proba_1",
        "y_pred_proba",
        "score",
        "decision_function",
    ],
)
def test_common_prediction_names(name):
    labels, preds = resolve_columns(["id", "label", name])
    assert (labels, preds) == (["label"], [name])


@pytest.mark.parametrize("name", ["label_ids", "gold_label", "references", "y_test", "targets"])
def test_common_label_names(name):
    assert resolve_columns([name, "prob"]) == ([name], ["prob"])


def test_a_lone_class_1_column_is_the_positive_probability(iris):
    x, y = iris
    binary = (y == 2).astype(int)
    p = LogisticRegression(max_iter=1000).fit(x, binary).predict_proba(x)[:, 1]
    report = lossdoctor.diagnose(pd.DataFrame({"target": binary, "proba_1": p}))
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(binary, p))


def test_digit_columns_with_a_gap_are_not_a_family():
    with pytest.raises(lossdoctor.InputError, match="no prediction column"):
        resolve_columns(["label", "0", "2"])


def test_class_named_columns_need_every_class():
    assert by_class_names(["a", "b", "id"], {"a", "b"}) == ["a", "b"]
    assert by_class_names(["a", "id"], {"a", "b"}) == []
    assert by_class_names(["a", "b"], {"a", "b", "c"}) == []


def test_the_one_numeric_column_left_is_used_and_said(tmp_path, iris):
    x, y = iris
    binary = (y == 1).astype(int)
    p = LogisticRegression(max_iter=1000).fit(x, binary).predict_proba(x)[:, 1]
    frame = pd.DataFrame({"note": ["n"] * len(p), "y": binary, "model_output": p})
    frame.to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "p.csv"), "-q", "--fail-on=never"])
    assert "info column-choice: Prediction column chosen by elimination" in result.stdout
    report = lossdoctor.diagnose(str(tmp_path / "p.csv"))
    assert report.input.prediction_columns == ("model_output",)
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(binary, p))


def test_two_numeric_columns_left_are_refused_with_the_option(tmp_path):
    frame = pd.DataFrame({"y": [0, 1, 0, 1], "a": [0.1, 0.9, 0.2, 0.8], "b": [1, 2, 3, 4]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "p.csv")])
    assert result.exit_code == 2
    assert "no prediction column found" in result.stderr
    assert "--pred-col" in result.stderr
