"""lossdoctor.diagnose: every container the README promises, scikit-learn's numbers, the report's
JSON form, exit codes, rendering, and the options as keyword arguments."""

from __future__ import annotations

import json
import math
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from sklearn import metrics as skm

import lossdoctor
from lossdoctor import Severity

N_CLASSES = 4


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def binary():
    """A calibrated model: labels drawn from its own probabilities, both classes well present."""
    rng = np.random.default_rng(20)
    p = rng.uniform(0.02, 0.98, 300)
    y = (rng.uniform(size=300) < p).astype(np.int64)
    return y, p


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(21)
    proba = softmax(rng.normal(size=(400, N_CLASSES)) * 2)
    y = np.array([rng.choice(N_CLASSES, p=row) for row in proba])
    return y, proba


def sklearn_binary(y, p) -> dict[str, float]:
    predicted = p >= 0.5
    return {
        "log_loss": skm.log_loss(y, p),
        "roc_auc": skm.roc_auc_score(y, p),
        "accuracy": skm.accuracy_score(y, predicted),
        "f1_macro": skm.f1_score(y, predicted, average="macro"),
        "mcc": skm.matthews_corrcoef(y, predicted),
        "pr_auc": skm.average_precision_score(y, p),
        "brier": skm.brier_score_loss(y, p),
    }


def sklearn_multiclass(y, proba) -> dict[str, float]:
    predicted = proba.argmax(axis=1)
    return {
        "log_loss": skm.log_loss(y, proba),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr"),
        "accuracy": skm.accuracy_score(y, predicted),
        "f1_macro": skm.f1_score(y, predicted, average="macro"),
        "mcc": skm.matthews_corrcoef(y, predicted),
        "pr_auc": skm.average_precision_score(np.eye(proba.shape[1])[y], proba),
    }


def assert_metrics(report, expected: dict[str, float], rel: float = 1e-9) -> None:
    for name, value in expected.items():
        assert report.metrics.values[name] == pytest.approx(value, rel=rel, abs=0), name


def prob_frame(proba: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({f"prob_{k}": proba[:, k] for k in range(proba.shape[1])})


# ---- containers -------------------------------------------------------------------------------

BINARY_CONTAINERS = {
    "numpy": lambda y, p: lossdoctor.diagnose(y, p),
    "lists": lambda y, p: lossdoctor.diagnose(y.tolist(), p.tolist()),
    "series": lambda y, p: lossdoctor.diagnose(pd.Series(y), pd.Series(p)),
    "series-with-index": lambda y, p: lossdoctor.diagnose(
        pd.Series(y, index=np.arange(len(y))[::-1] * 3), pd.Series(p, index=np.arange(len(p)) + 7)
    ),
    "one-dataframe": lambda y, p: lossdoctor.diagnose(pd.DataFrame({"label": y, "prob": p})),
}

MULTICLASS_CONTAINERS = {
    "numpy": lambda y, proba: lossdoctor.diagnose(y, proba),
    "lists": lambda y, proba: lossdoctor.diagnose(y.tolist(), proba.tolist()),
    "series-and-prob-frame": lambda y, proba: lossdoctor.diagnose(pd.Series(y), prob_frame(proba)),
    "one-dataframe": lambda y, proba: lossdoctor.diagnose(
        pd.concat([pd.DataFrame({"label": y}), prob_frame(proba)], axis=1)
    ),
}


@pytest.mark.parametrize("container", BINARY_CONTAINERS)
def test_binary_metrics_equal_sklearn_in_every_container(binary, container):
    y, p = binary
    report = BINARY_CONTAINERS[container](y, p)
    assert report.task == "binary"
    assert report.input.rows == len(y)
    assert_metrics(report, sklearn_binary(y, p))


@pytest.mark.parametrize("container", MULTICLASS_CONTAINERS)
def test_multiclass_metrics_equal_sklearn_in_every_container(multiclass, container):
    y, proba = multiclass
    report = MULTICLASS_CONTAINERS[container](y, proba)
    assert report.task == "multiclass"
    assert report.n_classes == N_CLASSES
    assert_metrics(report, sklearn_multiclass(y, proba))


def test_one_dataframe_reports_the_columns_it_found(multiclass):
    y, proba = multiclass
    frame = pd.concat([pd.DataFrame({"label": y}), prob_frame(proba)], axis=1)
    report = lossdoctor.diagnose(frame)
    assert report.input.label_columns == ("label",)
    assert report.input.prediction_columns == tuple(f"prob_{k}" for k in range(N_CLASSES))
    assert report.input.format == "dataframe"


def test_dataframe_with_unusual_names_takes_label_col_and_pred_col_lists(binary):
    y, p = binary
    frame = pd.DataFrame({"annotator_verdict": y, "model_output_v2": p})
    with pytest.raises(lossdoctor.InputError, match="--label-col"):
        lossdoctor.diagnose(frame)
    report = lossdoctor.diagnose(
        frame, label_col=["annotator_verdict"], pred_col=["model_output_v2"]
    )
    assert_metrics(report, sklearn_binary(y, p))


def test_label_col_and_pred_col_accept_a_single_column_name(binary):
    y, p = binary
    frame = pd.DataFrame({"gold": y, "model_output_v2": p})
    report = lossdoctor.diagnose(frame, label_col="gold", pred_col="model_output_v2")
    assert report.input.label_columns == ("gold",)
    assert_metrics(report, sklearn_binary(y, p))


def test_hand_computed_small_binary_case():
    y = [0, 1, 1, 0]
    p = [0.1, 0.8, 0.6, 0.3]
    values = lossdoctor.diagnose(y, p).metrics.values
    assert values["log_loss"] == pytest.approx(
        -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.7)) / 4, rel=1e-12
    )
    assert values["brier"] == pytest.approx((0.01 + 0.04 + 0.16 + 0.09) / 4, rel=1e-12)
    assert values["accuracy"] == 1.0
    assert values["roc_auc"] == 1.0
    assert values["mcc"] == pytest.approx(1.0)


