import numpy as np
import pytest
from sklearn.metrics import f1_score

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "threshold"


def test_a_threshold_far_below_half_is_a_warning():
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    p = np.r_[np.linspace(0.0, 0.25, 90), np.linspace(0.3, 0.45, 10)]
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.WARNING
    evidence = finding.evidence
    assert evidence["f1_at_threshold"] == pytest.approx(f1_score(y, p >= 0.5, zero_division=0))
    assert evidence["best_threshold"] == pytest.approx(0.3)
    assert evidence["best_f1"] == pytest.approx(f1_score(y, p >= 0.3))
    assert evidence["f1_cost"] == pytest.approx(1.0)


def test_the_threshold_option_is_the_one_compared():
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    p = np.r_[np.linspace(0.0, 0.25, 90), np.linspace(0.3, 0.45, 10)]
    assert findings_of(y, p, ID, threshold=0.3) == []


def test_a_best_threshold_near_half_is_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []


def test_multiclass_has_no_threshold_check(healthy_multiclass):
    assert findings_of(*healthy_multiclass, ID) == []
