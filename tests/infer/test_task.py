"""The task: binary for one score column (or two complementary ones), multi-class for one
column per class, multi-label for multi-hot labels; --task overrides it within what the shapes
allow."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import lossdoctor
from tests.test_cli import _read_npz_sample, json_report, sample


def test_task_multilabel_scores_one_hot_labels_cell_by_cell():
    y_onehot, proba = _read_npz_sample(sample("keras_onehot_multiclass.npz"))
    multiclass, _ = json_report(sample("keras_onehot_multiclass.npz"))
    multilabel, _ = json_report(sample("keras_onehot_multiclass.npz"), "--task", "multilabel")
    assert (multiclass["task"], multilabel["task"]) == ("multiclass", "multilabel")
    y = y_onehot.argmax(axis=1)
    assert multiclass["metrics"]["accuracy"] == pytest.approx(
        skm.accuracy_score(y, proba.argmax(axis=1)), rel=1e-12
    )
    # multi-label accuracy is sklearn's subset accuracy of p >= 0.5
    assert multilabel["metrics"]["accuracy"] == pytest.approx(
        skm.accuracy_score(y_onehot.astype(int), (proba >= 0.5).astype(int)), rel=1e-12
    )
    assert multilabel["metrics"]["accuracy"] != pytest.approx(multiclass["metrics"]["accuracy"])


def _task(y, scores, **options) -> tuple[str, int]:
    report = lossdoctor.diagnose(np.asarray(y), np.asarray(scores), **options)
    return report.task, report.n_classes


def test_one_score_column_is_binary():
    assert _task([0, 1, 1, 0], [0.2, 0.7, 0.9, 0.4]) == ("binary", 2)


def test_two_complementary_columns_are_binary():
    p = np.array([0.2, 0.7, 0.9, 0.4])
    assert _task([0, 1, 1, 0], np.stack([1 - p, p], axis=1)) == ("binary", 2)


def test_a_column_per_class_is_multiclass():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]])
    assert _task([0, 1, 2, 0], proba) == ("multiclass", 3)


def test_one_hot_labels_are_multiclass_and_multi_hot_labels_multilabel():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]])
    one_hot = np.eye(3, dtype=int)[[0, 1, 2, 0]]
    assert _task(one_hot, proba) == ("multiclass", 3)
    multi_hot = one_hot.copy()
    multi_hot[0, 1] = 1
    assert _task(multi_hot, proba) == ("multilabel", 3)


def test_the_task_in_the_report_is_a_plain_string():
    report = lossdoctor.diagnose(np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.9, 0.4]))
    assert type(report.task) is str and type(report.prediction_kind) is str
    assert type(report.to_dict()["task"]) is str


@pytest.mark.parametrize(
    "task, labels, message",
    [
        ("binary", [0, 1, 2, 0], "--task binary needs one prediction column"),
        ("multilabel", [0, 1, 2, 0], "--task multilabel needs one label column per class"),
        ("regression", [0, 1, 2, 0], "unknown task 'regression'"),
    ],
)
def test_a_task_the_shapes_do_not_allow_is_refused_with_the_reason(task, labels, message):
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]])
    with pytest.raises(lossdoctor.InputError, match=message):
        lossdoctor.diagnose(np.array(labels), proba, task=task)
