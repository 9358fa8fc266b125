"""Write lossdoctor's sample prediction files, healthy and broken, into sample_data/.

Each file holds the held-out predictions of a small scikit-learn model trained on one of
scikit-learn's bundled data sets (breast cancer, digits, wine, iris: nothing is downloaded),
saved the way users save them: Parquet, CSV, Feather, NPZ or NPY. The healthy files must pass
`lossdoctor check` without a single problem; each broken file reproduces one classic mistake
(logits saved as probabilities, log-probabilities, a double sigmoid, a missing softmax, -1/+1 or
1..K labels, class imbalance, saturated probabilities, Keras binary accuracy on a multi-class
problem, NaN predictions) and must trigger the one check named in SAMPLES. They serve as the demo
(`make run`), as fixtures for the end-to-end tests and as examples in the docs. Every random
state is fixed and every writer avoids timestamps, so a rerun rewrites each file byte for byte:
regenerate them all with `make samples`.
"""

from __future__ import annotations

import functools
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

# Sample file -> what it holds and the check it must trigger ("none" for the healthy files).
# main() writes them in this order; the writer of "a_b.ext" is the function sample_a_b_ext.
SAMPLES: dict[str, str] = {
    "healthy_binary.parquet": "breast cancer, regularised logistic regression: label, prob [none]",
    "healthy_multiclass.parquet": "digits (10 classes), regularised logistic regression: "
    "label, prob_0..prob_9 [none]",
    "healthy_binary.csv": "the predictions of healthy_binary.parquet as CSV [none]",
    "healthy_multiclass.npz": "wine (3 classes): y_true labels, y_pred probabilities [none]",
    "healthy_binary_declared_logits.parquet": "breast cancer decision_function in a column "
    "named logit [none, at most an info]",
    "logits_saved_as_probabilities.parquet": "breast cancer decision_function in a column "
    "named prob [logits-vs-probabilities error]",
    "log_probabilities.parquet": "wine predict_log_proba saved as prob_0..prob_2 "
    "[logits-vs-probabilities error]",
    "double_sigmoid.parquet": "breast cancer sigmoid(predict_proba[:, 1]) saved as prob "
    "[logits-vs-probabilities warning]",
    "missing_softmax.parquet": "digits one-vs-rest sigmoid(decision_function) per class, rows "
    "do not sum to 1 [logits-vs-probabilities warning]",
    "labels_minus_one_plus_one.csv": "healthy breast cancer probabilities, labels -1/+1 "
    "[label-encoding error]",
    "labels_one_to_k.csv": "wine probabilities prob_0..prob_2, labels 1..3 [label-encoding error]",
    "imbalanced.parquet": "digits as 'is it a 9?' (10 % positives), a 4-pixel model no better "
    "than the majority baseline [class-imbalance warning]",
    "saturated.parquet": "breast cancer, unregularised model, probabilities through float16: "
    "exact 0 and 1, confidently wrong rows [probability-saturation error]",
    "keras_onehot_multiclass.npz": "digits, mediocre model: one-hot y_true, y_pred "
    "probabilities; Keras binary accuracy ~0.98 vs accuracy ~0.90 [accuracy-mismatch warning]",
    "non_finite.csv": "healthy breast cancer probabilities with 3 NaN and 1 inf "
    "[non-finite-values error]",
    "healthy_multiclass.npy": "iris (3 classes) predict_proba; labels in "
    "healthy_multiclass_labels.npy [none]",
    "healthy_binary.feather": "the predictions of healthy_binary.parquet as Feather [none]",
    "healthy_multiclass_list.parquet": "the predictions of healthy_multiclass.parquet in one "
    "list column probs [none]",
}

SEED = 0
TEST_SIZE = 0.3
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # a fixed member date keeps the NPZ files byte-stable

Columns = dict[str, np.ndarray]


# --- data and models ---------------------------------------------------------------------------


