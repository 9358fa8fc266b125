"""Sample weights: every number equals scikit-learn's with sample_weight, integer weights equal
the rows repeated, streaming and Dask equal the table in memory, bad weights are exit 2."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.io import read_predictions
from lossdoctor.metrics import metric_totals, metrics_from

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _binary(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0.001, 0.999), 2)  # ties on purpose
    return y, p, rng.random(n) * 3 + 0.01


def _multiclass(n: int = 400, k: int = 4, seed: int = 1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += 1.2
    return y, _softmax(z), rng.random(n) * 3 + 0.01


def _multilabel(n: int = 400, k: int = 3, seed: int = 2):
    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.4
    p = np.clip(0.4 * y + 0.6 * rng.random((n, k)), 0.001, 0.999)
    return y, p, rng.random(n) * 3 + 0.01


def _close(got: float, want: float) -> None:
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_binary_metrics_equal_scikit_learn_with_sample_weight():
    y, p, w = _binary()
    report = lossdoctor.diagnose(y, p, sample_weight=w)
    values, pred = report.metrics.values, (p >= 0.5).astype(int)
    want = {
        "log_loss": sk.log_loss(y, p, sample_weight=w),
        "accuracy": sk.accuracy_score(y, pred, sample_weight=w),
        "balanced_accuracy": sk.balanced_accuracy_score(y, pred, sample_weight=w),
        "precision": sk.precision_score(y, pred, sample_weight=w),
        "recall": sk.recall_score(y, pred, sample_weight=w),
        "f1": sk.f1_score(y, pred, sample_weight=w),
        "f1_macro": sk.f1_score(y, pred, average="macro", sample_weight=w),
        "roc_auc": sk.roc_auc_score(y, p, sample_weight=w),
        "pr_auc": sk.average_precision_score(y, p, sample_weight=w),
        "brier": sk.brier_score_loss(y, p, sample_weight=w),
        "mcc": sk.matthews_corrcoef(y, pred, sample_weight=w),
    }
    for name, value in want.items():
        _close(values[name], value)
    np.testing.assert_allclose(
        report.metrics.confusion, sk.confusion_matrix(y, pred, sample_weight=w), rtol=1e-12
    )
    for row in report.metrics.thresholds:
        at = (p >= row.threshold).astype(int)
        (tn, fp), (fn, tp) = sk.confusion_matrix(y, at, sample_weight=w)
        np.testing.assert_allclose([row.tp, row.fp, row.fn, row.tn], [tp, fp, fn, tn], atol=1e-9)
        _close(row.f1, sk.f1_score(y, at, sample_weight=w, zero_division=0))
    support = [c.support for c in report.metrics.per_class]
    np.testing.assert_allclose(support, [w[y == 0].sum(), w[y == 1].sum()])


def test_multiclass_metrics_equal_scikit_learn_with_sample_weight():
    y, proba, w = _multiclass()
    report = lossdoctor.diagnose(y, proba, sample_weight=w)
    values, pred, k = report.metrics.values, proba.argmax(axis=1), proba.shape[1]
    want = {
        "log_loss": sk.log_loss(y, proba, sample_weight=w),
        "accuracy": sk.accuracy_score(y, pred, sample_weight=w),
        "balanced_accuracy": sk.balanced_accuracy_score(y, pred, sample_weight=w),
        "f1_macro": sk.f1_score(y, pred, average="macro", sample_weight=w),
        "roc_auc": sk.roc_auc_score(y, proba, multi_class="ovr", sample_weight=w),
        "pr_auc": sk.average_precision_score(np.eye(k)[y], proba, sample_weight=w),
        "brier": sk.brier_score_loss(y, proba, sample_weight=w),
        "mcc": sk.matthews_corrcoef(y, pred, sample_weight=w),
    }
    for name, value in want.items():
        _close(values[name], value)
    np.testing.assert_allclose(
        report.metrics.confusion, sk.confusion_matrix(y, pred, sample_weight=w), rtol=1e-12
    )
    for c in report.metrics.per_class:
        _close(c.roc_auc, sk.roc_auc_score(y == c.index, proba[:, c.index], sample_weight=w))


def test_multilabel_metrics_equal_scikit_learn_with_sample_weight():
    y, p, w = _multilabel()
    report = lossdoctor.diagnose(y.astype(int), p, sample_weight=w)
    values, pred = report.metrics.values, p >= 0.5
    cell_loss = -(y * np.log(p) + (1 - y) * np.log1p(-p)).mean(axis=1)
    want = {
        "log_loss": float(np.average(cell_loss, weights=w)),
        "accuracy": sk.accuracy_score(y, pred, sample_weight=w),
        "f1_macro": sk.f1_score(y, pred, average="macro", sample_weight=w),
        "roc_auc": sk.roc_auc_score(y, p, average="macro", sample_weight=w),
        "pr_auc": sk.average_precision_score(y, p, average="macro", sample_weight=w),
    }
    for name, value in want.items():
        _close(values[name], value)
    np.testing.assert_allclose(
        report.metrics.confusion,
        sk.multilabel_confusion_matrix(y, pred, sample_weight=w),
        rtol=1e-12,
    )


def test_calibration_and_histogram_weigh_rows_as_repeats():
    """scikit-learn's calibration_curve takes no weights: the bins of integer weights are those
    of the rows repeated, checked against calibration_curve on the repeats."""
    from sklearn.calibration import calibration_curve

    y, p, _ = _binary(300, seed=5)
    repeats = np.random.default_rng(5).integers(1, 4, y.size)
    weighted = lossdoctor.diagnose(y, p, sample_weight=repeats).metrics
    observed, predicted = calibration_curve(
        np.repeat(y, repeats), np.repeat(p, repeats), n_bins=10, strategy="quantile"
    )
    np.testing.assert_allclose(weighted.calibration.observed, observed, rtol=1e-12)
    np.testing.assert_allclose(weighted.calibration.predicted, predicted, rtol=1e-12)
    repeated = lossdoctor.diagnose(np.repeat(y, repeats), np.repeat(p, repeats)).metrics
    np.testing.assert_array_equal(weighted.histogram.counts, repeated.histogram.counts)


def test_a_row_of_weight_zero_is_left_out_of_every_number():
    y, p, w = _binary(200, seed=3)
    w[::3] = 0
    kept = w > 0
    weighted = lossdoctor.diagnose(y, p, sample_weight=w).to_dict()
    dropped = lossdoctor.diagnose(y[kept], p[kept], sample_weight=w[kept]).to_dict()
    assert weighted["metrics"] == pytest.approx(dropped["metrics"], rel=1e-12)
    assert weighted["confusion_matrix"] == dropped["confusion_matrix"]


def test_unweighted_tables_keep_integer_counts():
    y, p, _ = _binary()
    table = metric_totals("binary", y, p).tables[0]
    assert table.rows_below.dtype.kind == "i" and isinstance(table.rows, int)
    assert metrics_from(metric_totals("binary", y, p)).confusion.dtype == np.int64


# ---- integer weights are the rows repeated -----------------------------------------------------


def _comparable(report: lossdoctor.Report) -> dict:
    data = report.to_dict()
    return {
        "task": data["task"],
        "kind": data["prediction_kind"],
        "metrics": data["metrics"],
        "per_class": [{k: v for k, v in c.items()} for c in data["per_class"]],
        "confusion": data["confusion_matrix"]["matrix"],
        "thresholds": data.get("thresholds"),
        "calibration": data["calibration"],
        "histogram": data.get("histogram"),
        "findings": sorted((f["check"], f["severity"]) for f in data["findings"]),
    }


def _assert_same(a, b, where: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, z, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


@st.composite
def weighted_rows(draw):
    task = draw(st.sampled_from(["binary", "multiclass", "multilabel"]))
    n = draw(st.integers(4, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # from 1: a row of weight 0 is left out of the numbers (tested above), but lossdoctor still
    # reads its scores when it infers what they are, as it reads every row of the file
    repeats = np.asarray(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    if task == "binary":
        y = rng.integers(0, 2, n)
        p = np.round(rng.uniform(0.01, 0.99, n), draw(st.integers(1, 3)))
    elif task == "multiclass":
        y = rng.integers(0, 3, n)
        p = _softmax(rng.normal(size=(n, 3)) * 2)
    else:
        y = (rng.random((n, 3)) < 0.5).astype(int)
        p = np.round(rng.uniform(0.01, 0.99, (n, 3)), 2)
    return y, p, repeats


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weighted_rows())
def test_integer_weights_give_the_report_of_the_rows_repeated(case):
    y, p, repeats = case
    repeated = np.repeat(np.arange(len(y)), repeats)
    options = {"task": "multilabel"} if y.ndim == 2 else {}
    try:
        want = _comparable(lossdoctor.diagnose(y[repeated], p[repeated], **options))
    except lossdoctor.InputError as error:  # e.g. one class left: the same refusal
        with pytest.raises(lossdoctor.InputError, match=str(error)[:20]):
            lossdoctor.diagnose(y, p, sample_weight=repeats, **options)
        return
    got = _comparable(lossdoctor.diagnose(y, p, sample_weight=repeats, **options))
    _assert_same(got, want)


# ---- streaming and Dask merge weighted summaries ------------------------------------------------


def _weighted_parquet(directory, y, p, w, files: int = 4, row_group: int = 37):
    directory.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(y)), files)):
        table = pa.table({"label": y[part], "prob": p[part], "sample_weight": w[part]})
        pq.write_table(table, directory / f"part-{i}.parquet", row_group_size=row_group)
    whole = pa.table({"label": y, "prob": p, "sample_weight": w})
    pq.write_table(whole, directory.parent / "whole.parquet")
    return directory


def _numbers(report: lossdoctor.Report) -> dict:
    data = report.to_dict()
    return {
        "metrics": data["metrics"],
        "confusion": data["confusion_matrix"]["matrix"],
        "thresholds": data.get("thresholds"),
        "findings": sorted((f["check"], f["severity"]) for f in data["findings"]),
        "weight_used": data["input"]["weight_used"],
    }


def test_a_streamed_weighted_dataset_reports_what_the_table_in_memory_reports(tmp_path):
    y, p, w = _binary(500, seed=7)
    directory = _weighted_parquet(tmp_path / "parts", y, p, w)
    streamed = lossdoctor.diagnose(str(directory))
    whole = lossdoctor.diagnose(str(tmp_path / "whole.parquet"))
    assert streamed.input.weight_column == whole.input.weight_column == "sample_weight"
    _assert_same(_numbers(streamed), _numbers(whole))
    _close(whole.metrics.values["roc_auc"], sk.roc_auc_score(y, p, sample_weight=w))


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
def test_dask_merges_weighted_partitions_as_the_local_engine_does(tmp_path, dask_scheduler):
    pytest.importorskip("dask.dataframe")
    y, p, w = _binary(500, seed=8)
    directory = _weighted_parquet(tmp_path / "parts", y, p, w)
    on_dask = lossdoctor.diagnose(str(directory), engine="dask", scheduler=dask_scheduler)
    local = lossdoctor.diagnose(str(tmp_path / "whole.parquet"))
    assert on_dask.input.weight_column == "sample_weight"
    _assert_same(_numbers(on_dask), _numbers(local))


# ---- the column, and bad weights ---------------------------------------------------------------


def _check(*args: object):
    return CliRunner().invoke(cli, ["check", *map(str, args), "--no-config", "--format", "json"])


def _csv(tmp_path, header: str, rows: list[str]):
    path = tmp_path / "preds.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


GOOD_ROWS = ["0,0.2,1", "1,0.8,2", "0,0.4,1", "1,0.7,1", "0,0.1,3", "1,0.9,1"]


@pytest.mark.parametrize("name", ["sample_weight", "weight", "Weights"])
def test_a_column_named_as_weights_is_used_and_said_in_an_info(tmp_path, name):
    result = _check(_csv(tmp_path, f"y,prob,{name}", GOOD_ROWS))
    import json

    report = json.loads(result.stdout)
    assert report["input"]["weight_column"] == name
    assert report["input"]["weight_used"] == 9.0
    said = [f for f in report["findings"] if f["evidence"].get("weight_column") == name]
    assert [(f["check"], f["severity"]) for f in said] == [("column-choice", "info")]


def test_a_named_weight_column_needs_no_info_and_an_unweighted_report_has_no_weight_key(tmp_path):
    import json

    path = _csv(tmp_path, "y,prob,w", GOOD_ROWS)
    named = json.loads(_check(path, "--weight-col", "W").stdout)
    assert named["input"]["weight_column"] == "w"
    assert not [f for f in named["findings"] if "weight_column" in f["evidence"]]
    plain = json.loads(_check(path, "--pred-col", "prob").stdout)
    assert "weight_column" not in plain["input"] and "weight_used" not in plain["input"]


def test_the_weight_column_is_never_taken_for_the_predictions(tmp_path):
    """y, weight and one unnamed numeric column: the unnamed one is the predictions."""
    predictions = read_predictions(str(_csv(tmp_path, "y,weight,model_out", [
        "0,1,0.2", "1,2,0.8", "0,1,0.3", "1,1,0.6",
    ])))  # fmt: skip
    assert predictions.prediction_columns == ("model_out",)
    assert predictions.weight_column == "weight"
    np.testing.assert_array_equal(predictions.weights, [1, 2, 1, 1])


def test_weights_from_the_config_file(tmp_path):
    import json

    path = _csv(tmp_path, "y,prob,w", GOOD_ROWS)
    config = tmp_path / "lossdoctor.toml"
    config.write_text('weight-col = "w"\n')
    result = CliRunner().invoke(
        cli, ["check", str(path), "--config", str(config), "--format", "json"]
    )
    assert json.loads(result.stdout)["input"]["weight_column"] == "w"


@pytest.mark.parametrize(
    ("weights", "says"),
    [
        (["1", "-1", "1", "1", "1", "1"], "must be finite and >= 0"),
        (["1", "nan", "1", "1", "1", "1"], "must be finite and >= 0"),
        (["1", "inf", "1", "1", "1", "1"], "must be finite and >= 0"),
        (["0", "0", "0", "0", "0", "0"], "sample weight 0"),
        (["1", "a", "1", "1", "1", "1"], "sample weights"),
    ],
)
def test_bad_weights_are_one_line_and_exit_2(tmp_path, weights, says):
    rows = [f"{row.rsplit(',', 1)[0]},{w}" for row, w in zip(GOOD_ROWS, weights, strict=True)]
    result = CliRunner().invoke(
        cli, ["check", str(_csv(tmp_path, "y,prob,weight", rows)), "--no-config"]
    )
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_or_ambiguous_weight_column_is_exit_2(tmp_path):
    missing = _check(
        _csv(tmp_path, "y,prob", [r.rsplit(",", 1)[0] for r in GOOD_ROWS]), "--weight-col", "w"
    )
    assert missing.exit_code == 2 and "--weight-col 'w' matches no column" in missing.stderr
    both = CliRunner().invoke(cli, ["check", str(_csv(tmp_path, "y,prob,weight,sample_weight", [
        f"{r},1" for r in GOOD_ROWS
    ])), "--no-config"])  # fmt: skip
    assert both.exit_code == 2 and "several weight columns" in both.stderr


def test_sample_weight_of_the_wrong_length_is_an_input_error():
    y, p, w = _binary(20)
    with pytest.raises(lossdoctor.InputError, match="give one weight per row"):
        lossdoctor.diagnose(y, p, sample_weight=w[:-1])


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_weighted_grids_stay_within_their_bounds_of_the_exact_weighted_values(task):
    """Past the capacity, weighted batches merge on the grid; each value read off it is within
    its bound of scikit-learn's weighted one, and the counts are exact."""
    from functools import reduce

    make = {"binary": _binary, "multiclass": _multiclass, "multilabel": _multilabel}[task]
    y, p, w = make(3000, seed=11)
    exact = metrics_from(metric_totals(task, y, p, 0.5, weights=w))
    parts = [
        metric_totals(task, y[a : a + 500], p[a : a + 500], 0.5, 100, 8, weights=w[a : a + 500])
        for a in range(0, len(y), 500)
    ]
    merged = metrics_from(reduce(lambda a, b: a.merge(b, 100), parts))
    assert merged.error_bound
    for name in ("roc_auc", "pr_auc", "ece"):
        bound = merged.error_bound[name]
        assert abs(merged.values[name] - exact.values[name]) <= bound + 1e-9, name
    for name in ("log_loss", "accuracy"):
        _close(merged.values[name], exact.values[name])
    np.testing.assert_allclose(merged.confusion, exact.confusion, rtol=1e-12)
    if task == "binary":
        _close(exact.values["roc_auc"], sk.roc_auc_score(y, p, sample_weight=w))