def test_hand_computed_small_multiclass_case():
    y = [0, 1, 2, 2]
    proba = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]
    report = lossdoctor.diagnose(y, proba)
    values = report.metrics.values
    assert values["log_loss"] == pytest.approx(
        -(math.log(0.7) + math.log(0.8) + math.log(0.6) + math.log(0.2)) / 4, rel=1e-12
    )
    assert values["accuracy"] == 0.75  # the last row's argmax is class 0
    assert report.metrics.confusion.tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]


# ---- JSON form --------------------------------------------------------------------------------


def test_to_dict_is_strict_json_and_round_trips(binary, multiclass):
    for y, p in (binary, multiclass):
        report = lossdoctor.diagnose(y, p)
        text = json.dumps(report.to_dict(), allow_nan=False)
        assert json.loads(text) == report.to_dict()
        assert json.loads(report.to_json()) == report.to_dict()


def test_single_class_labels_leave_roc_auc_undefined_with_a_reason_and_still_serialise():
    y = [1, 1, 1, 1]
    p = [0.2, 0.8, 0.9, 0.6]
    report = lossdoctor.diagnose(y, p)
    as_dict = report.to_dict()
    assert as_dict["metrics"]["roc_auc"] is None
    assert as_dict["undefined_metrics"]["roc_auc"]  # a non-empty reason
    json.dumps(as_dict, allow_nan=False)
    # sklearn cannot compute it either: it warns and returns nan
    with pytest.warns(skm._ranking.UndefinedMetricWarning):
        assert math.isnan(skm.roc_auc_score(y, p))
    # the defined ones are still sklearn's
    assert as_dict["metrics"]["accuracy"] == skm.accuracy_score(y, np.array(p) >= 0.5)
    assert as_dict["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=[0, 1]))


def test_two_class_labels_have_roc_auc_defined_and_no_reason():
    report = lossdoctor.diagnose([0, 1, 1, 1], [0.2, 0.8, 0.9, 0.6])
    assert report.to_dict()["metrics"]["roc_auc"] == 1.0
    assert "roc_auc" not in report.to_dict()["undefined_metrics"]


def test_multiclass_with_an_absent_class_has_undefined_macro_auc_and_a_warning(multiclass):
    y, proba = multiclass
    present = y != 3
    report = lossdoctor.diagnose(y[present], proba[present])
    as_dict = report.to_dict()
    assert as_dict["metrics"]["roc_auc"] is None
    assert "3" in as_dict["undefined_metrics"]["roc_auc"]
    json.dumps(as_dict, allow_nan=False)
    assert ("label-encoding", "warning") in {
        (f["check"], f["severity"]) for f in as_dict["findings"]
    }
    # the same data with every class present: defined, no such warning
    full = lossdoctor.diagnose(y, proba).to_dict()
    assert full["metrics"]["roc_auc"] is not None
    assert ("label-encoding", "warning") not in {
        (f["check"], f["severity"]) for f in full["findings"]
    }


# ---- exit codes -------------------------------------------------------------------------------


def imbalanced_data():
    """10 % positives and a model that ranks them well: a class-imbalance warning only."""
    rng = np.random.default_rng(22)
    y = np.r_[np.zeros(270, dtype=int), np.ones(30, dtype=int)]
    p = np.clip(np.where(y == 1, rng.beta(5, 2, 300), rng.beta(2, 5, 300)), 0.01, 0.99)
    return y, p


def logits_data():
    rng = np.random.default_rng(23)
    z = rng.normal(scale=3, size=200)
    y = (rng.uniform(size=200) < sigmoid(z)).astype(int)
    return y, z


@pytest.mark.parametrize(
    ("data", "worst", "expected"),
    [
        (imbalanced_data, Severity.WARNING, {"error": 0, "warning": 1, "info": 1, "never": 0}),
        (logits_data, Severity.ERROR, {"error": 1, "warning": 1, "info": 1, "never": 0}),
    ],
    ids=["warning", "error"],
)
def test_exit_code_follows_fail_on(data, worst, expected):
    y, p = data()
    for fail_on, code in expected.items():
        report = lossdoctor.diagnose(y, p, fail_on=fail_on)
        assert report.worst == worst
        assert report.exit_code == code, fail_on
        assert report.to_dict()["exit_code"] == code


def test_info_only_report_fails_only_on_info(multiclass):
    y, proba = multiclass
    worst = lossdoctor.diagnose(y, proba).worst
    assert worst == Severity.INFO  # the categorical/binary accuracy info of multi-class
    for fail_on, code in {"error": 0, "warning": 0, "info": 1, "never": 0}.items():
        assert lossdoctor.diagnose(y, proba, fail_on=fail_on).exit_code == code


def test_healthy_binary_has_nothing_at_warning_or_above_and_exits_0(binary):
    for fail_on in ("error", "warning"):
        report = lossdoctor.diagnose(*binary, fail_on=fail_on)
        assert [f for f in report.findings if f.severity >= Severity.WARNING] == []
        assert report.exit_code == 0


def test_unknown_fail_on_is_an_input_error(binary):
    with pytest.raises(lossdoctor.InputError, match="fail-on"):
        lossdoctor.diagnose(*binary, fail_on="sometimes")


# ---- rendering --------------------------------------------------------------------------------


def test_report_renders_with_rich_and_shows_every_finding_title():
    report = lossdoctor.diagnose(*logits_data())
    assert report.findings
    console = Console(file=StringIO(), width=120, color_system=None)
    console.print(report)
    text = console.file.getvalue()
    for finding in report.findings:
        assert finding.title in text
        assert finding.check in text
    assert "Metrics" in text
    assert "Confusion matrix" in text
    assert "\x1b[" not in text


def test_rendered_report_shows_the_metric_values(binary):
    report = lossdoctor.diagnose(*binary)
    console = Console(file=StringIO(), width=120, color_system=None)
    console.print(report)
    text = console.file.getvalue()
    for name in ("log_loss", "roc_auc", "accuracy"):
        assert name in text
        assert f"{report.metrics.values[name]:.4f}" in text


def test_notebook_mimebundle_has_plain_text_with_the_findings():
    report = lossdoctor.diagnose(*logits_data())
    bundle = report._repr_mimebundle_()
    assert set(bundle) >= {"text/plain", "text/html"}
    assert bundle["text/html"] == report._repr_html_()
    assert bundle["text/html"].startswith('<div class="lossdoctor">')
    for finding in report.findings:
        assert finding.title in bundle["text/plain"]
    assert "Metrics" in bundle["text/plain"]


def test_notebook_mimebundle_html_shows_the_same_report():
    report = lossdoctor.diagnose(*logits_data())
    html = report._repr_mimebundle_()["text/html"]
    for finding in report.findings:
        assert finding.title in html
    assert "Metrics" in html


# ---- options ----------------------------------------------------------------------------------


def test_from_logits_applies_sigmoid_even_to_scores_inside_0_1():
    """Logits that happen to lie in [0, 1] pass for probabilities unless declared."""
    rng = np.random.default_rng(24)
    z = rng.uniform(0, 1, 200)
    y = (rng.uniform(size=200) < sigmoid(4 * z - 2)).astype(int)
    declared = lossdoctor.diagnose(y, z, from_logits=True)
    inferred = lossdoctor.diagnose(y, z)
    assert (declared.transform, inferred.transform) == ("sigmoid", "none")
    assert_metrics(declared, sklearn_binary(y, sigmoid(z)))
    assert_metrics(inferred, sklearn_binary(y, z))
    assert declared.metrics.values["log_loss"] != pytest.approx(inferred.metrics.values["log_loss"])
    [declared_logits] = [f for f in declared.findings if f.check == "logits-vs-probabilities"]
    assert declared_logits.severity == Severity.INFO
    assert [f for f in inferred.findings if f.check == "logits-vs-probabilities"] == []


def test_from_logits_applies_softmax_to_multiclass_scores(multiclass):
    y, proba = multiclass
    logits = np.log(proba) + 5.0
    report = lossdoctor.diagnose(y, logits, from_logits=True)
    assert report.transform == "softmax"
    assert_metrics(report, sklearn_multiclass(y, softmax(logits)))


def test_from_logits_false_refuses_scores_outside_0_1():
    y, z = logits_data()
    with pytest.raises(lossdoctor.InputError, match="--from-probabilities"):
        lossdoctor.diagnose(y, z, from_logits=False)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_threshold_moves_the_decision_to_sklearns_at_that_threshold(binary, threshold):
    y, p = binary
    report = lossdoctor.diagnose(y, p, threshold=threshold)
    predicted = p >= threshold
    assert report.metrics.confusion.tolist() == skm.confusion_matrix(y, predicted).tolist()
    assert report.metrics.values["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert report.metrics.values["f1"] == pytest.approx(skm.f1_score(y, predicted))
    assert report.metrics.values["recall"] == pytest.approx(skm.recall_score(y, predicted))
    # threshold-free metrics do not move
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert report.to_dict()["threshold"] == threshold


def test_a_value_exactly_at_the_threshold_is_positive():
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.1, 0.3, 0.3, 0.9], threshold=0.3)
    assert report.metrics.confusion.tolist() == [[1, 1], [0, 2]]


