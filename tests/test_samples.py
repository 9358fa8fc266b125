"""The sample files of sample_data/, end to end through `lossdoctor check --format json`.

Each broken file must fire exactly its check, at its severity, and nothing else at warning or
above; each healthy file nothing at warning or above. Then every case again in every input
format: the same findings and the same numbers whether the arrays come as Parquet, Feather, CSV,
gzipped CSV, NPZ or NPY.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

from lossdoctor.cli import cli
from lossdoctor.io import read_predictions

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
NOT_A_SAMPLE = {"README.md", "make_samples.py"}

LOGITS = "logits-vs-probabilities"
LABELS = "label-encoding"
IMBALANCE = "class-imbalance"
THRESHOLD = "threshold"
SATURATION = "probability-saturation"
ACCURACY = "accuracy-mismatch"
NON_FINITE = "non-finite-values"
ERROR, WARNING = "error", "warning"

# The metrics README.md documents; each is compared wherever the report has it.
METRICS = (
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "roc_auc",
    "pr_auc",
    "brier",
    "mcc",
    "binary_accuracy",
    "categorical_accuracy",
)


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    args: tuple[str, ...]
    expected: frozenset[tuple[str, str]]  # (check, severity) of every finding at warning or above
    infos: bool  # whether an info finding may appear
    labels: str | None = None  # a separate labels file (--labels)
    # float32 probabilities of exactly 0 and 1: written as text they come back float64, and
    # log_loss clips at the input dtype's eps (as scikit-learn does), so it moves by design
    loss_depends_on_dtype: bool = False

    @property
    def cli_args(self) -> list[str]:
        labels = ["--labels", str(SAMPLES / self.labels)] if self.labels else []
        return [str(SAMPLES / self.file), *labels, *self.args]


def case(id, file, args, expected, infos, **extra) -> Case:
    return Case(id, file, tuple(args), frozenset(expected), infos, **extra)


# fmt: off
CASES = [
    # healthy: nothing at warning or above
    case("healthy-binary", "healthy_binary.parquet", [], [], False),
    case("healthy-binary-csv", "healthy_binary.csv", [], [], False),
    case("healthy-binary-feather", "healthy_binary.feather", [], [], False),
    case("healthy-multiclass", "healthy_multiclass.parquet", [], [], True),
    case("healthy-multiclass-list", "healthy_multiclass_list.parquet", [], [], True),
    case("healthy-multiclass-npz", "healthy_multiclass.npz", [], [], True),
    case("healthy-multiclass-npy", "healthy_multiclass.npy", [], [], True,
         labels="healthy_multiclass_labels.npy"),
    case("declared-logits", "healthy_binary_declared_logits.parquet", [], [], True),
    case("declared-logits-from-logits", "healthy_binary_declared_logits.parquet",
         ["--from-logits"], [], True),
    case("keras-no-reported-accuracy", "keras_onehot_multiclass.npz", [], [], True),
    case("logits-from-logits", "logits_saved_as_probabilities.parquet", ["--from-logits"], [],
         True),
    # broken: exactly their check, at their severity
    case("logits", "logits_saved_as_probabilities.parquet", [], [(LOGITS, ERROR)], False),
    case("log-probabilities", "log_probabilities.parquet", [], [(LOGITS, ERROR)], True),
    case("double-sigmoid", "double_sigmoid.parquet", [], [(LOGITS, WARNING)], False),
    case("missing-softmax", "missing_softmax.parquet", [], [(LOGITS, WARNING)], True),
    case("labels-minus-one", "labels_minus_one_plus_one.csv", [], [(LABELS, ERROR)], False),
    case("labels-one-to-k", "labels_one_to_k.csv", [], [(LABELS, ERROR)], True),
    # Under imbalance the best-F1 threshold sits far below 0.5: the threshold check says so.
    case(
        "imbalanced", "imbalanced.parquet", [], [(IMBALANCE, WARNING), (THRESHOLD, WARNING)], True
    ),
    case("saturated", "saturated.parquet", [], [(SATURATION, ERROR)], True,
         loss_depends_on_dtype=True),
    case("keras", "keras_onehot_multiclass.npz", ["--reported-accuracy", "0.9806"],
         [(ACCURACY, WARNING)], True),
    case("keras-binary-crossentropy", "keras_onehot_multiclass.npz",
         ["--loss", "binary_crossentropy"], [(ACCURACY, WARNING)], True),
    case("non-finite", "non_finite.csv", [], [(NON_FINITE, ERROR)], False),
]
# fmt: on
BY_ID = {c.id: c for c in CASES}

# Samples that fire a second check at warning or above, against sample_data/README.md.
KNOWN_EXTRA_FINDINGS: dict[str, str] = {}


def sample_params() -> list:
    marks = {
        case_id: pytest.mark.xfail(reason=reason, raises=AssertionError, strict=True)
        for case_id, reason in KNOWN_EXTRA_FINDINGS.items()
    }
    return [pytest.param(c, id=c.id, marks=marks.get(c.id, ())) for c in CASES]


# ---- helpers ----------------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def run_json(args: list[str]) -> tuple[dict, int]:
    result = CliRunner().invoke(cli, ["check", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout, parse_constant=_reject_constant), result.exit_code


@functools.cache
def sample_report(case_id: str) -> tuple[dict, int]:
    return run_json(BY_ID[case_id].cli_args)


def severe(report: dict) -> set[tuple[str, str]]:
    return {(f["check"], f["severity"]) for f in report["findings"] if f["severity"] != "info"}


def every_finding(report: dict) -> set[tuple[str, str]]:
    return {(f["check"], f["severity"]) for f in report["findings"]}


def finding(report: dict, check: str) -> dict:
    [found] = [f for f in report["findings"] if f["check"] == check]
    return found


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV by the standard library: int() or float() per cell."""
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    columns = {}
    for i, name in enumerate(header):
        cells = [row[i] for row in rows]
        try:
            columns[name] = np.array([int(c) for c in cells])
        except ValueError:
            columns[name] = np.array([float(c) for c in cells])
    return columns