def test_a_weighted_report_has_no_intervals_and_an_unweighted_one_keeps_them():
    y, p, w = _binary(300, seed=9)
    assert lossdoctor.diagnose(y, p, sample_weight=w).metrics_ci == {}
    assert "roc_auc" in lossdoctor.diagnose(y, p).metrics_ci


def test_weights_whose_sum_could_overflow_are_refused_with_the_fix():
    y, p, w = _binary(50)
    with pytest.raises(lossdoctor.InputError, match="divide them by a common factor"):
        lossdoctor.diagnose(y, p, sample_weight=w * 1e300)
    scaled = lossdoctor.diagnose(y, p, sample_weight=w * 1e40).metrics.values
    unscaled = lossdoctor.diagnose(y, p, sample_weight=w).metrics.values
    # every metric but the calibration bins' (those of the rows repeated: see the README)
    del scaled["ece"], unscaled["ece"]
    assert scaled == pytest.approx(unscaled)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_weighted_rows_read_in_blocks_report_what_one_block_reports(monkeypatch, task):
    """A batch past BLOCK_ROWS is surveyed and summarised block by block: its weights too."""
    from lossdoctor import pipeline

    y, p, w = (_binary if task == "binary" else _multiclass)(500, seed=12)
    w[::7] = 0
    whole = _comparable(lossdoctor.diagnose(y, p, sample_weight=w))
    monkeypatch.setattr(pipeline, "BLOCK_ROWS", 64)
    _assert_same(_comparable(lossdoctor.diagnose(y, p, sample_weight=w)), whole)
