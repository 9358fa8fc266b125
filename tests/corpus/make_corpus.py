"""The corpus: predictions of real models, saved the ways users break them and keep them healthy.

Small models (logistic regression, gradient boosting, a one-layer MLP) are trained on
scikit-learn's bundled data sets (breast cancer, digits, wine, iris: nothing is downloaded) with
a fixed stratified split and fixed random states. Each builder below returns one `Sample`: the
held-out labels and predictions, possibly damaged the way a user damages them (logits saved as
probabilities, a second sigmoid, labels -1/+1, rounding, float16, ...). Nothing is written to the
repository: the corpus is rebuilt in memory at test time, identically on every run. Each model is
trained once per process (functools.cache); all of them together take a few seconds.

`save` writes a sample as Parquet, CSV, NPZ or Feather, for the tests that go through the CLI.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SEED = 0
TEST_SIZE = 0.3
KERAS_EPSILON = 1e-7  # what Keras clips probabilities to, re-derived here independently
DATASETS = {
    "breast_cancer": load_breast_cancer,  # binary: 0 malignant, 1 benign; 171 test rows
    "digits": load_digits,  # 10 classes, 540 test rows
    "wine": load_wine,  # 3 classes, 54 test rows
    "iris": load_iris,  # 3 classes, 45 test rows
}
BREAST_CANCER_NAMES = np.array(["malignant", "benign"])  # load_breast_cancer().target_names


# --- what a case hands to lossdoctor -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Sample:
    """Labels and predictions as a user saved them.

    `y_true`/`y_pred` are what `diagnose(y_true, y_pred)` receives. When `columns` is set the
    sample is a table instead (`diagnose(DataFrame)` or a file): the column names then carry
    meaning (a column named `logit` declares logits), and a 2-D column is a list column.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    columns: dict[str, np.ndarray] | None = None

    @property
    def rows(self) -> int:
        return len(self.y_true)

    def table(self) -> dict[str, np.ndarray]:
        """The columns of a file holding this sample: its own, or label/prob(_k) by convention."""
        if self.columns is not None:
            return dict(self.columns)
        return {**_named("label", self.y_true), **_named("prob", self.y_pred)}

    def permuted(self, order: np.ndarray) -> Sample:
        """The same rows in another order (the same permutation for every array)."""
        columns = None if self.columns is None else {k: v[order] for k, v in self.columns.items()}
        return replace(self, y_true=self.y_true[order], y_pred=self.y_pred[order], columns=columns)


def _named(stem: str, values: np.ndarray) -> dict[str, np.ndarray]:
    if values.ndim == 1:
        return {stem: values}
    return {f"{stem}_{k}": values[:, k] for k in range(values.shape[1])}


def frame(sample: Sample) -> Any:
    """The sample's table as a pandas DataFrame; a 2-D column becomes a column of lists."""
    import pandas as pd

    data = {k: list(v) if v.ndim == 2 else v for k, v in sample.table().items()}
    return pd.DataFrame(data)


def diagnose(sample: Sample, **options: Any):
    """lossdoctor's report on the sample: arrays, or the table as a DataFrame."""
    import lossdoctor

    if sample.columns is not None:
        return lossdoctor.diagnose(frame(sample), **options)
    return lossdoctor.diagnose(sample.y_true, sample.y_pred, **options)


# --- data and models ---------------------------------------------------------------------------


@functools.cache
def _data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """X, y of a bundled data set, or of a task derived from one."""
    if dataset in DATASETS:
        return DATASETS[dataset](return_X_y=True)
    X, digit = load_digits(return_X_y=True)
    if dataset == "nines-3pct":  # "is it a 9?", the 9s subsampled to 3 % of the rows
        others, nines = np.flatnonzero(digit != 9), np.flatnonzero(digit == 9)
        keep = np.random.default_rng(SEED).choice(nines, size=round(0.03 / 0.97 * len(others)))
        rows = np.sort(np.concatenate([others, np.unique(keep)]))
        return X[rows], (digit[rows] == 9).astype(np.int64)
    if dataset == "nines-4px":  # "is it a 9?" (10 %) from four central pixels: hopeless
        return X[:, [27, 28, 35, 36]], (digit == 9).astype(np.int64)
    raise KeyError(dataset)