def read_parquet(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path)
    return {name: table[name].to_numpy() for name in table.column_names}


def stacked(columns: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    return np.column_stack([columns[f"{prefix}_{k}"] for k in range(len(columns) - 1)])


# ---- the table against the docs and the folder ------------------------------------------------


def test_the_table_covers_every_file_in_sample_data():
    on_disk = {p.name for p in SAMPLES.iterdir() if p.is_file() and p.name not in NOT_A_SAMPLE}
    in_table = {c.file for c in CASES} | {c.labels for c in CASES if c.labels}
    assert in_table == on_disk


README_ROW = re.compile(r"^\| `([^`]+)`(?: \+ `[^`]+`)? \| .* \| ([^|]+) \|$")
README_TRIGGER = re.compile(r"`([a-z-]+)` (error|warning)")


def readme_triggers() -> dict[str, str]:
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    return {m[1]: m[2].strip() for line in text.splitlines() if (m := README_ROW.match(line))}


def test_the_table_agrees_with_what_sample_data_readme_says_each_file_must_trigger():
    triggers = readme_triggers()
    assert len(triggers) >= 17, "the README table was not parsed"
    for file, trigger in triggers.items():
        documented_args = re.search(r"with `([^`]+)`", trigger)
        args = tuple(documented_args[1].split()) if documented_args else ()
        [row] = [c for c in CASES if c.file == file and c.args == args]
        if trigger.startswith("none"):
            assert row.expected == frozenset(), file
            if "info" in trigger:
                assert row.infos, file
        else:
            documented = set(README_TRIGGER.findall(trigger.split(" with `")[0]))
            assert documented, trigger
            assert row.expected == documented, file


# ---- each sample fires exactly its check ------------------------------------------------------


@pytest.mark.parametrize("case", sample_params())
def test_sample_fires_exactly_its_check_and_nothing_else_at_warning_or_above(case):
    report, _ = sample_report(case.id)
    assert severe(report) == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sample_has_infos_only_where_the_table_allows_them(case):
    report, _ = sample_report(case.id)
    infos = every_finding(report) - severe(report)
    if not case.infos:
        assert infos == set()
    assert {severity for _, severity in infos} <= {"info"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sample_exits_1_exactly_when_its_check_is_an_error(case):
    report, code = sample_report(case.id)
    expected_code = int(any(severity == ERROR for _, severity in case.expected))
    assert code == expected_code
    assert report["exit_code"] == code


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_sample_passes_fail_on_never_and_broken_ones_fail_on_warning(case):
    _, never = run_json([*case.cli_args, "--fail-on", "never"])
    _, warning = run_json([*case.cli_args, "--fail-on", "warning"])
    assert never == 0
    assert warning == int(bool(case.expected))


# ---- what the findings saw equals the files, read without lossdoctor --------------------------


def test_logits_evidence_is_the_score_range_and_both_losses():
    columns = read_parquet(SAMPLES / "logits_saved_as_probabilities.parquet")
    y, z = columns["label"], columns["prob"].astype(np.float64)
    evidence = finding(sample_report("logits")[0], LOGITS)["evidence"]
    assert (evidence["min"], evidence["max"]) == (z.min(), z.max())
    assert evidence["share_outside_0_1"] == pytest.approx(np.mean((z < 0) | (z > 1)))
    assert evidence["loss_after_transform"] == pytest.approx(
        skm.log_loss(y, 1 / (1 + np.exp(-z))), rel=1e-9
    )
    assert evidence["loss_as_probabilities"] == pytest.approx(
        skm.log_loss(y, np.clip(z, 1e-7, 1 - 1e-7)), rel=1e-9
    )


def test_log_probabilities_are_exponentiated_for_the_metrics():
    columns = read_parquet(SAMPLES / "log_probabilities.parquet")
    y, log_p = columns["label"], stacked(columns, "prob").astype(np.float64)
    assert log_p.max() <= 0
    report, _ = sample_report("log-probabilities")
    assert report["transform"] == "exp"
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, np.exp(log_p)), rel=1e-9)


