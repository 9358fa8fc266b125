import numpy as np
import pytest
from sklearn.metrics import log_loss

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "probability-saturation"


def test_true_class_probability_of_exactly_zero_is_an_error():
    y = np.array([1, 1, 0, 0, 1])
    p = np.array([1.0, 0.0, 0.1, 0.2, 0.8])
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.ERROR
    evidence = finding.evidence
    assert evidence["true_class_probability_0"] == 1
    assert evidence["count_at_0"] == 1 and evidence["count_at_1"] == 1
    assert evidence["loss_unclipped"] == float("inf")
    q = np.array([1.0, 1e-7, 0.9, 0.8, 0.8])
    assert evidence["loss_clipped_1e-7"] == pytest.approx(
        -np.log(np.clip(q, 1e-7, 1 - 1e-7)).mean()
    )
    assert evidence["loss_clipped_float64_eps"] == pytest.approx(log_loss(y, p))


def test_confident_wrong_rows_near_zero_are_a_warning():
    y = np.array([1, 0, 0, 1, 1, 0])
    p = np.array([0.9, 0.1, 0.2, 1e-9, 0.7, 0.3])
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["confidently_wrong"] == 1


def test_saturated_but_right_is_info():
    y = np.array([1, 0, 1, 0, 1, 0])
    p = np.array([1.0, 0.0, 0.8, 0.3, 0.6, 0.1])
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.INFO
    assert finding.evidence["count_at_1"] == 1 and finding.evidence["count_at_0"] == 1


def test_worst_rows_share_of_the_loss():
    y = np.ones(100, dtype=int)
    p = np.full(100, 0.9)
    p[0] = 1e-12
    [finding] = findings_of(y, p, ID)
    losses = -np.log(p)
    assert finding.evidence["worst_1pct_loss_share"] == pytest.approx(losses[0] / losses.sum())


def test_unsaturated_probabilities_are_quiet(healthy_binary, healthy_multiclass):
    assert findings_of(*healthy_binary, ID) == []
    assert findings_of(*healthy_multiclass, ID) == []


def test_large_logits_are_not_saturation():
    y = np.array([1, 0, 1, 0])
    logits = np.array([40.0, -40.0, 3.0, -2.0])
    assert findings_of(y, logits, ID) == []
