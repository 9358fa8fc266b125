"""Label metrics from confusion counts: precision, recall, F1, accuracy, MCC, as scikit-learn's.

Everything here reads counts (or sums of sample weights), never rows: a confusion matrix or a
threshold's true and false positives, merged from any number of batches.
"""

import numpy as np

from lossdoctor.metrics.results import ClassMetrics, ThresholdRow


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0.0 where the denominator is 0 (sklearn's zero_division=0)."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def precision_recall_f1(
    tp: np.ndarray | int, n_predicted: np.ndarray | int, support: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 = 2tp / (2tp + fp + fn), each 0.0 when undefined."""
    return ratio(tp, n_predicted), ratio(tp, support), ratio(2 * tp, n_predicted + support)


def _matthews(confusion: np.ndarray) -> float:
    """Multi-class MCC by sklearn's formula (float64 sums), 0.0 when the denominator is 0."""
    t_sum = confusion.sum(axis=1, dtype=np.float64)
    p_sum = confusion.sum(axis=0, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = np.trace(confusion, dtype=np.float64) * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    denominator = cov_ypyp * cov_ytyt
    return 0.0 if denominator == 0 else float(cov_ytyp / np.sqrt(denominator))


def confusion_scores(confusion: np.ndarray) -> tuple[dict[str, float], tuple[np.ndarray, ...]]:
    """accuracy, balanced_accuracy, f1_macro and mcc of a K×K confusion, and per-class P/R/F1.

    balanced accuracy averages recall over the classes in y only; f1_macro averages over the
    classes in y or in the predictions: sklearn's default labels, not all K.
    """
    tp = np.diag(confusion)
    support, n_predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    precision, recall, f1 = precision_recall_f1(tp, n_predicted, support)
    scores = {
        "accuracy": float(tp.sum() / support.sum()),
        "balanced_accuracy": float(np.mean(recall[support > 0])),
        "f1_macro": float(np.mean(f1[(support > 0) | (n_predicted > 0)])),
        "mcc": _matthews(confusion),
    }
    return scores, (precision, recall, f1, support)


def stacked_scores(confusions: np.ndarray) -> dict[str, np.ndarray]:
    """confusion_scores' accuracy, balanced_accuracy, f1_macro and mcc, and each class's F1
    ("f1", shape (..., K)), of a stack of K×K confusions (..., K, K) at once: the bootstrap's
    replicates. A confusion of no rows gives NaN."""
    confusions = np.asarray(confusions, dtype=np.float64)
    tp = np.diagonal(confusions, axis1=-2, axis2=-1)
    return count_scores(tp, confusions.sum(axis=-1), confusions.sum(axis=-2))


def count_scores(
    tp: np.ndarray, support: np.ndarray, n_predicted: np.ndarray
) -> dict[str, np.ndarray]:
    """stacked_scores from each class's right predictions, rows and predictions (..., K): all
    a confusion's scores read, without its K×K cells."""
    _, recall, f1 = precision_recall_f1(tp, n_predicted, support)
    n = support.sum(axis=-1)
    in_y, in_either = support > 0, (support > 0) | (n_predicted > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = tp.sum(axis=-1) * n - np.einsum("...k,...k->...", support, n_predicted)
        spread = (n**2 - np.einsum("...k,...k->...", n_predicted, n_predicted)) * (
            n**2 - np.einsum("...k,...k->...", support, support)
        )
        mcc = np.where(spread == 0, 0.0, covariance / np.sqrt(spread))
        scores = {
            "accuracy": tp.sum(axis=-1) / n,
            "balanced_accuracy": (recall * in_y).sum(axis=-1) / in_y.sum(axis=-1),
            "f1_macro": (f1 * in_either).sum(axis=-1) / in_either.sum(axis=-1),
            "mcc": np.where(n > 0, mcc, np.nan),
            "f1": np.where(n[..., None] > 0, f1, np.nan),
        }
    return scores


def class_table(
    prf_support: tuple[np.ndarray, ...], aucs: list, aps: list
) -> tuple[ClassMetrics, ...]:
    precision, recall, f1, support = prf_support
    return tuple(
        ClassMetrics(
            k, float(precision[k]), float(recall[k]), float(f1[k]), support[k].item(), auc, ap
        )
        for k, (auc, ap) in enumerate(zip(aucs, aps, strict=True))
    )


def threshold_row(
    threshold: float,
    tp: int | float,
    fp: int | float,
    n_pos: int | float,
    n_neg: int | float,
    best_f1: bool = False,
) -> ThresholdRow:
    tp, fp = np.asarray(tp).item(), np.asarray(fp).item()
    fn, tn = n_pos - tp, n_neg - fp
    precision, recall, f1 = (float(v) for v in precision_recall_f1(tp, tp + fp, n_pos))
    accuracy = (tp + tn) / (n_pos + n_neg)
    return ThresholdRow(float(threshold), accuracy, precision, recall, f1, tp, fp, fn, tn, best_f1)