def test_double_sigmoid_scores_sit_in_the_band_and_undoing_fits_better():
    columns = read_parquet(SAMPLES / "double_sigmoid.parquet")
    y, s = columns["label"], columns["prob"].astype(np.float64)
    assert s.min() >= 0.5
    assert s.max() <= 1 / (1 + math.exp(-1))
    report, _ = sample_report("double-sigmoid")
    evidence = finding(report, LOGITS)["evidence"]
    assert (evidence["min"], evidence["max"]) == pytest.approx((s.min(), s.max()), rel=1e-7)
    undone = skm.log_loss(y, np.clip(np.log(s / (1 - s)), 0, 1))
    as_given = skm.log_loss(y, s)
    assert undone < as_given
    # the loss after undoing the second sigmoid is in the evidence, or is the report's loss
    # when the metrics are computed on the un-squashed probabilities
    if report["transform"] == "none":
        assert evidence["loss_after_undoing"] == pytest.approx(undone, rel=1e-9)
        assert report["metrics"]["log_loss"] == pytest.approx(as_given, rel=1e-6)
    else:
        assert report["metrics"]["log_loss"] == pytest.approx(undone, rel=1e-9)


def test_missing_softmax_row_sums_and_normalised_metrics():
    columns = read_parquet(SAMPLES / "missing_softmax.parquet")
    y, proba = columns["label"], stacked(columns, "prob")
    sums = proba.astype(np.float64).sum(axis=1)
    report, _ = sample_report("missing-softmax")
    evidence = finding(report, LOGITS)["evidence"]
    assert evidence["row_sum_min"] == pytest.approx(sums.min(), rel=1e-12)
    assert evidence["row_sum_max"] == pytest.approx(sums.max(), rel=1e-12)
    assert report["transform"] == "normalize"
    normalised = proba.astype(np.float64) / sums[:, None]
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, normalised), rel=1e-6)


