import numpy as np
import pytest
from sklearn.metrics import log_loss

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "logits-vs-probabilities"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_logits_saved_as_probabilities_is_an_error_with_both_losses(healthy_binary):
    y, p = healthy_binary
    logits = np.log(p / (1 - p))
    [finding] = findings_of(y, logits, ID)
    assert finding.severity is Severity.ERROR
    assert finding.evidence["min"] == pytest.approx(logits.min())
    assert finding.evidence["share_outside_0_1"] == pytest.approx(
        np.mean((logits < 0) | (logits > 1))
    )
    assert finding.evidence["loss_after_transform"] == pytest.approx(log_loss(y, sigmoid(logits)))
    clipped = np.clip(logits, 1e-7, 1 - 1e-7)
    assert finding.evidence["loss_as_probabilities"] == pytest.approx(log_loss(y, clipped))
    assert "np.exp(-logits)" in finding.fix


def test_probabilities_are_quiet(healthy_binary, healthy_multiclass):
    assert findings_of(*healthy_binary, ID) == []
    assert findings_of(*healthy_multiclass, ID) == []


def test_declared_logits_are_only_info(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, np.log(p / (1 - p)), ID, from_logits=True)
    assert finding.severity is Severity.INFO


def test_multiclass_logits_are_softmaxed(healthy_multiclass):
    y, proba = healthy_multiclass
    logits = np.log(proba) + 3.0
    [finding] = findings_of(y, logits, ID)
    assert finding.severity is Severity.ERROR
    assert finding.evidence["transform"] == "softmax"
    assert finding.evidence["loss_after_transform"] == pytest.approx(
        log_loss(y, proba, labels=range(4)), rel=1e-9
    )


def test_log_probabilities_are_an_error(healthy_multiclass):
    y, proba = healthy_multiclass
    [finding] = findings_of(y, np.log(proba), ID)
    assert finding.severity is Severity.ERROR
    assert finding.title.startswith("Log-probabilities")
    assert finding.evidence["loss_after_transform"] == pytest.approx(
        log_loss(y, proba, labels=range(4)), rel=1e-9
    )


def test_rows_that_do_not_sum_to_one_are_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    sigmoids = sigmoid(np.log(proba) + 1.0)
    [finding] = findings_of(y, sigmoids, ID)
    assert finding.severity is Severity.WARNING
    sums = sigmoids.sum(axis=1)
    assert finding.evidence["row_sum_min"] == pytest.approx(sums.min())
    assert finding.evidence["row_sum_max"] == pytest.approx(sums.max())


def test_a_sigmoid_over_probabilities_is_a_warning(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, sigmoid(p), ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["transform"] == "inverse sigmoid"
    assert finding.evidence["loss_after_transform"] == pytest.approx(log_loss(y, p), rel=1e-9)
    assert finding.evidence["loss_as_given"] == pytest.approx(log_loss(y, sigmoid(p)), rel=1e-9)


def test_metrics_of_a_double_sigmoid_are_those_of_the_probabilities_before_it(healthy_binary):
    import lossdoctor

    y, p = healthy_binary
    squashed = lossdoctor.diagnose(y, sigmoid(p)).metrics.values
    original = lossdoctor.diagnose(y, p).metrics.values
    assert squashed == pytest.approx(original, rel=1e-9)


def test_a_weak_model_in_the_double_sigmoid_band_is_quiet(rng):
    """Scores in [0.5, 0.73] that undoing the squash would fit worse are an honest weak model."""
    p = rng.uniform(0.55, 0.7, 200)
    y = (rng.uniform(size=200) < 0.62).astype(int)
    assert findings_of(y, p, ID) == []


def test_a_softmax_over_probabilities_is_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    squashed = np.exp(proba) / np.exp(proba).sum(axis=1, keepdims=True)
    [finding] = findings_of(y, squashed, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["transform"] == "inverse softmax"
    assert finding.evidence["loss_after_transform"] == pytest.approx(
        log_loss(y, proba, labels=range(4)), rel=1e-6
    )
