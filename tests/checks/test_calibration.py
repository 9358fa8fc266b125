import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "calibration"


def test_an_overconfident_model_is_a_warning_with_sklearns_bins(rng):
    p_true = rng.uniform(0.05, 0.95, 2000)
    y = (rng.uniform(size=2000) < p_true).astype(int)
    sharpened = p_true**4 / (p_true**4 + (1 - p_true) ** 4)
    [finding] = findings_of(y, sharpened, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["direction"] == "overconfident"
    observed, predicted = calibration_curve(y, sharpened, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(finding.evidence["bins_observed"], observed)
    np.testing.assert_allclose(finding.evidence["bins_predicted"], predicted)
    ece = np.mean(np.abs(observed - predicted))  # equal-mass bins of 200 rows each
    assert finding.evidence["ece"] == pytest.approx(ece)


def test_an_underconfident_multiclass_model_is_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    flattened = 0.5 * proba + 0.5 / proba.shape[1]
    [finding] = findings_of(y, flattened, ID)
    assert finding.evidence["direction"] == "underconfident"
    assert finding.evidence["mean_predicted"] == pytest.approx(flattened.max(axis=1).mean())
    assert finding.evidence["mean_observed"] == pytest.approx(np.mean(flattened.argmax(1) == y))


def test_a_calibrated_model_is_quiet(healthy_binary, healthy_multiclass):
    assert findings_of(*healthy_binary, ID) == []
    assert findings_of(*healthy_multiclass, ID) == []


def test_few_rows_are_quiet_however_miscalibrated():
    y = np.tile([0, 1], 40)
    p = np.tile([0.99, 0.01], 40)
    assert findings_of(y, p, ID) == []