def test_minus_one_plus_one_labels_are_counted_and_mapped():
    columns = read_csv(SAMPLES / "labels_minus_one_plus_one.csv")
    y = columns["label"]
    report, _ = sample_report("labels-minus-one")
    evidence = finding(report, LABELS)["evidence"]
    assert evidence["values"] == {"-1": int(np.sum(y == -1)), "1": int(np.sum(y == 1))}
    assert evidence["values"] == {"-1": 64, "1": 107}  # as sample_data/README.md says
    assert report["metrics"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, columns["prob"]), rel=1e-12
    )
    assert report["confusion_matrix"]["labels"] == [-1, 1]


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_one_to_k_labels_are_shifted_down_for_the_metrics():
    columns = read_csv(SAMPLES / "labels_one_to_k.csv")
    y, proba = columns["label"], stacked(columns, "prob")
    assert sorted(set(y.tolist())) == [1, 2, 3]
    report, _ = sample_report("labels-one-to-k")
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y - 1, proba), rel=1e-9)
    assert report["confusion_matrix"]["labels"] == [1, 2, 3]


def test_imbalance_evidence_is_the_class_balance_of_the_file():
    y = read_parquet(SAMPLES / "imbalanced.parquet")["label"]
    report, _ = sample_report("imbalanced")
    evidence = finding(report, IMBALANCE)["evidence"]
    assert evidence["minority_share"] == pytest.approx(np.mean(y == 1), rel=1e-12)
    assert evidence["baseline_accuracy"] == pytest.approx(np.mean(y == 0), rel=1e-12)
    assert evidence["class_counts"] == {"0": 486, "1": 54}  # as sample_data/README.md says
    assert evidence["accuracy"] - evidence["baseline_accuracy"] <= 0.02  # the stronger wording
    # the healthy binary sample is balanced enough to stay quiet
    y_healthy = read_parquet(SAMPLES / "healthy_binary.parquet")["label"]
    assert min(np.mean(y_healthy), 1 - np.mean(y_healthy)) >= 0.2


def test_saturation_evidence_counts_the_exact_zeros_of_the_true_class():
    columns = read_parquet(SAMPLES / "saturated.parquet")
    y, p = columns["label"], columns["prob"]
    true_class = np.where(y == 1, p, 1 - p)
    evidence = finding(sample_report("saturated")[0], SATURATION)["evidence"]
    assert evidence["true_class_probability_0"] == int(np.sum(true_class == 0)) == 5
    assert evidence["count_at_0"] >= int(np.sum(p == 0)) == 63
    assert evidence["count_at_1"] >= int(np.sum(p == 1)) == 99


def test_keras_evidence_is_binary_and_categorical_accuracy():
    with np.load(SAMPLES / "keras_onehot_multiclass.npz") as archive:
        y_onehot, proba = archive["y_true"], archive["y_pred"]
    binary_accuracy = np.mean((proba > 0.5) == (y_onehot == 1))
    categorical = skm.accuracy_score(y_onehot.argmax(axis=1), proba.argmax(axis=1))
    evidence = finding(sample_report("keras")[0], ACCURACY)["evidence"]
    assert evidence["binary_accuracy"] == pytest.approx(binary_accuracy, rel=1e-12)
    assert evidence["categorical_accuracy"] == pytest.approx(categorical, rel=1e-12)
    assert (round(binary_accuracy, 4), round(categorical, 4)) == (0.9806, 0.9019)
    assert evidence["closer_to"] == "binary"


def test_non_finite_evidence_lists_the_rows_and_metrics_use_the_others():
    columns = read_csv(SAMPLES / "non_finite.csv")
    y, p = columns["label"], columns["prob"]
    bad = np.flatnonzero(~np.isfinite(p))
    report, _ = sample_report("non-finite")
    evidence = finding(report, NON_FINITE)["evidence"]
    assert evidence["first_rows"] == bad.tolist() == [46, 86, 107, 142]
    assert (evidence["nan_predictions"], evidence["inf_predictions"]) == (3, 1)
    assert report["input"]["rows_used"] == len(p) - len(bad)
    finite = np.isfinite(p)
    assert report["metrics"]["log_loss"] == pytest.approx(
        skm.log_loss(y[finite], p[finite]), rel=1e-9
    )


