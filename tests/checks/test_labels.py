import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "label-encoding"


def test_minus_one_plus_one_labels_are_an_error_and_remapped(healthy_binary):
    y, p = healthy_binary
    report_findings = findings_of(2 * y - 1, p, ID)
    [finding] = report_findings
    assert finding.severity is Severity.ERROR
    assert finding.fix == "y = (y + 1) // 2"
    assert finding.evidence["values"] == {"-1": int((y == 0).sum()), "1": int((y == 1).sum())}


def test_remapped_labels_give_the_metrics_of_the_right_labels(healthy_binary):
    import lossdoctor

    y, p = healthy_binary
    remapped = lossdoctor.diagnose(2 * y - 1, p).metrics.values
    assert remapped["accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5))
    assert remapped == lossdoctor.diagnose(y, p).metrics.values


def test_one_two_binary_labels_are_an_error(healthy_binary):
    y, p = healthy_binary
    [finding] = findings_of(y + 1, p, ID)
    assert finding.severity is Severity.ERROR
    assert finding.fix == "y = y - 1"


def test_labels_one_to_k_are_off_by_one(healthy_multiclass):
    y, proba = healthy_multiclass
    [finding] = findings_of(y + 1, proba, ID)
    assert finding.severity is Severity.ERROR
    assert finding.fix == "y = y - 1"
    assert finding.evidence["values"] == {str(k + 1): int((y == k).sum()) for k in range(4)}


def test_labels_outside_the_columns_are_counted_and_left_out(healthy_multiclass):
    import lossdoctor

    y, proba = healthy_multiclass
    y = y.copy()
    y[:5] = 7
    [finding] = findings_of(y, proba, ID)
    assert finding.severity is Severity.ERROR
    assert finding.evidence["rows_out_of_range"] == 5
    report = lossdoctor.diagnose(y, proba)
    assert report.input.rows_used == len(y) - 5


def test_zero_based_labels_are_quiet(healthy_binary, healthy_multiclass):
    assert findings_of(*healthy_binary, ID) == []
    assert findings_of(*healthy_multiclass, ID) == []


def test_soft_labels_are_a_warning(healthy_binary):
    y, p = healthy_binary
    soft = np.where(y == 1, 0.9, 0.1)
    [finding] = findings_of(soft, p, ID)
    assert finding.severity is Severity.WARNING


def test_one_hot_rows_that_are_not_one_hot_are_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    onehot = np.eye(4)[y]
    onehot[:3] = 0.25
    [finding] = findings_of(onehot, proba, ID, task="multiclass")
    assert finding.severity is Severity.WARNING
    assert finding.evidence["rows_not_one_hot"] == 3


def test_a_class_that_never_occurs_is_a_warning(healthy_multiclass):
    y, proba = healthy_multiclass
    keep = y != 2
    [finding] = findings_of(y[keep], proba[keep], ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["absent_classes"] == ["2"]


def test_string_labels_are_mapped_in_sorted_order(healthy_binary):
    import lossdoctor

    y, p = healthy_binary
    names = np.where(y == 1, "spam", "ham")
    [finding] = findings_of(names, p, ID)
    assert finding.severity is Severity.INFO
    report = lossdoctor.diagnose(names, p)
    assert report.class_labels == ("ham", "spam")
    assert report.metrics.values == lossdoctor.diagnose(y, p).metrics.values
