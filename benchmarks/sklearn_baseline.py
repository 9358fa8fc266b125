"""The script a user writes to get lossdoctor's numbers with pandas and scikit-learn.

    python benchmarks/sklearn_baseline.py FILE

FILE is a Parquet (or CSV) file with a `label` column and either one `prob` column (binary:
P(class 1)) or `prob_0..prob_{K-1}` (multi-class). It prints the numbers as JSON, under the
names lossdoctor's JSON report uses, so the benchmark can check that both agree.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    matthews_corrcoef,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def binary(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict:
    pred = (p >= threshold).astype(np.int8)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, pred, average="binary", zero_division=0
    )
    result = {
        "log_loss": log_loss(y, p),
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f1_macro": f1_score(y, pred, average="macro", zero_division=0),
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "brier": brier_score_loss(y, p),
        "mcc": matthews_corrcoef(y, pred),
        "confusion_matrix": confusion_matrix(y, pred).tolist(),
    }
    table = []
    for t in THRESHOLDS:
        pred_t = (p >= t).astype(np.int8)
        precision, recall, f1, _ = precision_recall_fscore_support(
            y, pred_t, average="binary", zero_division=0
        )
        table.append(
            {
                "threshold": t,
                "accuracy": accuracy_score(y, pred_t),
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    # The best-F1 threshold, from the precision-recall curve.
    precision, recall, cuts = precision_recall_curve(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1_curve = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    best = int(np.argmax(f1_curve))
    table.append(
        {
            "threshold": float(cuts[best]),
            "precision": float(precision[best]),
            "recall": float(recall[best]),
            "f1": float(f1_curve[best]),
            "best_f1": True,
        }
    )
    result["thresholds"] = table
    return result


def multiclass(y: np.ndarray, proba: np.ndarray) -> dict:
    n_classes = proba.shape[1]
    pred = proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, zero_division=0)
    return {
        "log_loss": log_loss(y, proba, labels=range(n_classes)),
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "f1_macro": f1_score(y, pred, average="macro", zero_division=0),
        "roc_auc": roc_auc_score(y, proba, multi_class="ovr"),
        "pr_auc": average_precision_score(label_binarize(y, classes=range(n_classes)), proba),
        "mcc": matthews_corrcoef(y, pred),
        "per_class": {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
        },
        "confusion_matrix": confusion_matrix(y, pred).tolist(),
    }


def main(path: str) -> int:
    df = pd.read_csv(path) if path.endswith(".csv") else pd.read_parquet(path)
    y = df["label"].to_numpy()
    prob_columns = sorted(
        (c for c in df.columns if c.startswith("prob_")), key=lambda c: int(c.split("_")[1])
    )
    if prob_columns:
        result = multiclass(y, df[prob_columns].to_numpy())
    else:
        result = binary(y, df["prob"].to_numpy())
    print(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