STRING_LABELS = np.array(["cat", "dog", "dog", "cat", "cat", "dog", "cat", "dog", "cat", "cat"])
P_CAT = np.array([0.9, 0.2, 0.4, 0.7, 0.6, 0.3, 0.45, 0.8, 0.85, 0.55])  # P(cat)


def test_positive_label_names_the_class_the_scores_are_for():
    report = lossdoctor.diagnose(STRING_LABELS, P_CAT, positive_label="cat")
    is_cat = STRING_LABELS == "cat"
    predicted = np.where(P_CAT >= 0.5, "cat", "dog")
    assert report.class_labels[1] == "cat"
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(is_cat, P_CAT))
    assert report.metrics.values["log_loss"] == pytest.approx(skm.log_loss(is_cat, P_CAT))
    assert report.metrics.values["f1"] == pytest.approx(
        skm.f1_score(STRING_LABELS, predicted, pos_label="cat")
    )
    assert report.metrics.values["accuracy"] == skm.accuracy_score(STRING_LABELS, predicted)


def test_without_positive_label_strings_are_sorted_and_the_last_is_positive():
    """Without the option 'dog' (sorted last) is class 1, so P(cat) scores as a bad P(dog)."""
    report = lossdoctor.diagnose(STRING_LABELS, P_CAT)
    is_dog = STRING_LABELS == "dog"
    assert report.class_labels == ("cat", "dog")
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(is_dog, P_CAT))
    assert report.metrics.values["roc_auc"] < 0.5
    [info] = [f for f in report.findings if f.check == "label-encoding"]
    assert info.severity == Severity.INFO
    assert "cat -> 0" in info.message and "dog -> 1" in info.message


