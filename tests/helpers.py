"""Small wrappers the tests share: a whole array as one batch, a table diagnosed in memory, and
the Keras and scikit-learn formulas the package computes from its totals, spelled out on
arrays."""

import numpy as np

from lossdoctor.engines.local import InMemory
from lossdoctor.io import Predictions
from lossdoctor.losses import as_float, cut_in_dtype, row_losses
from lossdoctor.metrics import Metrics, metric_totals, metrics_from
from lossdoctor.pipeline import diagnose
from lossdoctor.report import Report
from lossdoctor.settings import Settings


def diagnose_predictions(predictions: Predictions, settings: Settings | None = None) -> Report:
    """The report of a table already read: the in-memory engine's one batch."""
    return diagnose(InMemory(predictions), settings or Settings())


def log_loss(q: np.ndarray, eps: float | None = None) -> float:
    """Mean cross-entropy of the true-class probabilities q; inf if eps=0 and some q is 0."""
    return float(np.mean(row_losses(q, eps)))


def keras_binary_accuracy(y_onehot: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> float:
    """Share of the N×K cells where (proba > threshold) equals y, as keras BinaryAccuracy."""
    proba = as_float(proba)
    hits = (proba > cut_in_dtype(threshold, proba)) == np.asarray(y_onehot, dtype=bool)
    return float(np.mean(hits))


def categorical_accuracy(y_index: np.ndarray, proba: np.ndarray) -> float:
    """Share of rows whose argmax is the true index, as keras CategoricalAccuracy."""
    return float(np.mean(np.argmax(proba, axis=1) == np.asarray(y_index)))


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All binary numbers: p = P(class 1), predicted positive when p >= threshold (p's dtype)."""
    return metrics_from(metric_totals("binary", y, p, threshold))


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> Metrics:
    """All multi-class numbers: proba is N×K (K >= 2), the prediction is the first argmax."""
    return metrics_from(metric_totals("multiclass", y, proba))


def multilabel_metrics(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> Metrics:
    """All multi-label numbers: Y and proba are N×K, each cell predicted when p >= threshold."""
    return metrics_from(metric_totals("multilabel", y, proba, threshold))