@functools.cache
def split(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified 70/30 split: X_train, X_test, y_train, y_test."""
    X, y = _data(dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    return X_train, X_test, y_train, y_test


MODELS = {
    # Regularised as scikit-learn's defaults regularise: healthy, calibrated enough.
    "lr": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)),
    "gb": lambda: HistGradientBoostingClassifier(
        max_iter=30,
        learning_rate=0.2,
        max_leaf_nodes=8,
        max_bins=32,
        early_stopping=False,
        random_state=SEED,
    ),
    "mlp": lambda: make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=SEED),
    ),
    # Practically unregularised: separates the training set, huge logits, saturated outputs.
    "lr-unregularised": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(C=1e4, max_iter=10_000)
    ),
    # A mediocre but honest model: 8 principal components (digits: ~90 % right).
    "lr-weak": lambda: make_pipeline(
        StandardScaler(),
        PCA(n_components=8, svd_solver="full", random_state=SEED),
        LogisticRegression(C=1.0, max_iter=5000),
    ),
    # Weak but honest: two principal components of digits (~57 % right).
    "lr-2pc": lambda: make_pipeline(
        StandardScaler(),
        PCA(n_components=2, svd_solver="full", random_state=SEED),
        LogisticRegression(C=1.0, max_iter=5000),
    ),
    # One principal component of digits: several classes never win the argmax.
    "lr-1pc": lambda: make_pipeline(
        StandardScaler(),
        PCA(n_components=1, svd_solver="full", random_state=SEED),
        LogisticRegression(C=1.0, max_iter=5000),
    ),
    # scikit-learn's default gradient boosting (100 trees of depth 3): sharper than "gb".
    "gb-default": lambda: GradientBoostingClassifier(random_state=SEED),
    # A model that learned the base rate and nothing else.
    "prior": lambda: DummyClassifier(strategy="prior"),
}


@functools.cache
def fitted(model: str, dataset: str):
    """`model` trained on the training part of `dataset`, once per process."""
    X_train, _, y_train, _ = split(dataset)
    # One thread: OpenMP in gradient boosting is slower than serial on data this small, and
    # much slower still when other processes share the machine.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MODELS[model]().fit(X_train, y_train)


@functools.cache
def outputs(model: str, dataset: str, method: str = "predict_proba") -> tuple[np.ndarray, ...]:
    """Held-out labels (int64) and the model's `method` output (float64), read-only."""
    _, X_test, _, y_test = split(dataset)
    scores = np.asarray(getattr(fitted(model, dataset), method)(X_test), dtype=np.float64)
    labels = y_test.astype(np.int64)
    for array in (labels, scores):
        array.flags.writeable = False  # cached: a builder must copy before it damages
    return labels, scores


def _proba(model: str, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predict_proba; binary as the one column P(class 1), as users save it."""
    y, p = outputs(model, dataset)
    return y, (p[:, 1] if p.shape[1] == 2 else p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- healthy: a model's outputs, saved correctly -----------------------------------------------


def healthy(model: str, dataset: str, dtype: str = "float64") -> Sample:
    """predict_proba as it comes (binary: P(class 1)); labels as class indices."""
    y, p = _proba(model, dataset)
    return Sample(y, p.astype(dtype))


def two_softmax_columns(model: str, dataset: str) -> Sample:
    """A binary task saved as the N x 2 predict_proba (P(class 0), P(class 1))."""
    y, p = outputs(model, dataset)
    return Sample(y, p.copy())


def declared_logits(model: str, dataset: str) -> Sample:
    """decision_function, for diagnose(..., from_logits=True)."""
    y, z = outputs(model, dataset, "decision_function")
    return Sample(y, z.copy())


def logit_columns(model: str, dataset: str) -> Sample:
    """decision_function in a table whose column name declares it: logit, or logit_0..K-1."""
    y, z = outputs(model, dataset, "decision_function")
    return Sample(y, z.copy(), columns={"label": y, **_named("logit", z.astype(np.float32))})


def prob_columns(model: str, dataset: str) -> Sample:
    """A table: label and float32 prob_0 .. prob_{K-1} (one column per class)."""
    y, p = outputs(model, dataset)
    p = p.astype(np.float32)
    return Sample(y, p, columns={"label": y, **_named("prob", p)})


def list_column(model: str, dataset: str) -> Sample:
    """A table: label and one list column `probs` holding each row's K probabilities."""
    y, p = outputs(model, dataset)
    p = p.astype(np.float32)
    return Sample(y, p, columns={"label": y, "probs": p})


def one_hot_labels(model: str, dataset: str) -> Sample:
    """Multi-class labels as one-hot rows (Keras' to_categorical), float32 like Keras keeps them."""
    y, p = outputs(model, dataset)
    return Sample(np.eye(p.shape[1], dtype=np.float32)[y], p.copy())


def string_labels(model: str, dataset: str = "breast_cancer") -> Sample:
    """Breast cancer labels as their names ("malignant", "benign"); P(benign) saved.

    Sorted, "benign" comes first, so the positive class must be named: positive_label="benign".
    """
    y, p = _proba(model, dataset)
    labels = BREAST_CANCER_NAMES[y]
    return Sample(labels, p.copy(), columns={"label": labels, "prob": p.copy()})


# Class names whose sorted order is not the order of the columns.
CLASS_NAMES = {
    "wine": np.array(["low", "medium", "high"]),
    "digits": np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    ),
}


def class_names(model: str, dataset: str) -> Sample:
    """Labels as names listed in the order of the predict_proba columns (a tokenizer's id2label,
    model.classes_ of an encoder fitted in another order); sorted, they name other columns."""
    y, p = outputs(model, dataset)
    labels = CLASS_NAMES[dataset][y]
    return Sample(labels, p.copy(), columns={"label": labels, **_named("prob", p)})


def columns_named_by_classes(model: str, dataset: str) -> Sample:
    """DataFrame(model.predict_proba(X), columns=model.classes_) beside a `y` column, for a
    model fitted on text labels: the columns are named by the classes, in sorted order."""
    y, p = outputs(model, dataset)
    labels = CLASS_NAMES[dataset][y]
    order = np.argsort(CLASS_NAMES[dataset])  # model.classes_ is sorted
    columns = {str(CLASS_NAMES[dataset][k]): p[:, k] for k in order}
    return Sample(labels, p.copy(), columns={**columns, "y": labels})


def unnamed_prediction_column(model: str, dataset: str) -> Sample:
    """A label column and one prediction column no rule names (`model_output`)."""
    y, p = _proba(model, dataset)
    return Sample(y, p.copy(), columns={"y": y, "model_output": p.copy()})


@functools.cache
def multilabel(model: str = "lr", dataset: str = "digits") -> Sample:
    """Digits as three yes/no questions (even? above 4? a loop, i.e. 0, 6, 8, 9?), one sigmoid
    model per question: multi-hot labels and independent probabilities, correct by design."""
    X_train, X_test, digit_train, digit_test = split(dataset)
    questions = (lambda d: d % 2 == 0, lambda d: d > 4, lambda d: np.isin(d, [0, 6, 8, 9]))
    labels, probs = [], []
    for question in questions:
        with threadpool_limits(limits=1):
            estimator = MODELS[model]().fit(X_train, question(digit_train).astype(np.int64))
        probs.append(estimator.predict_proba(X_test)[:, 1])
        labels.append(question(digit_test).astype(np.int64))
    sample = Sample(np.column_stack(labels), np.column_stack(probs))
    for array in (sample.y_true, sample.y_pred):
        array.flags.writeable = False  # cached
    return sample


# --- broken: the mistakes of issue 5 ------------------------------------------------------------


def logits_as_probabilities(model: str, dataset: str) -> Sample:
    """decision_function saved where probabilities belong (no from_logits, a column `prob`)."""
    y, z = outputs(model, dataset, "decision_function")
    return Sample(y, z.copy())


def other_class_column(model: str, dataset: str) -> Sample:
    """predict_proba(X)[:, 0] saved as P(class 1): the probability of the other class."""
    y, p = outputs(model, dataset)
    return Sample(y, p[:, 0].copy())


def log_probabilities(model: str, dataset: str) -> Sample:
    """predict_log_proba saved as probabilities (binary: the one column log P(class 1))."""
    y, log_p = outputs(model, dataset, "predict_log_proba")
    return Sample(y, (log_p[:, 1] if log_p.shape[1] == 2 else log_p).copy())


def double_sigmoid(model: str, dataset: str) -> Sample:
    """A sigmoid applied to probabilities: every score in [0.5, 0.731]."""
    y, p = _proba(model, dataset)
    return Sample(y, _sigmoid(p))


def double_softmax(model: str, dataset: str) -> Sample:
    """A softmax applied to the softmax output of a multi-class model."""
    y, p = outputs(model, dataset)
    return Sample(y, _softmax(p))


def independent_sigmoids(model: str, dataset: str) -> Sample:
    """Multi-class logits through a sigmoid per class instead of one softmax: rows sum to != 1."""
    y, z = outputs(model, dataset, "decision_function")
    return Sample(y, _sigmoid(z))


def labels_minus_one_plus_one(model: str, dataset: str = "breast_cancer") -> Sample:
    """Binary labels saved as -1/+1 (an SVM habit)."""
    y, p = _proba(model, dataset)
    return Sample(2 * y - 1, p.copy())


def labels_one_to_k(model: str, dataset: str) -> Sample:
    """Multi-class labels 1..K (R, MATLAB, a 1-based annotation file) against K columns."""
    y, p = outputs(model, dataset)
    return Sample(y + 1, p.copy())


def rounded(model: str, dataset: str) -> Sample:
    """Probabilities rounded to 0/1 on save (np.round): the wrong rows give their class 0."""
    y, p = _proba(model, dataset)
    return Sample(y, np.round(p))


def predicted_labels(model: str, dataset: str) -> Sample:
    """clf.predict(X) saved as the prediction: class indices, 0/1 for a binary problem."""
    y, labels = outputs(model, dataset, "predict")
    return Sample(y, labels.copy())


def one_hot_predictions(model: str, dataset: str) -> Sample:
    """clf.predict(X) one-hot encoded into one column per class, as a Keras argmax pipeline."""
    y, labels = outputs(model, dataset, "predict")
    return Sample(y, np.eye(len(np.unique(y)))[labels.astype(np.int64)])


def float16(model: str, dataset: str) -> Sample:
    """A confident model's probabilities through float16: exact 0 and 1, some of them wrong."""
    y, p = _proba(model, dataset)
    return Sample(y, p.astype(np.float16))


def float32_sigmoid(model: str, dataset: str) -> Sample:
    """A sigmoid computed in float32 over large logits: 1 - p rounds to exactly 0."""
    y, z = outputs(model, dataset, "decision_function")
    z32 = z.astype(np.float32)
    with np.errstate(over="ignore"):
        return Sample(y, (np.float32(1) / (np.float32(1) + np.exp(-z32))).astype(np.float32))


def imbalanced(model: str, dataset: str = "nines-3pct") -> Sample:
    """A derived task with about 3 % positives (the 9s of digits, subsampled)."""
    return healthy(model, dataset)


def constant(model: str = "prior", dataset: str = "breast_cancer") -> Sample:
    """A model that learned the base rate: the same probabilities for every row."""
    return healthy(model, dataset)


def flipped_labels(model: str, dataset: str, share: float = 0.15) -> Sample:
    """A good model's predictions, `share` of the labels flipped to another class at random."""
    y, p = _proba(model, dataset)
    rng = np.random.default_rng(SEED)
    rows = rng.choice(len(y), size=round(share * len(y)), replace=False)
    n_classes = 2 if p.ndim == 1 else p.shape[1]
    noisy = y.copy()
    noisy[rows] = (y[rows] + rng.integers(1, n_classes, size=len(rows))) % n_classes
    return Sample(noisy, p.copy())


def sharpened(model: str, dataset: str, factor: float = 4.0) -> Sample:
    """Logits multiplied by `factor` before the softmax/sigmoid: an overconfident model."""
    y, z = outputs(model, dataset, "decision_function")
    return Sample(y, _sigmoid(factor * z) if z.ndim == 1 else _softmax(factor * z))


def with_non_finite(model: str, dataset: str, nan: int = 4, inf: int = 1) -> Sample:
    """Healthy probabilities with `nan` rows of NaN and `inf` rows of +inf."""
    y, p = _proba(model, dataset)
    p = p.copy()
    rows = np.random.default_rng(SEED).choice(len(y), size=nan + inf, replace=False)
    p[rows[:nan]] = np.nan
    p[rows[nan:]] = np.inf
    return Sample(y, p)


# --- the numbers a framework would have printed, computed independently of lossdoctor -----------


def keras_bce_on_logits(sample: Sample) -> float:
    """BinaryCrossentropy(from_logits=False) on logits: clipped into [1e-7, 1 - 1e-7]."""
    p = np.clip(sample.y_pred.astype(np.float64), KERAS_EPSILON, 1 - KERAS_EPSILON)
    y = sample.y_true
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def summed_log_loss(sample: Sample) -> float:
    """reduction='sum': the cross-entropy summed over rows, not averaged."""
    y, p = sample.y_true, sample.y_pred.astype(np.float64)
    q = np.where(y == 1, p, 1 - p) if p.ndim == 1 else p[np.arange(len(y)), y]
    return float(-np.sum(np.log(np.clip(q, KERAS_EPSILON, 1))))


def mean_log_loss(sample: Sample) -> float:
    """sklearn.metrics.log_loss of the sample: what a correct pipeline prints."""
    from sklearn.metrics import log_loss

    p = sample.y_pred
    classes = 2 if p.ndim == 1 else p.shape[1]
    return float(log_loss(sample.y_true, p, labels=list(range(classes))))


def keras_binary_accuracy(sample: Sample) -> float:
    """keras.metrics.BinaryAccuracy on one-hot labels: every cell, p > 0.5."""
    return float(np.mean((sample.y_pred > 0.5) == (sample.y_true == 1)))


def categorical_accuracy(sample: Sample) -> float:
    y = sample.y_true if sample.y_true.ndim == 1 else sample.y_true.argmax(axis=1)
    return float(np.mean(sample.y_pred.argmax(axis=1) == y))


def accuracy_against_raw_labels(sample: Sample) -> float:
    """Binary accuracy with -1/+1 labels compared as given to 0/1 predictions."""
    return float(np.mean((sample.y_pred >= 0.5).astype(np.int64) == sample.y_true))


# --- files, for the tests through the CLI -------------------------------------------------------

FORMATS = ("parquet", "csv", "npz", "feather")


def save(sample: Sample, directory: Path, fmt: str, name: str = "preds") -> Path:
    """Write the sample as a user would: a table (Parquet, CSV, Feather) or y_true/y_pred (NPZ)."""
    path = directory / f"{name}.{fmt}"
    if fmt == "npz":
        np.savez(path, y_true=sample.y_true, y_pred=sample.y_pred)
        return path
    columns = sample.table()
    if fmt == "csv":
        if any(v.ndim == 2 for v in columns.values()):
            raise ValueError("a CSV file has no list columns")
        header = ",".join(columns)
        rows = zip(*(map(_cell, v) for v in columns.values()), strict=True)
        path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), "utf-8")
        return path
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    def arrow(values: np.ndarray) -> pa.Array:
        if values.ndim == 2:
            flat = pa.array(values.reshape(-1))
            return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        return pa.array(values.astype(np.float32) if values.dtype == np.float16 else values)

    table = pa.table({k: arrow(v) for k, v in columns.items()})
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "feather":
        feather.write_feather(table, path)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return path


def _cell(value: Any) -> str:
    """Exact text for a number (repr round-trips), the text itself for a label name."""
    if isinstance(value, np.floating):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)
