"""A dataset streamed in batches gives the report of the same rows read whole: every finding,
metric, table and row number, whatever the files, their sizes and the batch size; past the
exact capacity of the ranking tables, the grid's metrics stay within their stated bound; memory
does not grow with the rows; a Dask cluster agrees with the local stream.
"""

from __future__ import annotations

import json
import math
import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from lossdoctor import pipeline
from lossdoctor.cli import cli
from lossdoctor.engines.local import Streaming
from lossdoctor.errors import InputError
from lossdoctor.io import open_dataset, read_predictions
from lossdoctor.pipeline import diagnose
from lossdoctor.settings import DEFAULTS, Settings
from tests.helpers import diagnose_predictions

ROOT = Path(__file__).resolve().parent.parent
REL = 1e-9
# Sums that cancel to nearly zero (a z-score of 1e-13) have no relative precision to compare.
ABS = 1e-12
OPTIONS = Settings()


# ---- comparing reports -------------------------------------------------------------------------


def assert_same(got, want, path: str = "report") -> None:
    """Equal JSON values: ints, strings, bools and None exactly, floats to rel 1e-9."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: {got!r} is not an object"
        assert got.keys() == want.keys(), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for key in want:
            assert_same(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list), f"{path}: {got!r} is not a list"
        assert len(got) == len(want), f"{path}: {len(got)} items != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        assert math.isclose(got, want, rel_tol=REL, abs_tol=ABS), f"{path}: {got!r} != {want!r}"
    else:
        assert type(got) is type(want) and got == want, f"{path}: {got!r} != {want!r}"


def comparable(report: dict) -> dict:
    """The report without what names the input: its paths and its format."""
    report = json.loads(json.dumps(report))
    del report["input"]["paths"], report["input"]["format"]
    return report


def test_the_comparison_sees_a_difference_in_any_value():
    base = {"a": [1, 0.5, "x", None], "b": {"c": True, "d": 1e-3}}
    assert_same(base, json.loads(json.dumps(base)))
    assert_same({"a": [1, 0.5 * (1 + 1e-12), "x", None], "b": base["b"]}, base)
    for changed in (
        {"a": [2, 0.5, "x", None], "b": base["b"]},
        {"a": [1, 0.5 * (1 + 1e-8), "x", None], "b": base["b"]},
        {"a": [1, 0.5, "y", None], "b": base["b"]},
        {"a": [1, 0.5, "x", 0.0], "b": base["b"]},
        {"a": [1.0, 0.5, "x", None], "b": base["b"]},
        {"a": [1, 0.5, "x"], "b": base["b"]},
        {"a": base["a"], "b": {"c": 1, "d": 1e-3}},
        {"a": base["a"], "b": {"c": True}},
    ):
        with pytest.raises(AssertionError):
            assert_same(changed, base)


# ---- writing datasets --------------------------------------------------------------------------


def write_dataset(
    directory: Path,
    whole: pa.Table,
    sizes: list[int],
    feather_files: tuple[int, ...] = (),
    row_group: int | None = None,
) -> Path:
    """The table cut into files part-00, part-01... of the given sizes (in sorted path order)."""
    directory.mkdir(parents=True, exist_ok=True)
    assert sum(sizes) == whole.num_rows
    start = 0
    for i, n in enumerate(sizes):
        part = whole.slice(start, n)
        if i in feather_files:
            feather.write_feather(part, directory / f"part-{i:02d}.feather")
        else:
            pq.write_table(part, directory / f"part-{i:02d}.parquet", row_group_size=row_group)
        start += n
    return directory


def binary_table(y, score) -> pa.Table:
    return pa.table({"label": y, "prob": score})


def columns_table(y: np.ndarray, scores: np.ndarray, multilabel: bool = False) -> pa.Table:
    """prob_0..prob_{K-1}, and one label column (label_0..label_{K-1} when multi-label)."""
    k = scores.shape[1]
    probs = {f"prob_{j}": scores[:, j] for j in range(k)}
    if multilabel:
        return pa.table({**{f"label_{j}": y[:, j] for j in range(k)}, **probs})
    return pa.table({"label": y, **probs})


def streamed(path: Path | str, batch_rows: int = 1 << 20, capacity: int | None = None) -> dict:
    data = open_dataset(str(path), batch_rows=batch_rows)
    return diagnose(Streaming(data, capacity=capacity), OPTIONS).to_dict()


def in_memory(path: Path) -> dict:
    return diagnose_predictions(read_predictions(str(path)), OPTIONS).to_dict()


def check(*args: object) -> Result:
    return CliRunner().invoke(cli, ["check", *map(str, args), "--no-config"])


def cli_json(*args: object) -> dict:
    result = check(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def finding(report: dict, check_id: str) -> dict | None:
    found = [f for f in report["findings"] if f["check"] == check_id]
    assert len(found) <= 1
    return found[0] if found else None


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def draw_classes(rng: np.random.Generator, proba: np.ndarray) -> np.ndarray:
    """One class per row, drawn from its row of probabilities (vectorised)."""
    u = rng.uniform(size=(len(proba), 1))
    return np.minimum((np.cumsum(proba, axis=1) < u).sum(axis=1), proba.shape[1] - 1)


# ---- 1. any dataset streams to the report of the whole table -----------------------------------


TASKS = ("binary", "multiclass", "multilabel")


@st.composite
def datasets(draw, task: str) -> dict:
    """What to generate; the rows themselves come from numpy with a drawn seed."""
    n = draw(st.one_of(st.integers(1, 12), st.integers(13, 240)))
    n_files = draw(st.integers(1, 8))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=n_files - 1, max_size=n_files - 1)))
    sizes = np.diff([0, *cuts, n]).tolist()
    encodings = {
        "binary": ["0/1", "-1/+1", "strings"],
        "multiclass": ["0..K-1", "1..K", "strings"],
        "multilabel": ["0/1"],
    }
    return {
        "task": task,
        "n": n,
        "sizes": sizes,
        "feather_files": tuple(
            i for i in range(n_files) if draw(st.booleans()) and draw(st.booleans())
        ),
        "row_group": draw(st.sampled_from([None, 1, 3, 50])),
        "batch_rows": draw(st.integers(1, n + 3)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "dtype": draw(st.sampled_from([np.float32, np.float64])),
        "logits": draw(st.booleans()),
        "encoding": draw(st.sampled_from(encodings[task])),
        "nan_rows": draw(st.sampled_from([0, 0, 1, 3, 8])),
        "nan_block": draw(st.booleans()),  # consecutive rows: whole batches may be NaN
        "ties": draw(st.booleans()),
        "lonely_class": task == "multiclass" and draw(st.booleans()),
    }


def make_table(case: dict) -> pa.Table:
    rng = np.random.default_rng(case["seed"])
    n, task = case["n"], case["task"]
    if task == "binary":
        z = rng.normal(0, 2, n)
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(np.int64)
        scores = z if case["logits"] else 1 / (1 + np.exp(-z))
        if case["ties"]:
            scores = np.round(scores * 4) / 4
    elif task == "multiclass":
        k = int(rng.integers(3, 6))
        z = rng.normal(0, 2, (n, k))
        if case["ties"]:
            z = np.round(z)
        y = draw_classes(rng, softmax(z))
        scores = z if case["logits"] else softmax(z)
        if case["lonely_class"]:
            # class K-1 occurs in one file only
            bounds = np.cumsum([0, *case["sizes"]])
            file = int(rng.choice([i for i, s in enumerate(case["sizes"]) if s]))
            outside = np.ones(n, bool)
            outside[bounds[file] : bounds[file + 1]] = False
            y[outside & (y == k - 1)] = 0
            y[bounds[file]] = k - 1
    else:
        k = int(rng.integers(2, 5))
        z = rng.normal(0, 2, (n, k))
        if case["ties"]:
            z = np.round(z)
        y = (rng.uniform(size=(n, k)) < 1 / (1 + np.exp(-z))).astype(np.int64)
        scores = z if case["logits"] else 1 / (1 + np.exp(-z))
    scores = scores.astype(case["dtype"])
    n_nan = min(case["nan_rows"], n)
    if case["nan_block"]:
        start = int(rng.integers(0, n - n_nan + 1))
        nan = np.arange(start, start + n_nan)
    else:
        nan = rng.choice(n, size=n_nan, replace=False)
    if scores.ndim == 1:
        scores[nan] = np.nan
    else:
        scores[nan, rng.integers(0, scores.shape[1], len(nan))] = np.nan
    if case["encoding"] == "-1/+1":
        y = 2 * y - 1
    elif case["encoding"] == "1..K":
        y = y + 1
    elif case["encoding"] == "strings":
        y = np.array(["apple", "banana", "cherry", "damson", "elder"])[y]
    if task == "binary":
        return binary_table(y, scores)
    return columns_table(y, scores, multilabel=task == "multilabel")


def outcome(run) -> dict | str:
    """The report, or the class of the input error that refused the data."""
    try:
        return comparable(run())
    except InputError:
        return "InputError"


@pytest.mark.parametrize("task", TASKS)
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_streamed_dataset_reports_what_the_whole_table_reports(task, data):
    case = data.draw(datasets(task))
    whole = make_table(case)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pq.write_table(whole, tmp / "whole.parquet")
        directory = write_dataset(
            tmp / "ds", whole, case["sizes"], case["feather_files"], case["row_group"]
        )
        want = outcome(lambda: in_memory(tmp / "whole.parquet"))
        got = outcome(lambda: streamed(directory, case["batch_rows"]))
        assert_same(got, want)

        by_file = check(tmp / "whole.parquet", "--format", "json")
        by_dataset = check(directory, "--format", "json")
        assert by_dataset.exit_code == by_file.exit_code, by_dataset.output
        if by_file.exit_code == 2:
            return
        assert_same(
            comparable(json.loads(by_dataset.stdout)), comparable(json.loads(by_file.stdout))
        )
        assert_same(comparable(json.loads(by_file.stdout)), want)


# ---- 2. named cases ----------------------------------------------------------------------------


def test_a_class_present_in_one_file_only_is_a_class_of_the_dataset(tmp_path):
    rng = np.random.default_rng(1)
    sizes = [120, 40, 140]
    n = sum(sizes)
    z = rng.normal(0, 1.5, (n, 4))
    proba = softmax(z)
    y = draw_classes(rng, proba)
    y[y == 3] = 0
    y[120:160] = np.where(rng.uniform(size=40) < 0.5, 3, y[120:160])  # class 3: file 1 only
    whole = columns_table(y, proba)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, sizes)

    report = streamed(directory, batch_rows=50)
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))
    assert report["n_classes"] == 4
    assert report["confusion_matrix"]["labels"] == [0, 1, 2, 3]
    np.testing.assert_array_equal(
        report["confusion_matrix"]["matrix"],
        skm.confusion_matrix(y, proba.argmax(axis=1), labels=range(4)),
    )
    assert [c["support"] for c in report["per_class"]] == np.bincount(y, minlength=4).tolist()
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=REL)
    auc = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert report["metrics"]["roc_auc"] == pytest.approx(auc, rel=REL)
    assert finding(report, "label-encoding") is None

    y[y == 3] = 0  # now class 3 never occurs: the same dataset shape says so
    absent = write_dataset(tmp_path / "absent", columns_table(y, proba), sizes)
    encoding = finding(streamed(absent, batch_rows=50), "label-encoding")
    assert encoding is not None and encoding["title"] == "Classes that never occur", encoding


def test_nan_rows_are_numbered_across_the_dataset_and_left_out(tmp_path):
    rng = np.random.default_rng(2)
    sizes = [30, 1, 25, 44]
    n = sum(sizes)
    p = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < p).astype(int)
    nan_rows = [3, 30, 31, 70, 99]  # in files 0, 1, 2, 3 and the last row
    p[nan_rows] = np.nan
    whole = binary_table(y, p)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, sizes)

    report = streamed(directory, batch_rows=16)
    non_finite = finding(report, "non-finite-values")
    assert non_finite is not None and non_finite["severity"] == "error"
    assert non_finite["evidence"]["first_rows"] == nan_rows
    assert non_finite["evidence"]["rows"] == 5
    assert report["input"]["rows"] == n and report["input"]["rows_used"] == n - 5
    keep = np.isfinite(p)
    assert report["metrics"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y[keep], p[keep]), rel=REL
    )
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))

    clean = write_dataset(tmp_path / "clean", binary_table(y[keep], p[keep]), [30, 65])
    assert finding(streamed(clean, batch_rows=16), "non-finite-values") is None


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_batch_of_nan_rows_only_is_left_out_like_any_nan_row(tmp_path, task):
    rng = np.random.default_rng(14)
    n = 60
    if task == "binary":
        scores = rng.uniform(0.05, 0.95, n)
        y = (rng.uniform(size=n) < scores).astype(int)
        scores[20:30] = np.nan  # exactly the third batch of ten
        whole = binary_table(y, scores)
    else:
        scores = softmax(rng.normal(0, 1.5, (n, 3)))
        y = draw_classes(rng, scores)
        scores[20:30, 1] = np.nan
        whole = columns_table(y, scores)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, [25, 35])

    report = streamed(directory, batch_rows=10)
    assert finding(report, "non-finite-values")["evidence"]["first_rows"] == list(range(20, 30))
    assert report["input"]["rows_used"] == 50
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))


def test_label_issues_name_the_flipped_rows_by_their_dataset_row_numbers(tmp_path):
    rng = np.random.default_rng(3)
    sizes = [150, 1, 99, 150]
    n = sum(sizes)
    y = rng.integers(0, 2, n)
    # a confident model: 0.9..0.99 for the true class
    p = np.where(y == 1, rng.uniform(0.9, 0.99, n), rng.uniform(0.01, 0.1, n))
    flipped = [7, 150, 151, 260, 399]  # across files, the lone row of file 1 among them
    # the flipped rows disagree most with their labels in row order: 0.001, 0.002, ...
    confidence = 1 - 0.001 * np.arange(1, len(flipped) + 1)
    p[flipped] = np.where(y[flipped] == 1, confidence, 1 - confidence)
    labels = y.copy()
    labels[flipped] = 1 - y[flipped]
    whole = binary_table(labels, p)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, sizes)

    report = streamed(directory, batch_rows=64)
    issues = finding(report, "label-issues")
    assert issues is not None
    assert issues["evidence"]["rows_flagged"] == len(flipped)
    assert issues["evidence"]["worst_rows"] == flipped
    assert issues["evidence"]["worst_given_labels"] == [str(v) for v in labels[flipped]]
    assert_same(issues["evidence"]["worst_given_label_probability"], (1 - confidence).tolist())
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))

    honest = write_dataset(tmp_path / "honest", binary_table(y, p), sizes)
    assert finding(streamed(honest, batch_rows=64), "label-issues") is None


def test_metrics_computed_beside_the_label_issues_pass_are_the_ones_computed_after_it(
    tmp_path, monkeypatch
):
    rng = np.random.default_rng(11)
    n = 900
    y = rng.integers(0, 2, n)
    p = np.clip(rng.normal(0.3 + 0.4 * y, 0.25), 0, 1)
    p[:40] = 1 - p[:40]  # confident mistakes: label issues found
    directory = write_dataset(tmp_path / "ds", binary_table(y, p), [300, 300, 300])
    after = json.dumps(streamed(directory, batch_rows=128))
    monkeypatch.setattr(pipeline, "BESIDE_ROWS", 0)  # on a thread of their own
    beside = streamed(directory, batch_rows=128)
    assert finding(beside, "label-issues") is not None
    assert json.dumps(beside) == after


def _logit_dataset(tmp_path: Path, rng: np.random.Generator, n: int = 400):
    z = rng.normal(0, 2.5, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return z, y


def test_logits_saved_as_probabilities_in_a_dataset_are_found(tmp_path):
    z, y = _logit_dataset(tmp_path, np.random.default_rng(4))
    directory = write_dataset(tmp_path / "logits", binary_table(y, z), [100, 100, 200])
    report = streamed(directory, batch_rows=64)
    logits = finding(report, "logits-vs-probabilities")
    assert logits is not None and logits["severity"] == "error"
    assert report["prediction_kind"] == "logits" and report["transform"] == "sigmoid"
    p = 1 / (1 + np.exp(-z))
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=REL)
    assert report["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, z), rel=REL)

    healthy = write_dataset(tmp_path / "healthy", binary_table(y, p), [100, 100, 200])
    report = streamed(healthy, batch_rows=64)
    assert finding(report, "logits-vs-probabilities") is None
    assert report["prediction_kind"] == "probabilities" and report["transform"] == "none"
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=REL)


def test_one_score_above_one_in_the_last_file_makes_every_score_a_logit(tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    z = rng.uniform(0.02, 0.98, n)  # looks like probabilities, batch after batch...
    z[-1] = 1.7  # ...until the last row of the last file
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    whole = binary_table(y, z)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, [100, 100, 100])

    report = streamed(directory, batch_rows=32)
    assert report["prediction_kind"] == "logits" and report["transform"] == "sigmoid"
    logits = finding(report, "logits-vs-probabilities")
    assert logits is not None and logits["severity"] == "error"
    p = 1 / (1 + np.exp(-z))
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=REL)
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))

    first_files = tmp_path / "first" / "*.parquet"
    write_dataset(tmp_path / "first", whole.slice(0, 200), [100, 100])
    assert streamed(first_files, batch_rows=32)["prediction_kind"] == "probabilities"


def test_labels_of_minus_one_only_in_a_later_file_are_minus_one_plus_one(tmp_path):
    rng = np.random.default_rng(6)
    sizes = [80, 80, 80]
    n = sum(sizes)
    p = np.concatenate([rng.uniform(0.6, 0.99, 160), rng.uniform(0.01, 0.99, 80)])
    y01 = (rng.uniform(size=n) < p).astype(int)
    y01[:160] = 1  # the first two files hold only +1
    labels = 2 * y01 - 1
    whole = binary_table(labels, p)
    pq.write_table(whole, tmp_path / "whole.parquet")
    directory = write_dataset(tmp_path / "ds", whole, sizes)

    report = streamed(directory, batch_rows=40)
    encoding = finding(report, "label-encoding")
    assert encoding is not None and encoding["severity"] == "error"
    assert encoding["evidence"]["encoding"] == "minus-one-plus-one"
    assert encoding["evidence"]["values"] == {
        "-1": int((labels == -1).sum()),
        "1": int((labels == 1).sum()),
    }
    assert report["confusion_matrix"]["labels"] == [-1, 1]
    np.testing.assert_array_equal(
        report["confusion_matrix"]["matrix"], skm.confusion_matrix(y01, p >= 0.5)
    )
    assert report["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y01, p), rel=REL)
    assert_same(comparable(report), comparable(in_memory(tmp_path / "whole.parquet")))

    ones = write_dataset(tmp_path / "ones", binary_table(y01, p), sizes)
    assert finding(streamed(ones, batch_rows=40), "label-encoding") is None


# ---- 3. past the capacity: a grid, within its bound --------------------------------------------

CAPACITY = 1000


def _bounds(report: dict) -> dict:
    if "metrics_error_bound" not in report:
        pytest.skip("the report has no metrics_error_bound yet")
    return report["metrics_error_bound"]


def test_binary_metrics_off_a_grid_are_within_their_bound_and_counts_stay_exact(tmp_path):
    rng = np.random.default_rng(7)
    n = 20_000
    z = rng.normal(0, 1.5, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    p = 1 / (1 + np.exp(-z))
    directory = write_dataset(tmp_path / "ds", binary_table(y, p), [7000, 1, 12_999])

    report = streamed(directory, batch_rows=4096, capacity=CAPACITY)
    bounds = _bounds(report)
    assert {"roc_auc", "pr_auc"} <= bounds.keys(), bounds
    exact = {"roc_auc": skm.roc_auc_score(y, p), "pr_auc": skm.average_precision_score(y, p)}
    for name, value in exact.items():
        assert 0 < bounds[name] < 0.05, (name, bounds[name])
        assert abs(report["metrics"][name] - value) <= bounds[name], (name, value, report)

    np.testing.assert_array_equal(
        report["confusion_matrix"]["matrix"], skm.confusion_matrix(y, p >= 0.5)
    )
    for row in report["thresholds"]:
        predicted = p >= row["threshold"]
        counts = {
            "tp": int((predicted & (y == 1)).sum()),
            "fp": int((predicted & (y == 0)).sum()),
            "fn": int((~predicted & (y == 1)).sum()),
            "tn": int((~predicted & (y == 0)).sum()),
        }
        assert {k: row[k] for k in counts} == counts, row
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=REL)
    assert report["metrics"]["accuracy"] == pytest.approx(np.mean((p >= 0.5) == y), rel=REL)

    few = write_dataset(tmp_path / "few", binary_table(y, np.round(p, 2)), [7000, 13_000])
    assert streamed(few, batch_rows=4096, capacity=CAPACITY)["metrics_error_bound"] == {}


def test_large_margins_streamed_onto_a_grid_stay_within_their_bound(tmp_path):
    rng = np.random.default_rng(12)
    y = rng.integers(0, 2, 4000)
    z = (rng.normal(size=4000) + y) * 80
    directory = write_dataset(tmp_path / "margins", binary_table(y, z), [1000] * 4)
    report = streamed(directory, batch_rows=700, capacity=256)
    bounds = _bounds(report)
    assert "roc_auc" in bounds
    for key, exact in (
        ("roc_auc", skm.roc_auc_score(y, z)),
        ("pr_auc", skm.average_precision_score(y, z)),
    ):
        assert abs(report["metrics"][key] - exact) <= bounds[key] + 1e-12, key
    exact_stream = streamed(directory, batch_rows=700)
    assert exact_stream["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, z), rel=REL)


def test_multiclass_metrics_off_a_grid_are_within_their_bound(tmp_path):
    rng = np.random.default_rng(8)
    n, k = 12_000, 3
    proba = softmax(rng.normal(0, 1.5, (n, k)))
    y = draw_classes(rng, proba)
    directory = write_dataset(tmp_path / "ds", columns_table(y, proba), [5000, 7000])

    report = streamed(directory, batch_rows=3000, capacity=CAPACITY)
    bounds = _bounds(report)
    assert {"roc_auc", "pr_auc"} <= bounds.keys(), bounds
    onehot = np.eye(k, dtype=int)[y]
    exact = {
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "pr_auc": skm.average_precision_score(onehot, proba, average="macro"),
    }
    for name, value in exact.items():
        assert 0 < bounds[name] < 0.05, (name, bounds[name])
        assert abs(report["metrics"][name] - value) <= bounds[name], (name, value)
    np.testing.assert_array_equal(
        report["confusion_matrix"]["matrix"], skm.confusion_matrix(y, proba.argmax(axis=1))
    )


# ---- 4. memory does not grow with the rows -----------------------------------------------------


def test_batches_summarised_on_threads_merge_in_their_order_and_errors_reach_the_caller(
    tmp_path,
):
    directory = tmp_path / "d"
    directory.mkdir()
    for i, rows in enumerate((7, 1, 12, 5, 9)):
        y = np.arange(rows, dtype=np.int8) % 2
        pq.write_table(binary_table(y, np.full(rows, 0.25, np.float32)), directory / f"{i}.pq")
    told = []
    engine = Streaming(
        open_dataset(str(directory), batch_rows=6), progress=lambda *args: told.append(args)
    )

    def first_rows(batch) -> list[int]:
        return [batch.first_row]

    first_rows.label = "listing"
    assert engine.map_reduce(first_rows, lambda a, b: a + b) == [0, 6, 12, 18, 24, 30]
    assert told == [(rows, 34, "listing") for rows in (6, 6, 6, 6, 6, 4)]

    def fails_at_12(batch) -> list[int]:
        if batch.first_row == 12:
            raise InputError("batch at row 12")
        return [batch.first_row]

    with pytest.raises(InputError, match="row 12"):
        engine.map_reduce(fails_at_12, lambda a, b: a + b)


GROWTH_ALLOWED = 60 << 20  # bytes


def _write_big(directory: Path, files: int, rows_per_file: int, seed: int) -> None:
    directory.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(files):
        p = rng.random(rows_per_file, dtype=np.float32)
        y = (rng.random(rows_per_file, dtype=np.float32) < p).astype(np.int8)
        pq.write_table(binary_table(y, p), directory / f"part-{i:02d}.parquet")


def _peak_rss(path: Path) -> tuple[int, dict]:
    """Peak resident bytes of `lossdoctor check PATH --format json`, alone in a wrapper process,
    and its report."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
        "print(peak, done.returncode, done.stderr.replace(chr(10), ' '))\n"
        "print(done.stdout)\n"
    )
    command = [sys.executable, "-m", "lossdoctor", "check", str(path), "--format", "json"]
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command, "--no-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first, report = out.split("\n", 1)
    peak, code, stderr = first.split(" ", 2)
    assert int(code) in (0, 1), stderr
    return int(peak), json.loads(report)


