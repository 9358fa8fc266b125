import numpy as np
from sklearn.metrics import log_loss

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "loss-reconciliation"


def keras_bce(y, p, eps=1e-7):
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_logits_taken_as_probabilities_are_named(healthy_binary):
    y, p = healthy_binary
    logits = np.log(p / (1 - p)) * 3
    reported = keras_bce(y, logits)
    [finding] = findings_of(y, logits, ID, reported_loss=round(reported, 4))
    assert finding.severity is Severity.WARNING
    assert finding.evidence["closest"].startswith("logits taken as probabilities")
    wrong_sign = ((logits <= 0) & (y == 1)) | ((logits >= 1) & (y == 0))
    assert finding.evidence["rows_at_clip_ceiling"] == np.count_nonzero(wrong_sign)


def test_the_right_loss_is_reproduced_as_info(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, p, ID, reported_loss=log_loss(y, p))
    assert finding.severity is Severity.INFO
    assert finding.evidence["closest"].startswith("the probabilities")


def test_binary_crossentropy_on_one_hot_cells_is_named(healthy_multiclass):
    y, proba = healthy_multiclass
    cells = np.eye(4)[y]
    reported = keras_bce(cells, proba)
    [finding] = findings_of(y, proba, ID, reported_loss=reported)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["closest"] == "binary cross-entropy over one-hot cells"


def test_a_sum_instead_of_a_mean_is_named(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, p, ID, reported_loss=log_loss(y, p, normalize=False))
    assert finding.severity is Severity.WARNING
    assert finding.evidence["closest"].startswith("the sum")


def test_a_loss_nothing_explains_is_info(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, p, ID, reported_loss=123.0)
    assert finding.severity is Severity.INFO
    assert finding.title.startswith("No computation")


def test_logits_thresholded_at_half_explain_a_reported_accuracy(healthy_binary):
    y, p = healthy_binary
    logits = np.log(p / (1 - p))
    wrong = np.mean((logits >= 0.5) == y)
    [finding] = findings_of(y, logits, ID, reported_accuracy=round(wrong, 4))
    assert finding.severity is Severity.WARNING
    assert finding.evidence["closest"] == "logits thresholded at 0.5 instead of 0"


def test_no_reported_numbers_is_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []
