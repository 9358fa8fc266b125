import numpy as np
import pytest

import lossdoctor
from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "label-issues"


def test_confidently_contradicted_rows_are_found_by_hand():
    # Self-confidence: class 0 rows give 0 a mean of (0.9 + 0.8 + 0.1) / 3 = 0.6, class 1
    # rows give 1 a mean of (0.9 + 0.7) / 2 = 0.8. Row 2, labelled 0, gives class 1 0.9 >= 0.8.
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.9, 0.9, 0.7])
    [finding] = findings_of(y, p, ID)
    assert finding.evidence["rows_flagged"] == 1
    assert finding.evidence["worst_rows"] == [2]
    assert finding.evidence["class_thresholds"] == {
        "0": pytest.approx(0.6),
        "1": pytest.approx(0.8),
    }
    # Were labels drawn from the model, row 2 (P(1) = 0.9) would be flagged with probability 0.1,
    # and rows 0, 1 and 3 (confident and right) with 0.1, 0.2 and 0.1.
    assert finding.evidence["expected_if_labels_followed_the_model"] == pytest.approx(0.5)


def test_row_numbers_are_the_files_even_with_rows_left_out():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([np.nan, 0.1, 0.2, 0.9, 0.9, 0.7])
    [finding] = findings_of(y, p, ID)
    assert finding.evidence["worst_rows"] == [3]


def test_flipped_labels_on_a_good_model_are_a_warning(rng):
    y = rng.integers(0, 3, 600)
    proba = np.full((600, 3), 0.05)
    proba[np.arange(600), y] = 0.9
    flipped = y.copy()
    flipped[:90] = (y[:90] + 1) % 3
    [finding] = findings_of(flipped, proba, ID)
    assert finding.severity is Severity.WARNING
    assert finding.evidence["rows_flagged"] == 90
    assert set(finding.evidence["worst_rows"]) <= set(range(90))


def test_labels_drawn_from_the_model_are_at_most_info(healthy_binary):
    assert all(f.severity is Severity.INFO for f in findings_of(*healthy_binary, ID))


def test_a_probability_at_its_class_mean_counts_as_at_the_threshold_whatever_the_sum_order():
    # Class 1's mean self-confidence is 0.5 exactly; summed with weights it rounds 1 ulp above
    # 0.5, summed over the rows repeated it does not. The row at 0.5 must decide the same way.
    y = np.array([0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1])
    p = np.array([6, 3, 7, 6, 8, 6, 3, 7, 8, 2, 5, 6, 7, 8, 6, 3, 8, 2, 4, 1, 2, 3, 1]) / 10
    w = np.array([1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 2, 3, 1, 1, 1, 3, 1, 1, 1, 3, 3])
    rows = np.repeat(np.arange(len(y)), w)

    def issues(report):
        [finding] = [f for f in report.findings if f.check == "label-issues"]
        return finding.severity, finding.evidence["expected_if_labels_followed_the_model"]

    weighted = issues(lossdoctor.diagnose(y, p, sample_weight=w))
    repeated = issues(lossdoctor.diagnose(y[rows], p[rows]))
    assert weighted[0] == repeated[0]
    assert weighted[1] == pytest.approx(repeated[1], rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_binary_likeliest_confident_class_is_the_rule_row_by_row(rng, dtype):
    """Each row against the rule written out: class 0 (1 - p) if at its threshold, then class
    1 (p) if at its threshold and strictly likelier; thresholds compared exactly, not rounded
    to p's dtype (a threshold just above a representable p leaves that p below it)."""
    from lossdoctor.checks.label_issues import _binary_likeliest_confident_class

    p = np.concatenate([rng.random(500), [0.25, 0.5, 0.75, 0.0, 1.0]]).astype(dtype)
    just_above = float(np.nextafter(np.float64(dtype(0.75)), 1.0))
    for thresholds in ([0.6, 0.7], [0.5, 0.5], [0.3, 0.9], [np.inf, 0.4], [0.25, just_above]):
        is_1, likeliest_p, confident = _binary_likeliest_confident_class(p, np.array(thresholds))
        for i, row in enumerate(p):
            negative = dtype(1) - row
            best, best_p = -1, -1.0
            if float(negative) >= thresholds[0]:
                best, best_p = 0, float(negative)
            if float(row) >= thresholds[1] and float(row) > best_p:
                best, best_p = 1, float(row)
            assert confident[i] == (best >= 0)
            if best >= 0:  # without a confident class, the class and its probability are unread
                assert (int(is_1[i]), float(likeliest_p[i])) == (best, best_p)
        assert likeliest_p.dtype == p.dtype
