import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

import lossdoctor
from lossdoctor.checks.base import Severity
from lossdoctor.cli import cli
from tests.conftest import findings_of

ID = "hard-predictions"
SCORE_METRICS = {"log_loss", "roc_auc", "pr_auc", "brier", "ece"}


def alarms(report) -> list[str]:
    """Checks with a finding above info (a multi-class report always has its accuracy info)."""
    return [f.check for f in report.findings if f.severity > Severity.INFO]


def test_binary_0_1_predictions_are_an_error_with_label_metrics_kept():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    predicted = np.array([0, 1, 0, 0, 1, 1, 0, 1])
    report = lossdoctor.diagnose(y, predicted)
    assert [f.check for f in report.findings] == [ID]
    [finding] = report.findings
    assert finding.severity is Severity.ERROR
    assert "model.predict" in finding.message and "predict_proba" in finding.fix
    values = report.metrics.values
    assert {k for k, v in values.items() if v is None} == SCORE_METRICS
    assert set(report.metrics.undefined) == SCORE_METRICS
    assert values["accuracy"] == skm.accuracy_score(y, predicted) == 0.75
    assert values["f1"] == pytest.approx(skm.f1_score(y, predicted))
    assert values["mcc"] == pytest.approx(skm.matthews_corrcoef(y, predicted))
    np.testing.assert_array_equal(report.metrics.confusion, skm.confusion_matrix(y, predicted))
    assert all(c.roc_auc is None and c.pr_auc is None for c in report.metrics.per_class)


def test_a_column_of_class_indices_is_a_multiclass_error_with_its_confusion_matrix():
    y = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2])
    predicted = np.array([0, 1, 2, 1, 1, 0, 2, 2, 0, 2], dtype=np.float64)
    report = lossdoctor.diagnose(y, predicted)
    assert (report.task, report.n_classes, report.transform) == ("multiclass", 3, "one-hot")
    assert alarms(report) == [ID]
    assert "class indices 0..2" in report.findings[0].message
    assert report.metrics.values["accuracy"] == skm.accuracy_score(y, predicted)
    assert report.metrics.values["f1_macro"] == pytest.approx(
        skm.f1_score(y, predicted, average="macro")
    )
    np.testing.assert_array_equal(report.metrics.confusion, skm.confusion_matrix(y, predicted))


def test_one_hot_prediction_columns_are_an_error():
    y = np.array([0, 1, 2, 2, 1, 0])
    predicted = np.eye(3)[[0, 1, 2, 0, 1, 0]]
    report = lossdoctor.diagnose(y, predicted)
    assert alarms(report) == [ID]
    assert report.metrics.values["accuracy"] == pytest.approx(5 / 6)
    assert report.metrics.values["log_loss"] is None


def test_saturation_and_label_issues_that_follow_from_it_stay_quiet():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    predicted = np.where(rng.random(300) < 0.8, y, 1 - y)
    assert [f.check for f in lossdoctor.diagnose(y, predicted).findings] == [ID]


def test_probabilities_with_some_exact_0_and_1_are_quiet():
    y = np.array([0, 1, 1, 0, 1])
    assert findings_of(y, np.array([0.0, 1.0, 0.7, 0.2, 1.0]), ID) == []


def test_whole_number_logits_are_quiet():
    y = np.array([0, 1, 1, 0, 1, 0])
    assert findings_of(y, np.array([-3.0, 2.0, 4.0, -1.0, 1.0, -2.0]), ID) == []


def test_whole_number_percentages_of_a_binary_problem_are_scores_not_classes():
    y = np.array([0, 1, 1, 0, 1, 0, 1, 0])
    percentages = np.array([10.0, 80.0, 65.0, 30.0, 90.0, 45.0, 55.0, 20.0])
    report = lossdoctor.diagnose(y, percentages)
    assert report.task == "binary" and report.prediction_kind == "logits"
    assert findings_of(y, percentages, ID) == []


def test_whole_numbers_beyond_the_label_classes_are_not_read_as_class_indices():
    y = np.array([0, 1, 2, 2, 1, 0])
    report = lossdoctor.diagnose(y, np.array([0.0, 1.0, 7.0, 2.0, 1.0, 0.0]))
    assert report.task == "binary" and report.transform != "one-hot"


def test_declared_logits_of_0_and_1_are_not_class_labels():
    y = np.array([0, 1, 1, 0])
    assert findings_of(y, np.array([0.0, 1.0, 1.0, 0.0]), ID, from_logits=True) == []


def test_json_records_why_the_score_metrics_are_null():
    y, predicted = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    report = json.loads(lossdoctor.diagnose(y, predicted).to_json())
    assert report["metrics"]["roc_auc"] is None
    assert "model.predict" in report["undefined_metrics"]["roc_auc"]
    assert report["prediction_kind"] == "class predictions"


def test_explain_prints_the_check():
    result = CliRunner().invoke(cli, ["explain", ID])
    assert result.exit_code == 0
    assert "predict_proba" in result.output