# ---- every case in every input format ---------------------------------------------------------

FORMATS = ("parquet", "feather", "csv", "csv.gz", "npz", "npy")
TEXT_FORMATS = ("csv", "csv.gz")


def _cell(value: np.generic) -> str:
    """Integers as integers; floats with the digits that read back the same value."""
    if isinstance(value, np.integer | np.bool_):
        return str(int(value))
    if isinstance(value, np.float32):
        return format(float(value), ".9g")
    return repr(float(value))


def _columns(y: np.ndarray, scores: np.ndarray, logits: bool) -> dict[str, np.ndarray]:
    """label or label_0..; prob or prob_0.. (logit.. when the sample declared logits)."""
    name = "logit" if logits else "prob"
    columns = {}
    if y.ndim == 1:
        columns["label"] = y
    else:
        columns |= {f"label_{k}": y[:, k] for k in range(y.shape[1])}
    if scores.ndim == 1:
        columns[name] = scores
    else:
        columns |= {f"{name}_{k}": scores[:, k] for k in range(scores.shape[1])}
    return columns


def write_as(fmt: str, folder: Path, y: np.ndarray, scores: np.ndarray, logits: bool) -> list[str]:
    """The arrays written in one format; returns the CLI arguments that read them back."""
    columns = _columns(y, scores, logits)
    path = folder / f"predictions.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.table(columns), path)
    elif fmt == "feather":
        feather.write_feather(pa.table(columns), path)
    elif fmt in TEXT_FORMATS:
        rows = zip(*columns.values(), strict=True)
        text = ",".join(columns) + "\n" + "".join(",".join(map(_cell, r)) + "\n" for r in rows)
        data = text.encode()
        path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    elif fmt == "npz":
        keys = ("label", "logit") if logits else ("y_true", "y_pred")
        np.savez(path, **dict(zip(keys, (y, scores), strict=True)))
    else:
        np.save(path, scores)
        np.save(folder / "labels.npy", y)
        return [str(path), "--labels", str(folder / "labels.npy")] + ["--from-logits"] * logits
    return [str(path)]


@pytest.mark.parametrize(
    ("case", "fmt"),
    [(c, f) for c in CASES for f in FORMATS],
    ids=[f"{c.id}-{f}" for c in CASES for f in FORMATS],
)
def test_every_format_gives_the_same_findings_and_metrics(tmp_path, case, fmt):
    original, original_code = sample_report(case.id)
    labels = str(SAMPLES / case.labels) if case.labels else None
    arrays = read_predictions(str(SAMPLES / case.file), labels_path=labels)
    args = write_as(fmt, tmp_path, arrays.y_true, arrays.y_score, arrays.declared_logits)

    report, code = run_json([*args, *case.args])

    assert every_finding(report) == every_finding(original)
    assert code == original_code
    for key in ("task", "n_classes", "prediction_kind", "transform"):
        assert report[key] == original[key], key
    assert report["input"]["rows"] == original["input"]["rows"]
    assert report["input"]["rows_used"] == original["input"]["rows_used"]
    assert report["confusion_matrix"] == original["confusion_matrix"]
    for name in METRICS:
        if name not in original["metrics"]:
            continue
        expected = original["metrics"][name]
        if name == "log_loss" and case.loss_depends_on_dtype and fmt in TEXT_FORMATS:
            read_back = read_predictions(args[0])
            expected = skm.log_loss(read_back.y_true, read_back.y_score)
            assert read_back.y_score.dtype == np.float64
        if expected is None:
            assert report["metrics"][name] is None, name
        else:
            assert report["metrics"][name] == pytest.approx(expected, rel=1e-6), name
