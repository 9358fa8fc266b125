"""label-order: hand-computed confusion matrices, both directions, and the chance limit."""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from lossdoctor.checks import label_order
from lossdoctor.checks.base import Severity
from tests.conftest import findings_of

ID = "label-order"


def rows_of(confusion: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and one-hot-ish probabilities whose argmax confusion matrix is `confusion`."""
    confusion = np.asarray(confusion)
    k = len(confusion)
    y, column = [], []
    for i in range(k):
        for j in range(k):
            y += [i] * confusion[i, j]
            column += [j] * confusion[i, j]
    proba = np.full((len(y), k), 0.1 / (k - 1))
    proba[np.arange(len(y)), column] = 0.9
    return np.array(y), proba


def test_a_permuted_three_class_matrix_fires_with_the_mapping_and_the_fix():
    # Rows of class 0 predicted as column 1, 1 as 2, 2 as 0; ten right on the diagonal.
    confusion = [[5, 40, 0], [0, 5, 40], [40, 0, 0]]
    y, proba = rows_of(confusion)
    [finding] = findings_of(y, proba, ID)
    assert finding.severity is Severity.ERROR
    evidence = finding.evidence
    assert evidence["accuracy_as_given"] == pytest.approx(accuracy_score(y, proba.argmax(1)))
    assert evidence["accuracy_as_given"] == pytest.approx(10 / 130)
    assert evidence["accuracy_relabelled"] == pytest.approx(120 / 130)
    assert evidence["label_to_column"] == {"0": 1, "1": 2, "2": 0}
    assert evidence["column_classes"] == ["2", "0", "1"]
    assert finding.fix == "--classes 2,0,1"
    b, c = 120, 10  # right only relabelled, right only as given
    assert evidence["rows_right_only_relabelled"] == b
    assert evidence["rows_right_only_as_given"] == c
    assert evidence["mcnemar_z"] == pytest.approx((b - c) / math.sqrt(b + c))


def test_the_fix_gives_the_accuracy_it_promises():
    y, proba = rows_of([[5, 40, 0], [0, 5, 40], [40, 0, 0]])
    [finding] = findings_of(y, proba, ID)
    classes = finding.fix.split()[1].split(",")
    report_after = findings_of(y, proba, classes=classes)
    assert not [f for f in report_after if f.check == ID]
    relabelled = np.array([classes.index(str(label)) for label in y])
    assert accuracy_score(relabelled, proba.argmax(1)) == pytest.approx(120 / 130)


def test_a_diagonal_matrix_is_quiet():
    assert findings_of(*rows_of([[40, 5, 5], [5, 40, 5], [5, 5, 40]]), ID) == []


def test_rows_better_elsewhere_that_no_relabelling_helps_are_quiet():
    # Row 0 is better predicted by column 1 (20 > 10), yet every relabelling loses accuracy:
    # the best one is the labels as given, and nothing moves.
    assert findings_of(*rows_of([[10, 20, 0], [0, 30, 0], [0, 0, 30]]), ID) == []


def test_a_swap_of_two_classes_among_four_fires_and_names_only_them():
    y, proba = rows_of([[50, 0, 0, 0], [0, 2, 45, 0], [0, 45, 2, 0], [0, 0, 0, 50]])
    [finding] = findings_of(y, proba, ID)
    assert finding.evidence["label_to_column"] == {"1": 2, "2": 1}


def test_a_significant_but_small_gain_is_quiet():
    # A swap that is real but moves under MIN_ACCURACY_GAIN of the rows.
    big = 2000
    confusion = [[big, 0, 0], [0, big - 300, 300], [0, 300, 5]]
    y, proba = rows_of(confusion)
    gain = (600 - (big - 300) - 5) / len(y)
    assert gain < label_order.MIN_ACCURACY_GAIN
    assert findings_of(y, proba, ID) == []


def test_a_model_without_skill_is_quiet_for_many_classes():
    # At chance, each row's largest cell is above its diagonal by luck: the best relabelling
    # gains, but within what K! relabellings give by chance.
    rng = np.random.default_rng(0)
    for k, n in ((3, 60), (10, 2000), (50, 20_000)):
        y = rng.integers(0, k, n)
        proba = rng.dirichlet(np.ones(k), n)
        assert findings_of(y, proba, ID) == [], k


def test_too_few_rows_to_tell_are_quiet():
    assert findings_of(*rows_of([[0, 2, 0], [0, 0, 2], [2, 0, 0]]), ID) == []


def test_binary_and_multilabel_are_left_to_other_checks(healthy_binary):
    y, p = healthy_binary
    assert findings_of(y, 1 - p, ID) == []  # inverted-scores says it
    y2 = np.column_stack([y, 1 - y, y])
    assert findings_of(y2, np.column_stack([1 - p, p, 1 - p]), ID, task="multilabel") == []


def test_the_z_limit_bounds_chance_over_every_relabelling():
    for k in (2, 3, 5, 10, 100):
        t = label_order.z_limit(k)
        tail = math.exp(-(t**2) / 2)  # Gaussian tail bound on P(Z > t)
        assert math.factorial(k) * tail == pytest.approx(label_order.FALSE_ALARM_RATE)


def test_the_best_relabelling_is_the_best_of_all_permutations():
    rng = np.random.default_rng(5)
    confusion = rng.integers(0, 30, size=(5, 5))
    confusion[np.arange(5), [3, 0, 4, 1, 2]] += 200
    y, proba = rows_of(confusion.tolist())
    [finding] = findings_of(y, proba, ID)
    best = max(sum(confusion[i, p[i]] for i in range(5)) for p in permutations(range(5)))
    assert finding.evidence["accuracy_relabelled"] == pytest.approx(best / confusion.sum())


def test_one_hot_labels_get_the_column_order_as_the_fix():
    y, proba = rows_of([[5, 40, 0], [0, 5, 40], [40, 0, 0]])
    one_hot = np.eye(3)[y]
    [finding] = findings_of(one_hot, proba, ID)
    assert finding.fix.startswith("p = p[:, [1, 2, 0]]")
    fixed = proba[:, [1, 2, 0]]
    assert accuracy_score(y, fixed.argmax(1)) == pytest.approx(120 / 130)
    assert findings_of(one_hot, fixed, ID) == []