def test_positive_label_not_among_the_labels_is_an_input_error():
    with pytest.raises(lossdoctor.InputError, match="bird"):
        lossdoctor.diagnose(STRING_LABELS, P_CAT, positive_label="bird")


def test_positive_label_info_does_not_claim_sorted_order_for_an_unsorted_mapping():
    report = lossdoctor.diagnose(STRING_LABELS, P_CAT, positive_label="cat")
    [info] = [f for f in report.findings if f.check == "label-encoding"]
    assert "dog -> 0" in info.message and "cat -> 1" in info.message
    assert "sorted order" not in info.message


def test_gates_select_and_disable_work_as_on_the_command_line():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(11)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(int)
    auc = roc_auc_score(y, p)
    failed = lossdoctor.diagnose(y, p, gates=f"roc_auc >= {auc + 0.01}")
    [gate] = [f for f in failed.findings if f.check == "gate"]
    assert gate.severity is lossdoctor.Severity.ERROR
    assert failed.exit_code == 1
    assert not [
        f
        for f in lossdoctor.diagnose(y, p, gates=[f"roc_auc >= {auc - 0.01}"]).findings
        if f.check == "gate"
    ]
    only = lossdoctor.diagnose(2 * y - 1, p, select="logits-vs-probabilities")
    assert only.findings == ()
    silenced = lossdoctor.diagnose(2 * y - 1, p, disable=["label-encoding"])
    assert "label-encoding" not in {f.check for f in silenced.findings}
    with pytest.raises(lossdoctor.InputError, match="unknown check"):
        lossdoctor.diagnose(y, p, select="no-such-check")