@functools.cache
def _split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/test split of a bundled data set: X_train, X_test, y_train, y_test."""
    loader = {
        "breast_cancer": load_breast_cancer,
        "digits": load_digits,
        "wine": load_wine,
        "iris": load_iris,
    }[name]
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    return X_train, X_test, y_train, y_test


def _logistic(C: float) -> LogisticRegression:
    """A logistic regression that converges on these small data sets."""
    return LogisticRegression(C=C, max_iter=10_000, random_state=SEED)


@functools.cache
def _fit(name: str, C: float) -> Pipeline:
    """StandardScaler + LogisticRegression(C) fitted on the training part of a data set."""
    X_train, _, y_train, _ = _split(name)
    return make_pipeline(StandardScaler(), _logistic(C)).fit(X_train, y_train)


def _healthy_binary() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer held-out labels and float32 P(class 1 = benign), C=0.05."""
    _, X_test, _, y_test = _split("breast_cancer")
    prob = _fit("breast_cancer", 0.05).predict_proba(X_test)[:, 1].astype(np.float32)
    return y_test.astype(np.int64), prob


def _healthy_digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits held-out labels and float32 class probabilities (N x 10), C=1 (well calibrated)."""
    _, X_test, _, y_test = _split("digits")
    return y_test.astype(np.int64), _fit("digits", 1.0).predict_proba(X_test).astype(np.float32)


def _healthy_wine() -> tuple[np.ndarray, np.ndarray]:
    """Wine held-out labels and float32 class probabilities (N x 3), C=0.1."""
    _, X_test, _, y_test = _split("wine")
    return y_test.astype(np.int64), _fit("wine", 0.1).predict_proba(X_test).astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _prob_columns(probs: np.ndarray) -> Columns:
    return {f"prob_{k}": probs[:, k] for k in range(probs.shape[1])}


def _true_class(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The probability each row gives its true class (binary: prob is P(class 1))."""
    if probs.ndim == 1:
        return np.where(labels == 1, probs, 1 - probs)
    return probs[np.arange(len(labels)), labels]


def _describe(labels: np.ndarray, probs: np.ndarray) -> str:
    true_class = _true_class(labels, probs)
    return (
        f"n={len(labels)} prob min={probs.min():.3g} max={probs.max():.9g} "
        f"1-max={1 - float(probs.max()):.3g} true-class min={true_class.min():.3g}"
    )


# --- writers: no timestamps, no pandas metadata, exact floats ----------------------------------


def _write_parquet(path: Path, columns: Columns | pa.Table) -> None:
    table = columns if isinstance(columns, pa.Table) else pa.Table.from_pydict(columns)
    pq.write_table(table, path, compression="zstd")


def _format(value: np.generic) -> str:
    """Ints as ints, floats with enough digits to read back the very same float."""
    if isinstance(value, np.integer):
        return str(int(value))
    digits = 9 if isinstance(value, np.float32) else 17
    return format(float(value), f".{digits}g")


