import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "inverted-scores"


def test_the_other_class_column_is_a_warning(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y, 1 - p, ID)
    assert finding.severity is Severity.WARNING
    auc = roc_auc_score(y, 1 - p)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    spread = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    assert finding.evidence["roc_auc"] == pytest.approx(auc)
    assert finding.evidence["standard_errors_below_chance"] == pytest.approx((0.5 - auc) / spread)


def test_a_model_without_skill_is_quiet(rng):
    y = rng.integers(0, 2, 400)
    p = rng.uniform(size=400)
    assert roc_auc_score(y, p) != 0.5
    assert findings_of(y, p, ID) == []


def test_a_good_model_is_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []


def test_three_standard_errors_is_the_line():
    # 4 positives and 4 negatives: the chance spread is sqrt(9 / 192) = 0.2165, so an AUC of
    # 0 is 2.3 standard errors below 0.5 and stays quiet; with 40 and 40 it is 6.3 and fires.
    for n, fires in ((4, False), (40, True)):
        y = np.r_[np.zeros(n, int), np.ones(n, int)]
        p = np.r_[np.linspace(0.6, 0.9, n), np.linspace(0.1, 0.4, n)]
        assert bool(findings_of(y, p, ID)) is fires


def test_text_labels_name_the_positive_label_as_the_fix(healthy_binary):
    y, p = healthy_binary
    names = np.array(["malignant", "benign"])[y]  # p is P(benign); sorted, benign is class 0
    [finding] = findings_of(names, p, ID)
    assert finding.fix == "--positive-label benign"
    assert finding.evidence["positive_class_taken"] == "malignant"
    assert finding.evidence["roc_auc"] == pytest.approx(roc_auc_score(names == "malignant", p))
    assert findings_of(names, p, ID, positive_label="benign") == []
