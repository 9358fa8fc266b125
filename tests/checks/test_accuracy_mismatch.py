import numpy as np
import pytest

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "accuracy-mismatch"


def ten_class_model(rng, n=500, right=0.9):
    """A ten-class model right about `right` of the time, confident either way."""
    y = rng.integers(0, 10, n)
    guess = np.where(rng.uniform(size=n) < right, y, (y + 1) % 10)
    proba = np.full((n, 10), 0.02)
    proba[np.arange(n), guess] = 0.82
    return y, proba


def keras_binary_accuracy(y, proba):
    return np.mean((proba > 0.5) == np.eye(proba.shape[1])[y])


def test_reported_binary_accuracy_on_multiclass_is_a_warning(rng):
    y, proba = ten_class_model(rng)
    binary = keras_binary_accuracy(y, proba)
    categorical = np.mean(proba.argmax(axis=1) == y)
    assert binary > 0.97 and categorical < 0.93
    [finding] = findings_of(y, proba, ID, reported_accuracy=round(binary, 4))
    assert finding.severity is Severity.WARNING
    assert finding.evidence["binary_accuracy"] == pytest.approx(binary)
    assert finding.evidence["categorical_accuracy"] == pytest.approx(categorical)
    assert finding.evidence["closer_to"] == "binary"


def test_binary_crossentropy_on_single_label_multiclass_is_a_warning(rng):
    y, proba = ten_class_model(rng)
    [finding] = findings_of(y, proba, ID, loss="binary_crossentropy")
    assert finding.severity is Severity.WARNING


def test_the_right_accuracy_reported_is_only_info(rng):
    y, proba = ten_class_model(rng)
    categorical = np.mean(proba.argmax(axis=1) == y)
    [finding] = findings_of(y, proba, ID, reported_accuracy=categorical)
    assert finding.severity is Severity.INFO
    assert finding.evidence["closer_to"] == "categorical"


def test_argmax_accuracy_reported_on_multilabel_is_a_warning(rng):
    y = (rng.uniform(size=(300, 5)) < 0.3).astype(int)
    proba = np.clip(y * 0.7 + rng.uniform(0, 0.3, (300, 5)), 0, 1)
    y[:, 0] = 1  # multi-hot rows
    categorical = np.mean(proba.argmax(axis=1) == y.argmax(axis=1))
    binary = np.mean((proba > 0.5) == y)
    [finding] = findings_of(y, proba, ID, reported_accuracy=categorical)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["binary_accuracy"] == pytest.approx(binary)


def test_binary_task_has_no_accuracy_mismatch(healthy_binary):
    assert findings_of(*healthy_binary, ID, reported_accuracy=0.5) == []
