import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "class-imbalance"


def test_rare_positives_are_a_warning_with_the_baseline(rng):
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    p = np.r_[rng.uniform(0, 0.6, 90), rng.uniform(0.4, 1, 10)]
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.WARNING
    evidence = finding.evidence
    assert evidence["class_counts"] == {"0": 90, "1": 10}
    assert evidence["baseline_accuracy"] == 0.9
    assert evidence["accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5))
    assert evidence["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p >= 0.5))


def test_accuracy_at_the_baseline_is_said_plainly():
    y = np.r_[np.zeros(95, int), np.ones(5, int)]
    p = np.full(100, 0.1)
    [finding] = findings_of(y, p, ID)
    assert finding.title.startswith("Accuracy is within 2 points")


def test_balanced_binary_is_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []


def test_multiclass_ratio_of_four_fires_and_three_does_not(rng):
    for counts, fires in (((40, 20, 10), True), ((30, 20, 10), False)):
        y = np.repeat(np.arange(3), counts)
        proba = rng.dirichlet(np.ones(3), size=len(y))
        assert bool(findings_of(y, proba, ID)) is fires