def _write_csv(path: Path, columns: Columns) -> None:
    rows = zip(*columns.values(), strict=True)
    lines = [",".join(columns)] + [",".join(_format(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def _write_npz(path: Path, arrays: Columns) -> None:
    """Like np.savez_compressed, but with fixed member dates so reruns are byte-identical."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            member = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, buffer.getvalue())


# --- one function per sample -------------------------------------------------------------------


def sample_healthy_binary_parquet(path: Path) -> str:
    """No mistake: binary label + prob, nothing near 0 or 1; lossdoctor must find no problem."""
    labels, prob = _healthy_binary()
    _write_parquet(path, {"label": labels, "prob": prob})
    return _describe(labels, prob)


def sample_healthy_multiclass_parquet(path: Path) -> str:
    """No mistake: 10-class label + prob_0..prob_9, every class present; must find no problem."""
    labels, probs = _healthy_digits()
    _write_parquet(path, {"label": labels, **_prob_columns(probs)})
    return f"{_describe(labels, probs)} classes present={len(np.unique(labels))}"


def sample_healthy_binary_csv(path: Path) -> str:
    """No mistake: the healthy binary predictions as CSV; lossdoctor must find no problem."""
    labels, prob = _healthy_binary()
    _write_csv(path, {"label": labels, "prob": prob})
    return _describe(labels, prob)


def sample_healthy_multiclass_npz(path: Path) -> str:
    """No mistake: 3-class y_true labels and y_pred probabilities; must find no problem."""
    labels, probs = _healthy_wine()
    _write_npz(path, {"y_true": labels, "y_pred": probs})
    return _describe(labels, probs)


def sample_healthy_binary_declared_logits_parquet(path: Path) -> str:
    """No mistake: raw scores in a column named logit; must find nothing worse than an info."""
    _, X_test, _, y_test = _split("breast_cancer")
    logit = _fit("breast_cancer", 0.05).decision_function(X_test).astype(np.float32)
    _write_parquet(path, {"label": y_test.astype(np.int64), "logit": logit})
    return f"logit range [{logit.min():.3g}, {logit.max():.3g}]"


def sample_logits_saved_as_probabilities_parquet(path: Path) -> str:
    """decision_function saved as prob: must find a logits-vs-probabilities error."""
    _, X_test, _, y_test = _split("breast_cancer")
    scores = _fit("breast_cancer", 0.05).decision_function(X_test).astype(np.float32)
    _write_parquet(path, {"label": y_test.astype(np.int64), "prob": scores})
    outside = int(np.sum((scores < 0) | (scores > 1)))
    return f"prob range [{scores.min():.3g}, {scores.max():.3g}], {outside} values outside [0, 1]"


def sample_log_probabilities_parquet(path: Path) -> str:
    """predict_log_proba saved as prob_k: must find a logits-vs-probabilities error."""
    _, X_test, _, y_test = _split("wine")
    log_probs = _fit("wine", 0.1).predict_log_proba(X_test).astype(np.float32)
    _write_parquet(path, {"label": y_test.astype(np.int64), **_prob_columns(log_probs)})
    return f"prob range [{log_probs.min():.3g}, {log_probs.max():.3g}], all <= 0"


def sample_double_sigmoid_parquet(path: Path) -> str:
    """Sigmoid applied to probabilities: must find a logits-vs-probabilities warning."""
    labels, prob = _healthy_binary()
    squashed = _sigmoid(prob.astype(np.float64)).astype(np.float32)
    _write_parquet(path, {"label": labels, "prob": squashed})
    return f"prob range [{squashed.min():.6f}, {squashed.max():.6f}] (sigmoid of [0, 1])"


def sample_missing_softmax_parquet(path: Path) -> str:
    """Per-class sigmoids, no softmax, rows not summing to 1: a logits-vs-probabilities warning."""
    X_train, X_test, y_train, y_test = _split("digits")
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(_logistic(0.1)))
    scores = model.fit(X_train, y_train).decision_function(X_test)
    probs = _sigmoid(scores).astype(np.float32)
    _write_parquet(path, {"label": y_test.astype(np.int64), **_prob_columns(probs)})
    sums = probs.astype(np.float64).sum(axis=1)
    return (
        f"row sums [{sums.min():.3f}, {sums.max():.3f}], "
        f"prob range [{probs.min():.3g}, {probs.max():.4f}]"
    )


def sample_labels_minus_one_plus_one_csv(path: Path) -> str:
    """Binary labels saved as -1/+1: lossdoctor must find a label-encoding error."""
    labels, prob = _healthy_binary()
    signed = 2 * labels - 1
    _write_csv(path, {"label": signed, "prob": prob})
    values, counts = np.unique(signed, return_counts=True)
    return "labels " + ", ".join(f"{v:+d}: {c}" for v, c in zip(values, counts, strict=True))


def sample_labels_one_to_k_csv(path: Path) -> str:
    """Labels 1..K next to prob_0..prob_{K-1}: lossdoctor must find a label-encoding error."""
    labels, probs = _healthy_wine()
    _write_csv(path, {"label": labels + 1, **_prob_columns(probs)})
    return f"labels {sorted(set((labels + 1).tolist()))} with columns prob_0..prob_2"


def sample_imbalanced_parquet(path: Path) -> str:
    """A 10 %-positive task the model barely beats by guessing 0: a class-imbalance warning."""
    X, y = load_digits(return_X_y=True)
    is_nine = (y == 9).astype(np.int64)
    pixels = [27, 28, 35, 36]  # four central pixels: too little to tell a 9 apart
    X_train, X_test, y_train, y_test = train_test_split(
        X[:, pixels], is_nine, test_size=TEST_SIZE, random_state=SEED, stratify=is_nine
    )
    model = make_pipeline(StandardScaler(), _logistic(1.0)).fit(X_train, y_train)
    prob = model.predict_proba(X_test)[:, 1].astype(np.float32)
    _write_parquet(path, {"label": y_test, "prob": prob})
    accuracy = float(np.mean((prob > 0.5) == y_test))
    baseline = max(float(y_test.mean()), 1 - float(y_test.mean()))
    return (
        f"positives {y_test.mean():.1%} ({int(y_test.sum())}/{len(y_test)}), "
        f"accuracy {accuracy:.4f} vs baseline {baseline:.4f} "
        f"(+{100 * (accuracy - baseline):.2f} points), "
        f"predicted positives {int((prob > 0.5).sum())}"
    )


def sample_saturated_parquet(path: Path) -> str:
    """Unregularised model, float16 round trip, exact 0/1: a probability-saturation error."""
    X_train, X_test, y_train, y_test = _split("breast_cancer")
    model = make_pipeline(StandardScaler(), _logistic(1e4)).fit(X_train, y_train)
    prob = model.predict_proba(X_test)[:, 1].astype(np.float16).astype(np.float32)
    labels = y_test.astype(np.int64)
    _write_parquet(path, {"label": labels, "prob": prob})
    wrong = (prob > 0.5) != (labels == 1)
    true_class = _true_class(labels, prob)
    return (
        f"exact 0: {int(np.sum(prob == 0))}, exact 1: {int(np.sum(prob == 1))} of {len(prob)}; "
        f"wrong rows {int(wrong.sum())}, of which true-class prob exactly 0: "
        f"{int(np.sum(wrong & (true_class == 0)))}"
    )


def sample_keras_onehot_multiclass_npz(path: Path) -> str:
    """One-hot 10-class labels, Keras binary accuracy flatters: an accuracy-mismatch warning."""
    X_train, X_test, y_train, y_test = _split("digits")
    pca = PCA(n_components=8, svd_solver="full", random_state=SEED)
    model = make_pipeline(pca, _logistic(0.003)).fit(X_train, y_train)
    probs = model.predict_proba(X_test).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[y_test]
    _write_npz(path, {"y_true": onehot, "y_pred": probs})
    binary_accuracy = float(np.mean((probs > 0.5) == onehot))
    accuracy = float(np.mean(probs.argmax(axis=1) == y_test))
    return (
        f"Keras binary accuracy {binary_accuracy:.4f} vs categorical accuracy {accuracy:.4f}; "
        f"run: lossdoctor check {path.parent.name}/{path.name} "
        f"--reported-accuracy {binary_accuracy:.4f}"
    )


def sample_non_finite_csv(path: Path) -> str:
    """Probabilities with 3 NaN and 1 inf: lossdoctor must find a non-finite-values error."""
    labels, prob = _healthy_binary()
    prob = prob.copy()
    rows = np.random.default_rng(SEED).choice(len(prob), size=4, replace=False)
    prob[rows[:3]] = np.nan
    prob[rows[3]] = np.inf
    _write_csv(path, {"label": labels, "prob": prob})
    return f"NaN at rows {sorted(rows[:3].tolist())}, inf at row {int(rows[3])} (0-based)"


def sample_healthy_multiclass_npy(path: Path) -> str:
    """No mistake: 3-class probabilities in X.npy, labels in X_labels.npy; must find no problem."""
    _, X_test, _, y_test = _split("iris")
    probs = _fit("iris", 0.3).predict_proba(X_test).astype(np.float32)
    labels = y_test.astype(np.int64)
    np.save(path, probs, allow_pickle=False)
    np.save(path.with_name(f"{path.stem}_labels.npy"), labels, allow_pickle=False)
    return _describe(labels, probs)


def sample_healthy_binary_feather(path: Path) -> str:
    """No mistake: the healthy binary predictions as Feather; must find no problem."""
    labels, prob = _healthy_binary()
    table = pa.Table.from_pydict({"label": labels, "prob": prob})
    feather.write_feather(table, path, compression="zstd")
    return _describe(labels, prob)


def sample_healthy_multiclass_list_parquet(path: Path) -> str:
    """No mistake: 10-class probabilities in one list column probs; must find no problem."""
    labels, probs = _healthy_digits()
    flat = pa.array(probs.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, probs.shape[1])
    _write_parquet(path, pa.table({"label": pa.array(labels), "probs": column}))
    return _describe(labels, probs)


def main(out_dir: Path | None = None) -> int:
    """Write every sample in SAMPLES into out_dir (default: this folder) and print its numbers."""
    out_dir = out_dir or Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, description in SAMPLES.items():
        writer = globals()["sample_" + name.replace(".", "_")]
        summary = writer(out_dir / name)
        print(f"{name}: {description}\n    {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
