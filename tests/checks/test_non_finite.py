import numpy as np
import pytest
from sklearn.metrics import log_loss

import lossdoctor
from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "non-finite-values"


def test_nan_and_inf_predictions_are_an_error_with_rows(healthy_binary):
    y, p = healthy_binary
    p = p.copy()
    p[[3, 10, 50]] = np.nan
    p[20] = np.inf
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.ERROR
    evidence = finding.evidence
    assert evidence["rows"] == 4
    assert evidence["nan_predictions"] == 3 and evidence["inf_predictions"] == 1
    assert evidence["first_rows"] == [3, 10, 20, 50]


def test_metrics_use_the_finite_rows(healthy_binary):
    y, p = healthy_binary
    broken = p.copy()
    broken[[3, 10]] = np.nan
    keep = np.isfinite(broken)
    report = lossdoctor.diagnose(y, broken)
    assert report.metrics.values["log_loss"] == pytest.approx(log_loss(y[keep], p[keep]))
    assert report.input.rows_used == len(y) - 2


def test_nan_labels_count_too(healthy_binary):
    y, p = healthy_binary
    y = y.astype(float)
    y[0] = np.nan
    [finding] = findings_of(y, p, ID)
    assert finding.evidence["non_finite_labels"] == 1


def test_finite_values_are_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []
