"""What the scores are (kind): inferred from their range, declared by a column name, or given by
--from-logits / --from-probabilities; the metrics then follow the transform, as scikit-learn's
on the transformed scores."""

from __future__ import annotations

import numpy as np

import lossdoctor
from tests.test_cli import (
    assert_metrics,
    binary_reference,
    json_report,
    read_arrays,
    read_table,
    sample,
    sigmoid,
)


def test_from_logits_on_undeclared_logits_turns_the_error_into_an_info():
    name = sample("logits_saved_as_probabilities.parquet")
    y, z = read_arrays(name)
    inferred, inferred_code = json_report(name)
    declared, declared_code = json_report(name, "--from-logits")
    assert [(f["check"], f["severity"]) for f in inferred["findings"]] == [
        ("logits-vs-probabilities", "error")
    ]
    assert [(f["check"], f["severity"]) for f in declared["findings"]] == [
        ("logits-vs-probabilities", "info")
    ]
    assert (inferred_code, declared_code) == (1, 0)
    assert declared["prediction_kind"] == "logits"
    assert declared["prediction_kind_source"] == "--from-logits"
    assert declared["transform"] == "sigmoid"
    assert_metrics(declared["metrics"], binary_reference(y, sigmoid(z)), rel=1e-9)


def test_declared_logits_column_is_an_info_with_or_without_from_logits():
    name = sample("healthy_binary_declared_logits.parquet")
    table = read_table(name)
    y, z = table["label"].to_numpy(), table["logit"].to_numpy()
    for args in ([], ["--from-logits"]):
        report, code = json_report(name, *args)
        assert code == 0
        assert [(f["check"], f["severity"]) for f in report["findings"]] == [
            ("logits-vs-probabilities", "info")
        ]
        assert report["transform"] == "sigmoid"
        assert_metrics(report["metrics"], binary_reference(y, sigmoid(z)), rel=1e-9)
    report, _ = json_report(name)
    assert report["prediction_kind_source"] == "a column named logit"


def test_from_probabilities_on_probabilities_is_quiet_and_says_who_decided():
    report, code = json_report(sample("healthy_binary.parquet"), "--from-probabilities")
    assert code == 0
    assert report["findings"] == []
    assert report["prediction_kind_source"] == "--from-probabilities"
    assert report["transform"] == "none"


def test_softmax_rows_a_rounding_step_above_1_stay_probabilities():
    rng = np.random.default_rng(8)
    proba = rng.dirichlet(np.ones(3), 100).astype(np.float32)
    y = proba.argmax(axis=1)
    proba[0] = [np.nextafter(np.float32(1), np.float32(2)), 0, 0]
    y[0] = 0
    report = lossdoctor.diagnose(y, proba)
    assert report.prediction_kind == "probabilities"
    assert not [f for f in report.findings if f.severity >= lossdoctor.Severity.ERROR]


def test_scores_well_above_1_are_still_logits():
    y = np.array([0, 1, 0, 1, 1, 0])
    report = lossdoctor.diagnose(y, np.array([0.1, 0.9, 0.2, 1.001, 0.8, 0.3]))
    assert report.prediction_kind == "logits"
