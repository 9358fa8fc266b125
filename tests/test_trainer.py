"""Hugging Face Trainer outputs, saved as `trainer.predict()` returns them: `predictions` and
`label_ids` in an .npz (or one .npy each), -100 where a token is not scored. Metrics equal
scikit-learn's on the tokens left after the mask."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

import lossdoctor
from lossdoctor import Severity
from lossdoctor.cli import cli


def softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z.astype(np.float64)))


@pytest.fixture
def sequence_classification(rng):
    """PredictionOutput of a 4-class text classifier: float32 logits, int64 label ids."""
    logits = (rng.normal(size=(300, 4)) * 2).astype(np.float32)
    labels = np.array([rng.choice(4, p=row) for row in softmax(logits)])
    return logits, labels


@pytest.fixture
def token_classification(rng):
    """(N, T, K) logits and (N, T) labels; sequences padded to T with -100, as the Trainer
    pads across batches (logits too), and sub-word tokens labelled -100 inside sequences."""
    n, t, k = 60, 16, 5
    logits = (rng.normal(size=(n, t, k)) * 2).astype(np.float32)
    labels = np.argmax(logits + rng.gumbel(size=(n, t, k)), axis=2)
    padding = np.arange(t)[None, :] >= rng.integers(4, t + 1, n)[:, None]
    sub_words = rng.uniform(size=(n, t)) < 0.15
    labels[padding | sub_words] = -100
    logits[padding] = -100
    return logits, labels


def titles(report, severity=None):
    return [f.title for f in report.findings if severity is None or f.severity >= severity]


def test_sequence_classification_npz_is_declared_logits(tmp_path, sequence_classification):
    logits, labels = sequence_classification
    np.savez(tmp_path / "eval.npz", predictions=logits, label_ids=labels)
    report = lossdoctor.diagnose(str(tmp_path / "eval.npz"))
    assert (report.prediction_kind, report.kind_source) == (
        "logits",
        "the Hugging Face Trainer's predictions",
    )
    [declared] = [f for f in report.findings if f.check == "logits-vs-probabilities"]
    assert declared.severity is Severity.INFO
    proba = softmax(logits)
    values = report.metrics.values
    assert values["log_loss"] == pytest.approx(skm.log_loss(labels, proba), rel=1e-9)
    assert values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(labels, proba, multi_class="ovr"), rel=1e-12
    )
    assert titles(report, Severity.WARNING) == []


def test_token_classification_reads_tokens_and_masks_minus_100(tmp_path, token_classification):
    logits, labels = token_classification
    np.savez(tmp_path / "eval.npz", predictions=logits, label_ids=labels)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "eval.npz"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    kept = labels != -100
    y, proba = labels[kept], softmax(logits[kept])
    assert report["input"]["unit"] == "tokens"
    assert report["input"]["rows"] == labels.size
    assert report["input"]["rows_used"] == kept.sum()
    metrics = report["metrics"]
    assert metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    assert metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    assert metrics["f1_macro"] == pytest.approx(
        skm.f1_score(y, proba.argmax(axis=1), average="macro")
    )
    assert report["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, proba.argmax(1)).tolist()
    [ignored] = [f for f in report["findings"] if "-100" in f["title"]]
    assert ignored["severity"] == "info"
    assert ignored["evidence"]["rows_ignored"] == (~kept).sum()
    assert not [f for f in report["findings"] if f["severity"] != "info"]


def test_the_report_says_tokens(tmp_path, token_classification):
    logits, labels = token_classification
    np.savez(tmp_path / "eval.npz", predictions=logits, label_ids=labels)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "eval.npz")])
    left_out = (labels == -100).sum()
    assert f"{labels.size:,} tokens ({left_out:,} left out)" in result.stdout
    assert "Tokens labelled -100 left out" in result.stdout
    markdown = CliRunner().invoke(
        cli, ["check", str(tmp_path / "eval.npz"), "--format", "markdown"]
    )
    assert f"{labels.size:,} tokens" in markdown.stdout


def test_binary_token_logits_of_shape_n_t(tmp_path, rng):
    logits = (rng.normal(size=(50, 20)) * 2).astype(np.float32)
    labels = (rng.uniform(size=(50, 20)) < sigmoid(logits)).astype(np.int64)
    labels[:, 15:] = -100
    np.savez(tmp_path / "eval.npz", predictions=logits, label_ids=labels)
    report = lossdoctor.diagnose(str(tmp_path / "eval.npz"))
    assert report.task == "binary"
    assert report.input.unit == "tokens"
    kept = labels != -100
    y, p = labels[kept], sigmoid(logits[kept])
    assert report.metrics.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert report.metrics.values["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-9)


def test_multi_hot_labels_of_the_same_shape_stay_multilabel(rng):
    proba = rng.uniform(size=(200, 4))
    labels = (rng.uniform(size=(200, 4)) < proba).astype(int)
    report = lossdoctor.diagnose(labels, proba)
    assert (report.task, report.input.unit) == ("multilabel", "rows")


def test_npy_pairs_keep_the_trainers_names(tmp_path, token_classification):
    logits, labels = token_classification
    np.save(tmp_path / "predictions.npy", logits)
    np.save(tmp_path / "label_ids.npy", labels)
    labels_file = ["--labels", str(tmp_path / "label_ids.npy")]
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path / "predictions.npy"), *labels_file, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["prediction_kind_source"] == "the Hugging Face Trainer's predictions"
    kept = labels != -100
    assert report["metrics"]["log_loss"] == pytest.approx(
        skm.log_loss(labels[kept], softmax(logits[kept])), rel=1e-9
    )


def test_argmax_ids_from_preprocess_logits_are_not_declared_logits(tmp_path, rng):
    labels = rng.integers(0, 2, 200)
    ids = np.where(rng.uniform(size=200) < 0.9, labels, 1 - labels)
    np.savez(tmp_path / "eval.npz", predictions=ids, label_ids=labels)
    report = lossdoctor.diagnose(str(tmp_path / "eval.npz"))
    assert report.kind_source != "the Hugging Face Trainer's predictions"


def test_minus_100_in_flat_labels_is_an_info_not_an_error(rng):
    labels = rng.integers(0, 3, 300)
    proba = softmax(rng.normal(size=(300, 3)) + 3 * np.eye(3)[labels])
    labels[::7] = -100
    report = lossdoctor.diagnose(labels, proba)
    kept = labels != -100
    assert report.input.rows_used == kept.sum()
    assert report.metrics.values["log_loss"] == pytest.approx(
        skm.log_loss(labels[kept], proba[kept]), rel=1e-9
    )
    encoding = [f for f in report.findings if f.check == "label-encoding"]
    assert [f.severity for f in encoding] == [Severity.INFO]
    assert encoding[0].evidence["rows_ignored"] == (~kept).sum()
    assert encoding[0].evidence["values"]["-100"] == (~kept).sum()


@pytest.mark.parametrize("encoding", ["minus-one-plus-one", "classes-given"])
def test_minus_100_is_ignored_whatever_the_label_encoding(rng, encoding):
    y = rng.integers(0, 2, 400)
    p = np.clip(0.7 * y + 0.15 + rng.normal(0, 0.1, 400), 0.01, 0.99)
    labels = 2 * y - 1 if encoding == "minus-one-plus-one" else y.copy()
    labels[::9] = -100
    options = {"classes": ["0", "1"]} if encoding == "classes-given" else {}
    report = lossdoctor.diagnose(labels, p, **options)
    kept = labels != -100
    assert report.input.rows_used == kept.sum()
    assert report.metrics.values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y[kept], p[kept]), rel=1e-12
    )
    evidence = [f.evidence for f in report.findings if f.check == "label-encoding"]
    assert all(e.get("rows_ignored", (~kept).sum()) == (~kept).sum() for e in evidence)
    assert not [f for f in report.findings if f.title == "Labels outside the prediction columns"]
