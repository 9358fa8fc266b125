"""--by: each segment's metrics equal scikit-learn's on its rows, in memory, streamed and on a
grid; weak segments are ranked by significance; segment gates; bad --by is exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from statsmodels.stats.proportion import proportion_confint

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.engines.local import Streaming
from lossdoctor.infer.decisions import Task
from lossdoctor.io import open_dataset
from lossdoctor.io.segments import distinct
from lossdoctor.pipeline import diagnose
from lossdoctor.segments import totals
from lossdoctor.settings import Settings


def _binary(rng: np.random.Generator, n: int, groups: int) -> pd.DataFrame:
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.25, n), 0.001, 0.999).round(3)
    return pd.DataFrame({"label": y, "proba": p, "group": rng.integers(0, groups, n)})


def _by_group(report: lossdoctor.Report, by: str = "group") -> dict:
    return {s.value: s for s in report.segments if s.by == by}


# float32 scores are tabulated apart (each segment's sorted scores), float64 as entries
@pytest.mark.parametrize("seed, dtype", [(0, "float64"), (1, "float32"), (2, "float32")])
@pytest.mark.parametrize("block", [64, 1 << 20])  # tables and sums on two threads, or one
def test_binary_segment_metrics_equal_scikit_learn_on_each_group(seed, dtype, block, monkeypatch):
    monkeypatch.setattr(totals, "BLOCK_ROWS", block)
    rng = np.random.default_rng(seed)
    frame = _binary(rng, int(rng.integers(300, 2000)), int(rng.integers(2, 12)))
    frame["proba"] = frame.proba.astype(dtype)
    segments = _by_group(lossdoctor.diagnose(frame, by="group"))
    assert set(segments) == set(frame.group.unique().tolist())
    for value, rows in frame.groupby("group"):
        got = segments[value]
        y, p = rows.label.to_numpy(), rows.proba.to_numpy()
        assert got.rows == len(rows)
        m = got.metrics
        assert m["accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5), abs=1e-12)
        assert m["precision"] == pytest.approx(precision_score(y, p >= 0.5, zero_division=0))
        assert m["recall"] == pytest.approx(recall_score(y, p >= 0.5, zero_division=0))
        assert m["f1"] == pytest.approx(f1_score(y, p >= 0.5, zero_division=0))
        rel = 1e-12 if dtype == "float64" else 1e-6  # float32: sklearn sums in float32
        assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=rel)
        assert m["brier"] == pytest.approx(brier_score_loss(y, p, pos_label=1), rel=rel)
        hits = int((y == (p >= 0.5)).sum())
        wilson = proportion_confint(hits, len(y), 0.05, method="wilson")
        assert got.metrics_ci["accuracy"] == pytest.approx(wilson, rel=1e-9)
        if len(set(y)) == 2:
            assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
            alone = lossdoctor.diagnose(y, p).metrics_ci["roc_auc"]  # pROC-checked elsewhere
            assert got.metrics_ci["roc_auc"] == pytest.approx(alone, rel=1e-9)
        else:
            assert m["roc_auc"] is None


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("runs", [[(0, 500)], [(0, 150), (1, 90), (0, 70), (2, 200)], None])
def test_segment_sums_add_each_segments_rows_one_after_another(runs, weighted, monkeypatch):
    """Each segment's log loss and Brier sums are its rows' added one after another in row
    order, to the last bit, whether its rows come in a few runs (a stream's files) or
    scattered (a column), and its confusion matrix counts them."""
    monkeypatch.setattr(totals, "CACHED_ROWS", 64)  # runs across blocks
    rng = np.random.default_rng(len(runs or ()) + weighted)
    if runs is None:
        codes = rng.integers(0, 3, 400)
    else:
        codes = np.concatenate([np.full(size, code) for code, size in runs])
    n = len(codes)
    y = rng.integers(0, 2, n)
    p = rng.random(n).astype(np.float32)
    w = rng.random(n) + 0.5 if weighted else None
    found = totals.segment_totals(
        Task.BINARY, codes, np.arange(codes.max() + 1), y, p, 0.5, None, w
    )
    q = np.where(y == 1, p, 1 - p).astype(np.float32)
    eps = np.finfo(np.float32).eps
    losses = -np.log(np.clip(q, eps, 1 - eps).astype(np.float64))
    squares = (y - p.astype(np.float64)) ** 2
    for code in range(codes.max() + 1):
        loss = brier = 0.0
        for row in np.flatnonzero(codes == code):
            weight = 1.0 if w is None else w[row]
            loss += losses[row] * weight
            brier += squares[row] * weight
        assert (found.loss[code], found.brier[code]) == (loss, brier)
        rows = codes == code
        cells = np.bincount(2 * y[rows] + (p[rows] >= 0.5), w if w is None else w[rows], 4)
        np.testing.assert_array_equal(found.confusion[code].ravel(), cells)


@pytest.mark.parametrize("seed, dtype", [(3, "float64"), (4, "float32")])
@pytest.mark.parametrize("block", [64, 1 << 20])
def test_multiclass_segment_metrics_equal_scikit_learn_on_each_group(
    seed, dtype, block, monkeypatch
):
    monkeypatch.setattr(totals, "BLOCK_ROWS", block)
    rng = np.random.default_rng(seed)
    n, k = 1500, 4
    logits = rng.normal(0, 2, (n, k))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in proba])
    frame = pd.DataFrame({f"prob_{i}": proba[:, i].astype(dtype) for i in range(k)})
    frame["label"] = y
    frame["group"] = np.array(["north", "south", "east"])[rng.integers(0, 3, n)]
    segments = _by_group(lossdoctor.diagnose(frame, by="group"))
    for value, rows in frame.groupby("group"):
        got, yy = segments[value].metrics, rows.label.to_numpy()
        pp = rows[[f"prob_{i}" for i in range(k)]].to_numpy()
        assert got["accuracy"] == pytest.approx(accuracy_score(yy, pp.argmax(axis=1)))
        rel = 1e-10 if dtype == "float64" else 1e-6  # float32: sklearn sums in float32
        assert got["log_loss"] == pytest.approx(log_loss(yy, pp, labels=range(k)), rel=rel)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(yy, pp, multi_class="ovr"))
        assert got["f1_macro"] == pytest.approx(f1_score(yy, pp.argmax(axis=1), average="macro"))


def _dataset(tmp_path, frame: pd.DataFrame, files: int) -> str:
    directory = tmp_path / "ds"
    directory.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), files)):
        table = pa.Table.from_pandas(frame.iloc[part], preserve_index=False)
        pq.write_table(table, directory / f"part-{i}.parquet", row_group_size=97)
    return str(directory)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_stream_in_small_batches_gives_the_segments_of_the_whole_table(tmp_path, dtype):
    frame = _binary(np.random.default_rng(5), 2400, 7)
    frame["proba"] = frame.proba.astype(dtype)
    path = _dataset(tmp_path, frame, 4)
    settings = Settings(by=("group", "file"))
    streamed = diagnose(Streaming(open_dataset(path, batch_rows=250, by=settings.by)), settings)
    whole = lossdoctor.diagnose(frame, by="group")
    for value, segment in _by_group(whole).items():
        other = _by_group(streamed)[value]
        assert other.rows == segment.rows
        for name, metric in segment.metrics.items():
            assert other.metrics[name] == pytest.approx(metric, rel=1e-12, abs=1e-15)
        for name, ends in segment.metrics_ci.items():
            assert other.metrics_ci[name] == pytest.approx(ends, rel=1e-9)
    files = _by_group(streamed, "file")
    assert sorted(files) == [f"part-{i}.parquet" for i in range(4)]
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 4)):
        rows = frame.iloc[part]
        got = files[f"part-{i}.parquet"]
        assert got.rows == len(rows)
        assert got.metrics["roc_auc"] == pytest.approx(roc_auc_score(rows.label, rows.proba))


@pytest.mark.parametrize(
    "dtype, by", [("float64", "group"), ("float32", "group"), ("float32", "file")]
)
def test_segment_tables_past_the_capacity_go_on_a_grid_within_their_bound(tmp_path, dtype, by):
    rng = np.random.default_rng(6)
    n = 6000
    y = rng.integers(0, 2, n)
    proba = (1 / (1 + np.exp(-(rng.normal(size=n) + y)))).astype(dtype)
    frame = pd.DataFrame({"label": y, "proba": proba, "group": rng.integers(0, 3, n)})
    path = _dataset(tmp_path, frame, 3)
    if by == "file":  # each file one segment: the files' rows
        frame["group"] = np.repeat([f"part-{i}.parquet" for i in range(3)], n // 3)
    settings = Settings(by=(by,))
    engine = Streaming(open_dataset(path, batch_rows=500, by=settings.by), capacity=1000)
    for value, segment in _by_group(diagnose(engine, settings), by).items():
        rows = frame[frame.group == value]
        bound = segment.metrics_error_bound["roc_auc"]
        assert 0 < bound < 0.01
        exact = roc_auc_score(rows.label, rows.proba)
        assert abs(segment.metrics["roc_auc"] - exact) <= bound + 1e-12
        assert segment.metrics["accuracy"] == pytest.approx(
            accuracy_score(rows.label, rows.proba >= 0.5)
        )


def _planted(rng: np.random.Generator) -> pd.DataFrame:
    """20,000 rows at accuracy ~0.9, of which 2,000 (region 'weak') at ~0.75, and 50 random
    segments of 20 rows each in a second column."""
    n = 20000
    region = np.where(np.arange(n) < 2000, "weak", np.array(["a", "b", "c", "d"])[np.arange(n) % 4])
    y = rng.integers(0, 2, n)
    right = rng.uniform(size=n) < np.where(region == "weak", 0.75, 0.9)
    p = np.where(right == (y == 1), 0.8, 0.2) + rng.uniform(-0.05, 0.05, n)
    small = np.full(n, "big")
    picked = rng.permutation(n)[: 50 * 20]
    small[picked] = [f"s{i // 20}" for i in range(len(picked))]
    frame = pd.DataFrame({"label": y, "proba": p, "region": region, "small": small})
    return frame.assign(mixed=np.where(small == "big", region, small))


def test_a_planted_weak_segment_is_ranked_first_and_tiny_noisy_ones_are_not_flagged():
    frame = _planted(np.random.default_rng(7))
    for min_rows in (200, 1):
        report = lossdoctor.diagnose(frame, by="mixed", min_segment_rows=min_rows)
        segments = [s for s in report.segments if s.by == "mixed"]
        assert segments[0].value == "weak"
        weak = [f for f in report.findings if f.check == "weak-segment"]
        assert [f.evidence["value"] for f in weak] == ["weak"]
        assert weak[0].evidence["difference_ci"][1] < 0
        if min_rows == 200:  # the 20-row segments are listed, untested, last
            assert all(s.p_value is None for s in segments if s.value.startswith("s"))


def test_segments_drawn_from_one_model_give_no_weak_segment():
    frame = _binary(np.random.default_rng(8), 6000, 10)
    report = lossdoctor.diagnose(frame, by="group", min_segment_rows=50)
    assert not [f for f in report.findings if f.check == "weak-segment"]


def test_a_segment_gate_names_the_failing_segment_and_passes_the_others():
    frame = _planted(np.random.default_rng(9))
    report = lossdoctor.diagnose(frame, by="region", segment_gates="accuracy >= 0.85")
    gates = [f for f in report.findings if f.check == "gate"]
    assert [f.evidence["value"] for f in gates] == ["weak"]
    weak = _by_group(report, "region")["weak"]
    assert gates[0].evidence["value"] == weak.value
    assert weak.metrics["accuracy"] < 0.85
    quiet = lossdoctor.diagnose(frame, by="region", segment_gates="accuracy >= 0.5")
    assert not [f for f in quiet.findings if f.check == "gate"]


def test_quantile_bins_hold_the_rows_numpy_puts_in_them():
    rng = np.random.default_rng(10)
    frame = _binary(rng, 1000, 2).assign(age=rng.integers(18, 90, 1000))
    report = lossdoctor.diagnose(frame, by="age:4")
    edges = np.unique(np.quantile(frame.age, [0, 0.25, 0.5, 0.75, 1], method="inverted_cdf"))
    codes = np.searchsorted(edges[1:-1], frame.age, side="right")
    counts = {s.value: s.rows for s in report.segments}
    assert sum(counts.values()) == 1000
    expected = [int((codes == i).sum()) for i in range(len(edges) - 1)]
    labels = [
        f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == len(edges) - 2 else ')'}"
        for i in range(len(edges) - 1)
    ]
    assert {label: counts[label] for label in labels} == dict(zip(labels, expected, strict=True))


def test_the_json_report_lists_the_segments_and_validates_against_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    path = tmp_path / "p.parquet"
    _binary(np.random.default_rng(11), 800, 3).to_parquet(path)
    result = CliRunner().invoke(cli, ["check", str(path), "--by", "group", "--format", "json"])
    report = json.loads(result.stdout)
    assert [s["by"] for s in report["segments"]] == ["group"] * 3
    assert set(report["segments"][0]) >= {
        "by",
        "value",
        "rows",
        "metrics",
        "metrics_ci",
        "findings",
    }
    jsonschema.validate(report, json.loads(lossdoctor.report.json_schema("report")))


@pytest.mark.parametrize(
    ("by", "said"),
    [("country", "matches no column"), ("label", "is a label, prediction or weight column")],
)
def test_by_a_missing_column_or_the_label_is_one_line_and_exit_2(tmp_path, by, said):
    path = tmp_path / "p.parquet"
    _binary(np.random.default_rng(12), 100, 3).to_parquet(path)
    result = CliRunner().invoke(cli, ["check", str(path), "--by", by])
    assert result.exit_code == 2
    assert said in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_terminal_report_shows_the_worst_segments_and_counts_the_rest(tmp_path):
    path = tmp_path / "p.parquet"
    _planted(np.random.default_rng(13)).to_parquet(path)
    result = CliRunner().invoke(cli, ["check", str(path), "--by", "small", "--top", "3"])
    assert "Segments by small" in result.stdout
    assert "and 48 more segments" in result.stdout


# ---- inconsistent-segments -------------------------------------------------------------------


def _shards(tmp_path, odd: str) -> tuple[str, pd.DataFrame]:
    """Six files of 300 rows; the fourth saved differently (`odd`), or none ('healthy')."""
    rng = np.random.default_rng(14)
    directory = tmp_path / odd
    directory.mkdir()
    frames = []
    for i in range(6):
        y = rng.integers(0, 2, 300)
        p = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.2, 300), 0.01, 0.99)
        if i == 3 and odd == "logits":
            p = np.log(p / (1 - p))
        if i == 3 and odd == "signs":
            y = np.where(y == 1, 1, -1)
        if i == 3 and odd == "missing":
            y = np.zeros(300, dtype=int)
        frame = pd.DataFrame({"label": y, "proba": p})
        frame.to_parquet(directory / f"part-{i}.parquet")
        frames.append(frame.assign(shard=f"part-{i}.parquet"))
    return str(directory), pd.concat(frames, ignore_index=True)


ODD = {
    "logits": "scores are logits (the others': probabilities)",
    "signs": "labels are minus-one-plus-one (the others': indices)",
    "missing": "no row of class 1",
}


def _inconsistent(report: lossdoctor.Report) -> list:
    return [f for f in report.findings if f.check == "inconsistent-segments"]


@pytest.mark.parametrize("threaded", [False, True])  # in memory, beside the metric totals
@pytest.mark.parametrize("odd", list(ODD))
def test_one_file_saved_differently_is_named_in_memory_and_streamed(
    tmp_path, odd, threaded, monkeypatch
):
    from lossdoctor import pipeline

    monkeypatch.setattr(pipeline, "THREADED_ROWS", 1 if threaded else pipeline.THREADED_ROWS)
    path, whole = _shards(tmp_path, odd)
    for report, by in (
        (lossdoctor.diagnose(path), "file"),
        (lossdoctor.diagnose(whole, by="shard"), "shard"),
    ):
        (finding,) = _inconsistent(report)
        assert finding.severity == lossdoctor.Severity.ERROR
        assert finding.evidence["by"] == by
        assert list(finding.evidence["segments"]) == ["part-3.parquet"]
        assert ODD[odd] in finding.evidence["segments"]["part-3.parquet"]


def test_files_saved_alike_are_not_inconsistent(tmp_path):
    path, whole = _shards(tmp_path, "healthy")
    assert not _inconsistent(lossdoctor.diagnose(path))
    assert not _inconsistent(lossdoctor.diagnose(whole, by="shard"))


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
def test_a_dask_cluster_names_the_file_saved_differently(tmp_path, dask_scheduler):
    path, _ = _shards(tmp_path, "logits")
    report = lossdoctor.diagnose(path, engine="dask", scheduler=dask_scheduler, by="file")
    (finding,) = _inconsistent(report)
    assert finding.evidence["segments"] == {"part-3.parquet": [ODD["logits"]]}
    local = lossdoctor.diagnose(path, by="file")
    for mine, theirs in zip(local.segments, report.segments, strict=True):
        assert (mine.value, mine.rows) == (theirs.value, theirs.rows)
        assert mine.metrics == pytest.approx(theirs.metrics, rel=1e-12)


@pytest.mark.parametrize("block", [64, 1 << 20])  # blocks counted on two threads, or one
@pytest.mark.parametrize("labels", ["ints", "floats", "strings", "columns"])
def test_segment_surveys_grouped_at_once_equal_each_segment_surveyed_alone(
    labels, block, monkeypatch
):
    from lossdoctor.io import Batch, from_arrays
    from lossdoctor.segments import surveys
    from lossdoctor.segments.surveys import _grouped, _one_by_one, survey_batch

    monkeypatch.setattr(surveys, "BLOCK_ROWS", block)

    rng = np.random.default_rng(15)
    n = 500
    y = rng.integers(0, 3, n)
    scores = rng.uniform(-0.2, 1.3, (n, 3)) if labels == "columns" else rng.uniform(-1, 2, n)
    scores[rng.uniform(size=n) < 0.05] = np.nan
    scores[rng.uniform(size=n) < 0.05] = 0.0  # a bound float32 holds stays exact
    y_true = {"ints": y, "floats": y + (rng.uniform(size=n) < 0.02) * 0.5, "strings": None}.get(
        labels, y
    )
    if labels == "strings":
        y_true = np.array(["a", "b", "c"])[y]
    batch = Batch(
        from_arrays(y_true, scores, source="x", format="array", sample_weight=rng.uniform(0, 2, n)),
        0,
    )
    codes = rng.integers(0, 7, n)
    whole = survey_batch(batch)
    grouped = _grouped(batch, whole, codes, 7)
    alone = list(_one_by_one(batch, list(range(7)), codes).values())
    for a, b in zip(grouped, alone, strict=True):
        assert (a.rows, a.finite_rows, a.whole_labels) == (b.rows, b.finite_rows, b.whole_labels)
        for name in ("values", "counts", "group_rows_off"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        # the range in float32 rounded outwards: never narrower, at most an ulp wider, and
        # exact where float32 holds it (0 stays 0: a score below 0 would make logits)
        assert (a.group_low <= b.group_low).all() and (a.group_high >= b.group_high).all()
        held = b.group_low == b.group_low.astype(np.float32)
        assert np.array_equal(a.group_low[held], b.group_low[held])
        assert np.allclose(a.group_low, b.group_low, rtol=2e-7, atol=1e-37)
        assert np.allclose(a.group_high, b.group_high, rtol=2e-7, atol=1e-37)
        assert np.allclose(a.weight_sums, b.weight_sums)
        assert np.array_equal(a.weighted_counts, b.weighted_counts)


def test_segment_values_from_the_file_are_escaped_in_every_format(tmp_path):
    frame = _binary(np.random.default_rng(16), 600, 2)
    frame["group"] = np.where(frame.group == 0, "<script>x</script>", "[bold]|b|[/bold]")
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    pages = {}
    for fmt in ("html", "markdown", "terminal"):
        result = CliRunner().invoke(cli, ["check", str(path), "--by", "group", "--format", fmt])
        assert result.exit_code in (0, 1), result.output
        pages[fmt] = result.stdout
    assert "<script>x" not in pages["html"] and "&lt;script&gt;x" in pages["html"]
    assert "segments-table" in pages["html"]
    assert "\\[bold\\]\\|b\\|" in pages["markdown"] or "\\|b\\|" in pages["markdown"]
    assert "[bold]|b|[/bold]" in pages["terminal"]


def test_a_dataset_of_more_files_than_segments_is_diagnosed_without_comparing_them(
    tmp_path, monkeypatch
):
    from lossdoctor.segments import surveys

    monkeypatch.setattr(surveys, "MAX_SEGMENTS", 3)
    path, _ = _shards(tmp_path, "logits")  # six files, one of logits
    report = lossdoctor.diagnose(path)
    assert report.input.rows == 1800
    assert not _inconsistent(report)


def test_the_segment_checks_are_chosen_like_any_check(tmp_path):
    """--disable and --select name them; checks lists them and explain explains them."""
    path, _ = _shards(tmp_path, "logits")
    runner = CliRunner()

    def found(*options: str) -> set[str]:
        result = runner.invoke(cli, ["check", path, "--format", "json", *options])
        assert result.exit_code in (0, 1), result.output
        return {f["check"] for f in json.loads(result.output)["findings"]}

    assert "inconsistent-segments" in found()
    assert "inconsistent-segments" not in found("--disable", "inconsistent-segments")
    assert found("--select", "inconsistent-segments") == {"inconsistent-segments"}
    assert found("--select", "label-encoding").isdisjoint({"inconsistent-segments"})
    listed = json.loads(runner.invoke(cli, ["checks", "--format", "json"]).output)
    ids = [check["id"] for check in listed]
    assert ids[-2:] == ["inconsistent-segments", "weak-segment"]
    assert all(check["fixes"] for check in listed[-2:])
    for check in ids[-2:]:
        explained = runner.invoke(cli, ["explain", check])
        assert explained.exit_code == 0 and explained.output.startswith(f"{check}: ")


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint16])
def test_an_integer_column_spanning_its_dtype_is_segmented_as_numpy_unique_does(dtype):
    info = np.iinfo(dtype)
    column = np.array([info.min, info.max, 5, info.max, info.min + 1], dtype=dtype)
    values, codes = distinct(column)
    expected, inverse = np.unique(column, return_inverse=True)
    assert values.tolist() == expected.tolist()
    assert codes.tolist() == inverse.tolist()