def test_peak_memory_does_not_grow_with_the_rows_of_a_dataset(tmp_path):
    # Both hold more distinct scores than a table keeps exactly: both are on the grid.
    _write_big(tmp_path / "small", files=6, rows_per_file=500_000, seed=9)
    _write_big(tmp_path / "large", files=18, rows_per_file=500_000, seed=10)
    small_peak, small = _peak_rss(tmp_path / "small")
    large_peak, large = _peak_rss(tmp_path / "large")
    assert small["input"]["rows"] == 3_000_000 and large["input"]["rows"] == 9_000_000
    assert "roc_auc" in small["metrics_error_bound"]
    assert 0.5 < large["metrics"]["roc_auc"] < 1
    growth = large_peak - small_peak
    assert growth < GROWTH_ALLOWED, f"peak RSS {small_peak >> 20} MB -> {large_peak >> 20} MB"


# ---- 5. a Dask cluster agrees with the local stream --------------------------------------------


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.parametrize("task", ["binary", "multiclass", "large margins"])
def test_a_dask_cluster_reports_what_the_local_stream_reports(tmp_path, dask_scheduler, task):
    from lossdoctor.engines.dask import DaskEngine

    rng = np.random.default_rng(11)
    n = 3000
    if task == "binary":
        p = rng.uniform(0, 1, n)
        p[[5, 2500]] = np.nan
        y = (rng.uniform(size=n) < p).astype(int)
        y[[17, 1800, 2999]] = 1 - y[[17, 1800, 2999]]
        whole = binary_table(y, p)
    elif task == "large margins":  # beyond +-37 a float64 sigmoid ties them at 0 or 1
        y = rng.integers(0, 2, n)
        whole = binary_table(y, np.round((rng.normal(size=n) + y) * 60, 3))
    else:
        proba = softmax(rng.normal(0, 2, (n, 4)))
        whole = columns_table(draw_classes(rng, proba), proba)
    # twelve files: part-10 sorts before part-2 by path (the dataset's row order), after it
    # in dask's natural order
    sizes = [150 + 20 * i for i in range(11)]
    sizes.append(n - sum(sizes))
    directory = tmp_path / "ds"
    directory.mkdir()
    parts, start = {}, 0
    for i, size in enumerate(sizes):
        parts[f"part-{i}.parquet"] = whole.slice(start, size)
        pq.write_table(
            parts[f"part-{i}.parquet"], directory / f"part-{i}.parquet", row_group_size=64
        )
        start += size
    in_path_order = pa.concat_tables([parts[name] for name in sorted(parts)])
    pq.write_table(in_path_order, tmp_path / "whole.parquet")

    local = streamed(directory, batch_rows=500, capacity=DEFAULTS.capacity)
    with DaskEngine(str(directory), scheduler=dask_scheduler) as engine:
        remote = diagnose(engine, OPTIONS).to_dict()
    assert_same(comparable(remote), comparable(local))
    assert_same(comparable(remote), comparable(in_memory(tmp_path / "whole.parquet")))
    assert remote["input"]["rows"] == n
    if task == "large margins":
        y, z = (in_path_order.column(name).to_numpy() for name in ("label", "prob"))
        assert remote["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, z), rel=REL)
        assert remote["metrics"]["pr_auc"] == pytest.approx(
            skm.average_precision_score(y, z), rel=REL
        )
    if task == "binary":
        nan_rows = np.flatnonzero(np.isnan(in_path_order.column("prob").to_numpy())).tolist()
        assert finding(remote, "non-finite-values")["evidence"]["first_rows"] == nan_rows
        assert nan_rows != [5, 2500]  # the rows moved: row numbers follow the path order


# ---- 6. the command line -----------------------------------------------------------------------


@pytest.fixture
def dataset_dir(tmp_path) -> Path:
    rng = np.random.default_rng(12)
    p = rng.uniform(0, 1, 500)
    y = (rng.uniform(size=500) < p).astype(int)
    return write_dataset(tmp_path / "ds", binary_table(y, p), [200, 1, 299])


def test_a_directory_and_a_glob_of_its_files_give_the_same_report(dataset_dir):
    by_directory = cli_json(dataset_dir)
    by_glob = cli_json(f"{dataset_dir}/*.parquet")
    assert by_directory["input"]["paths"] == [str(dataset_dir)]
    assert by_glob["input"]["paths"] == [f"{dataset_dir}/*.parquet"]
    del by_directory["input"]["paths"], by_glob["input"]["paths"]
    assert_same(by_glob, by_directory)
    assert by_directory["input"]["rows"] == 500
    only_first = cli_json(f"{dataset_dir}/part-00.*")
    assert only_first["input"]["rows"] == 200


def test_labels_in_their_own_file_are_refused_for_a_dataset(dataset_dir, tmp_path):
    np.save(tmp_path / "y.npy", np.zeros(500, dtype=int))
    result = check(dataset_dir, "--labels", tmp_path / "y.npy")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "--labels" in lines[0] and str(dataset_dir) in lines[0], lines
    assert result.stdout == ""


def test_a_glob_matching_nothing_is_exit_code_2(tmp_path):
    result = check(f"{tmp_path}/*.parquet")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "no file matches" in lines[0], lines


def test_a_directory_of_csv_files_says_to_convert_them_to_parquet(tmp_path):
    for i in range(2):
        (tmp_path / f"part-{i}.csv").write_text("label,prob\n1,0.75\n0,0.25\n")
    result = check(tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "convert them to Parquet" in lines[0], lines
    single = check(tmp_path / "part-0.csv", "--format", "json")
    assert single.exit_code == 0, single.output  # a CSV file by itself is read whole


def _run(args: list[str], terminal: bool) -> tuple[str, str]:
    """lossdoctor in a real process, stdout piped; stderr piped, or a terminal."""
    command = [sys.executable, "-m", "lossdoctor", *args, "--no-config"]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    if not terminal:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=follower, text=True
    ) as process:
        os.close(follower)
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            err += chunk
        out = process.stdout.read()
        assert process.wait() in (0, 1), err
    os.close(leader)
    return out, err.decode(errors="replace")


def test_no_progress_bar_is_drawn_when_stderr_is_not_a_terminal(tmp_path):
    rng = np.random.default_rng(13)
    n = 20_000
    p = rng.random(n, dtype=np.float32)
    y = (rng.random(n, dtype=np.float32) < p).astype(np.int8)
    directory = write_dataset(tmp_path / "ds", binary_table(y, p), [n // 4] * 4)

    for args in (["check", str(directory)], ["check", str(directory), "--format", "json"]):
        out, err = _run(args, terminal=False)
        assert err == ""
        for text in ("surveying", "summarising", "reading", "\x1b[", "\r", "━"):
            assert text not in out, (text, out[:500])
    json.loads(_run(["check", str(directory), "--format", "json"], terminal=False)[0])

    _, err = _run(["check", str(directory), "--format", "json"], terminal=True)
    assert f"{directory.name}: summarising" in err and "━" in err, err[
        :500
    ]  # the bar, where it belongs


# ---- 7. the notebook API takes a path ------------------------------------------------------------


def test_diagnose_takes_a_dataset_path_and_gives_the_cli_report(tmp_path):
    import lossdoctor

    rng = np.random.default_rng(11)
    z = rng.normal(0, 2, 3000)
    y = (rng.uniform(size=3000) < 1 / (1 + np.exp(-z))).astype(int)
    directory = write_dataset(tmp_path / "ds", binary_table(y, 1 / (1 + np.exp(-z))), [1000, 2000])
    whole = tmp_path / "whole.parquet"
    pq.write_table(binary_table(y, 1 / (1 + np.exp(-z))), whole)

    from_path = lossdoctor.diagnose(str(directory)).to_dict()
    assert_same(from_path, cli_json(directory, "--no-config"))
    assert_same(comparable(lossdoctor.diagnose(whole).to_dict()), comparable(from_path))
    assert from_path["input"]["format"] == "parquet dataset"


def test_diagnose_refuses_an_unknown_engine_in_one_line(tmp_path):
    import lossdoctor

    directory = write_dataset(tmp_path / "ds", binary_table(np.array([0, 1]), [0.2, 0.7]), [2])
    with pytest.raises(InputError, match="unknown engine 'spark'; use one of local, dask"):
        lossdoctor.diagnose(str(directory), engine="spark")
