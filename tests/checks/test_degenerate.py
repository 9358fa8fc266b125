import numpy as np

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "degenerate-predictions"


def test_constant_scores_are_an_error():
    y = np.array([0, 1, 0, 1, 1])
    [finding] = findings_of(y, np.full(5, 0.4), ID)
    assert finding.severity is Severity.ERROR
    assert finding.title == "Constant scores"


def test_every_row_the_same_class_is_an_error():
    y = np.array([0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.45])
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.ERROR
    assert finding.evidence["predicted_counts"] == {"0": 5, "1": 0}


def test_one_class_in_the_labels_predicted_every_time_is_quiet():
    assert findings_of(np.ones(4, int), np.array([0.9, 0.8, 0.7, 0.95]), ID) == []


def test_a_class_never_predicted_is_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    proba = proba.copy()
    proba[:, 3] = 0.0
    proba /= proba.sum(axis=1, keepdims=True)
    [finding] = findings_of(y, proba, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["never_predicted"] == ["3"]
    assert finding.evidence["predicted_counts"]["3"] == 0


def test_varied_predictions_are_quiet(healthy_binary, healthy_multiclass):
    assert findings_of(*healthy_binary, ID) == []
    assert findings_of(*healthy_multiclass, ID) == []


def test_a_multilabel_label_never_predicted_is_a_warning(rng):
    y = (rng.uniform(size=(100, 3)) < 0.5).astype(int)
    proba = np.clip(y * 0.8 + 0.1, 0, 1).astype(float)
    proba[:, 2] = 0.2
    [finding] = findings_of(y, proba, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["labels_stuck"] == ["2"]
