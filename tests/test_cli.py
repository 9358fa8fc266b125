"""End to end through the command line: exit codes, one-line errors, strict JSON whose numbers are
scikit-learn's, stdin, the column and decision options, and plain text when piped.

Most tests call click's CliRunner in-process; only what a real process shows (python -m, a pipe,
which modules --help imports) runs in a subprocess.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from sklearn import metrics as skm

import lossdoctor
from lossdoctor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
NPY_LABELS = ("--labels", str(SAMPLES / "healthy_multiclass_labels.npy"))

TOP_LEVEL_KEYS = {
    "schema_version",
    "input",
    "task",
    "n_classes",
    "prediction_kind",
    "transform",
    "findings",
    "metrics",
    "confusion_matrix",
    "exit_code",
}
INPUT_KEYS = {"paths", "format", "rows", "label_columns", "prediction_columns"}
CHECK_OPTIONS = (
    "--labels",
    "--label-col",
    "--pred-col",
    "--task",
    "--from-logits",
    "--from-probabilities",
    "--threshold",
    "--positive-label",
    "--loss",
    "--reported-accuracy",
    "--input-format",
    "--format",
    "--fail-on",
)


# ---- helpers ----------------------------------------------------------------------------------


def invoke(*args: object, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def check(*args: object, input: bytes | None = None) -> Result:
    return invoke("check", *args, input=input)


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> dict:
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


def json_report(*args: object, input: bytes | None = None) -> tuple[dict, int]:
    """The parsed --format json report and the exit code; fails on a usage error or a crash."""
    result = check(*args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), result.stderr
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.stderr == ""
    return strict_json(result.stdout), result.exit_code


def sample(name: str) -> Path:
    return SAMPLES / name


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV by the standard library: int() or float() per cell, exact to the last bit."""
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    columns = {}
    for i, name in enumerate(header):
        cells = [row[i] for row in rows]
        try:
            columns[name] = np.array([int(c) for c in cells], dtype=np.int64)
        except ValueError:
            columns[name] = np.array([float(c) for c in cells], dtype=np.float64)
    return pd.DataFrame(columns)


def read_table(path: Path) -> pd.DataFrame:
    """The file read without lossdoctor: pyarrow for Arrow files, the stdlib for CSV."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    if path.suffix == ".feather":
        return feather.read_table(path).to_pandas()
    return read_csv(path)


def read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores of a sample (one score column, or prob_0..prob_{K-1})."""
    if path.suffix == ".npz":
        with np.load(path) as archive:
            return archive["y_true"], archive["y_pred"]
    table = read_table(path)
    scores = [c for c in table.columns if c != "label"]
    values = table[scores].to_numpy()
    return table["label"].to_numpy(), values[:, 0] if len(scores) == 1 else values


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))


def binary_reference(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    predicted = p >= threshold
    return {
        "log_loss": skm.log_loss(y, p),
        "brier": skm.brier_score_loss(y, p),
        "accuracy": skm.accuracy_score(y, predicted),
        "roc_auc": skm.roc_auc_score(y, p),
        "pr_auc": skm.average_precision_score(y, p),
        "mcc": skm.matthews_corrcoef(y, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
        "f1": skm.f1_score(y, predicted),
    }


def assert_metrics(actual: dict, expected: dict, rel: float, loss_rel: float | None = None) -> None:
    for name, value in expected.items():
        tolerance = loss_rel if loss_rel is not None and name in ("log_loss", "brier") else rel
        assert actual[name] == pytest.approx(value, rel=tolerance, abs=0), name


# ---- version and help -------------------------------------------------------------------------


def test_version_prints_the_package_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"lossdoctor, version {lossdoctor.__version__}\n"


def test_help_lists_the_check_command_and_version_option():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "check" in result.stdout
    assert "--version" in result.stdout
    assert "Exit codes" in result.stdout


def test_check_help_lists_every_option():
    result = invoke("check", "--help")
    assert result.exit_code == 0
    missing = [option for option in CHECK_OPTIONS if option not in result.stdout]
    assert missing == []


# ---- exit codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("healthy_binary.parquet", [], 0),
        ("logits_saved_as_probabilities.parquet", [], 1),
        ("imbalanced.parquet", [], 0),
        ("imbalanced.parquet", ["--fail-on", "error"], 0),
        ("imbalanced.parquet", ["--fail-on", "warning"], 1),
        ("logits_saved_as_probabilities.parquet", ["--fail-on", "never"], 0),
        ("healthy_multiclass.parquet", [], 0),
        ("healthy_multiclass.parquet", ["--fail-on", "warning"], 0),
        ("healthy_multiclass.parquet", ["--fail-on", "info"], 1),
        ("healthy_binary.parquet", ["--fail-on", "info"], 0),
    ],
)
def test_exit_code_follows_the_worst_finding_and_fail_on(name, args, code):
    result = check(sample(name), *args)
    assert result.exit_code == code, result.stderr
    assert result.stderr == ""
    assert "Metrics" in result.stdout  # the terminal report was printed either way


def test_healthy_multiclass_has_infos_and_nothing_worse():
    """Why --fail-on info fails healthy_multiclass.parquet while warning does not."""
    report, _ = json_report(sample("healthy_multiclass.parquet"))
    severities = {f["severity"] for f in report["findings"]}
    assert severities == {"info"}
    assert ("accuracy-mismatch", "info") in {
        (f["check"], f["severity"]) for f in report["findings"]
    }


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("healthy_binary.parquet", []),
        ("logits_saved_as_probabilities.parquet", []),
        ("logits_saved_as_probabilities.parquet", ["--fail-on", "never"]),
        ("imbalanced.parquet", ["--fail-on", "warning"]),
        ("healthy_multiclass.parquet", ["--fail-on", "info"]),
        ("non_finite.csv", []),
    ],
)
def test_json_exit_code_equals_the_process_exit_code(name, args):
    report, code = json_report(sample(name), *args)
    assert report["exit_code"] == code
    has_error = any(f["severity"] == "error" for f in report["findings"])
    if not args:
        assert code == int(has_error)


# ---- usage errors: exit 2 and one line --------------------------------------------------------


def _csv_without_labels(tmp_path: Path) -> list[str]:
    path = tmp_path / "no_labels.csv"
    path.write_text("row_id,prob\n0,0.25\n1,0.75\n")
    return [str(path)]


def _npy_of_different_lengths(tmp_path: Path) -> list[str]:
    np.save(tmp_path / "scores.npy", np.array([0.1, 0.6, 0.8]))
    np.save(tmp_path / "labels.npy", np.array([0, 1]))
    return [str(tmp_path / "scores.npy"), "--labels", str(tmp_path / "labels.npy")]


@pytest.mark.parametrize(
    ("make_args", "fragments"),
    [
        (lambda tmp: [str(tmp / "missing.parquet")], ["missing.parquet", "no such file"]),
        (lambda tmp: [str(SAMPLES / "healthy_multiclass.npy")], ["--labels"]),
        (_csv_without_labels, ["no label column", "row_id", "prob", "--label-col"]),
        (_npy_of_different_lengths, ["2 rows", "3"]),
        (
            lambda tmp: [str(SAMPLES / "healthy_binary.parquet"), "--task", "multiclass"],
            ["--task multiclass"],
        ),
        (
            lambda tmp: [
                str(SAMPLES / "healthy_binary_declared_logits.parquet"),
                "--from-probabilities",
            ],
            ["--from-probabilities"],
        ),
    ],
    ids=[
        "missing-path",
        "npy-without-labels",
        "csv-without-label-column",
        "different-lengths",
        "task-needs-columns",
        "from-probabilities-on-logits",
    ],
)
@pytest.mark.parametrize("output_format", ["terminal", "json"])
def test_bad_input_exits_2_with_one_error_line_and_no_traceback(
    tmp_path, make_args, fragments, output_format
):
    result = check(*make_args(tmp_path), "--format", output_format)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # not an exception escaping the CLI
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lossdoctor: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    if output_format == "json" and result.stdout:
        # a program reading stdout may get the same error as a JSON object, never a report
        error = strict_json(result.stdout)
        message = lines[0].removeprefix("lossdoctor: error: ")
        assert error == {
            "schema_version": 1,
            "path": error["path"],
            "error": message,
            "exit_code": 2,
        }
    else:
        assert result.stdout == ""


def test_unknown_option_is_clicks_usage_error_with_exit_2():
    result = check(sample("healthy_binary.parquet"), "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    assert "--no-such-option" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_threshold_outside_0_1_is_a_usage_error():
    result = check(sample("healthy_binary.parquet"), "--threshold", "1.5")
    assert result.exit_code == 2
    assert "--threshold" in result.stderr
    assert result.stdout == ""


# ---- JSON -------------------------------------------------------------------------------------


def test_strict_json_helper_refuses_nan_and_infinity():
    """The parser the JSON tests use would catch a NaN: the tests below can fail."""
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not strict JSON"):
            strict_json(f'{{"x": {constant}}}')


@pytest.mark.parametrize("name", ["healthy_binary.parquet", "non_finite.csv", "saturated.parquet"])
def test_json_has_the_documented_keys_for_binary(name):
    report, _ = json_report(sample(name))
    assert report.keys() >= TOP_LEVEL_KEYS | {"thresholds"}
    assert report["schema_version"] == 1
    assert report["input"].keys() >= INPUT_KEYS
    assert report["input"]["paths"] == [str(sample(name))]
    assert report["input"]["format"] == Path(name).suffix.lstrip(".")
    assert report["input"]["rows"] == len(read_table(sample(name)))
    assert report["input"]["label_columns"] == ["label"]
    assert report["input"]["prediction_columns"] == ["prob"]
    assert report["task"] == "binary"
    assert report["n_classes"] == 2
    assert report["confusion_matrix"].keys() == {"labels", "matrix"}
    assert len(report["thresholds"]) == 10  # 0.1 .. 0.9 and the best-F1 row


def test_json_has_the_documented_keys_for_multiclass_and_no_threshold_table():
    report, _ = json_report(sample("healthy_multiclass.parquet"))
    assert report.keys() >= TOP_LEVEL_KEYS
    assert "thresholds" not in report
    assert report["task"] == "multiclass"
    assert report["n_classes"] == 10
    assert report["input"]["prediction_columns"] == [f"prob_{k}" for k in range(10)]
    assert report["confusion_matrix"]["labels"] == list(range(10))


@pytest.mark.parametrize(
    ("name", "prepare", "loss_rel"),
    [
        # float32 files: sklearn keeps float32 in its logs, squares and sums (rel ~1e-7)
        ("healthy_binary.parquet", None, 1e-6),
        ("healthy_binary.feather", None, 1e-6),
        ("imbalanced.parquet", None, 1e-6),
        ("saturated.parquet", None, 1e-6),
        # float64 data: every metric to rel 1e-9
        ("healthy_binary.csv", None, None),
        ("labels_minus_one_plus_one.csv", "plus-minus-one", None),
        ("non_finite.csv", "finite-rows", None),
        ("logits_saved_as_probabilities.parquet", "sigmoid", None),
    ],
)
def test_json_metrics_equal_sklearn_on_the_file_read_independently(name, prepare, loss_rel):
    y, p = read_arrays(sample(name))
    if prepare == "plus-minus-one":
        y = (y + 1) // 2
    elif prepare == "finite-rows":
        y, p = y[np.isfinite(p)], p[np.isfinite(p)]
    elif prepare == "sigmoid":
        p = sigmoid(p)
    report, _ = json_report(sample(name))
    assert_metrics(report["metrics"], binary_reference(y, p), rel=1e-9, loss_rel=loss_rel)
    assert report["input"]["rows_used"] == len(y)
    assert report["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, p >= 0.5).tolist()


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_json_metrics_equal_sklearn_for_multiclass():
    y, proba = read_arrays(sample("healthy_multiclass.parquet"))
    report, _ = json_report(sample("healthy_multiclass.parquet"))
    predicted = proba.argmax(axis=1)
    expected = {
        # float64 copy: sklearn would accumulate the float32 logs in float32
        "log_loss": skm.log_loss(y, proba.astype(np.float64)),
        "accuracy": skm.accuracy_score(y, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
        "f1_macro": skm.f1_score(y, predicted, average="macro"),
        "roc_auc": skm.roc_auc_score(y, proba.astype(np.float64), multi_class="ovr"),
        "pr_auc": skm.average_precision_score(np.eye(10)[y], proba),
        "mcc": skm.matthews_corrcoef(y, predicted),
    }
    assert_metrics(report["metrics"], expected, rel=1e-9)
    assert report["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, predicted).tolist()


def test_threshold_table_rows_equal_sklearns_confusion_at_each_threshold():
    y, p = read_arrays(sample("imbalanced.parquet"))
    report, _ = json_report(sample("imbalanced.parquet"))
    grid = [row for row in report["thresholds"] if not row["best_f1"]]
    assert [row["threshold"] for row in grid] == pytest.approx([0.1 * k for k in range(1, 10)])
    for row in report["thresholds"]:
        predicted = p >= np.float32(row["threshold"])
        tn, fp, fn, tp = skm.confusion_matrix(y, predicted).ravel()
        assert (row["tn"], row["fp"], row["fn"], row["tp"]) == (tn, fp, fn, tp)
        assert row["f1"] == pytest.approx(skm.f1_score(y, predicted, zero_division=0), rel=1e-12)
    # the best-F1 row is the maximum of F1 over every threshold sklearn's PR curve visits
    precision, recall, _ = skm.precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.where(precision + recall > 0, precision + recall, 1)
    [best] = [row for row in report["thresholds"] if row["best_f1"]]
    assert best["f1"] == pytest.approx(f1.max(), rel=1e-12)


def test_threshold_option_moves_the_confusion_matrix_to_sklearns_at_that_threshold():
    y, p = read_arrays(sample("healthy_binary.parquet"))
    at_05 = skm.confusion_matrix(y, p >= 0.5).tolist()
    at_03 = skm.confusion_matrix(y, p >= 0.3).tolist()
    assert at_05 != at_03  # the data tells the two thresholds apart
    default, _ = json_report(sample("healthy_binary.parquet"))
    moved, _ = json_report(sample("healthy_binary.parquet"), "--threshold", "0.3")
    assert default["confusion_matrix"]["matrix"] == at_05
    assert moved["confusion_matrix"]["matrix"] == at_03
    assert moved["threshold"] == 0.3
    assert moved["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, p >= 0.3))
    assert moved["metrics"]["f1"] == pytest.approx(skm.f1_score(y, p >= 0.3))
    # the threshold-free metrics do not move
    assert moved["metrics"]["roc_auc"] == default["metrics"]["roc_auc"]
    assert moved["metrics"]["log_loss"] == default["metrics"]["log_loss"]


def _read_npz_sample(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as archive:
        return archive["y_true"], archive["y_pred"]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("healthy_binary.parquet", [], {}),
        ("healthy_binary.parquet", ["--threshold", "0.3"], {"threshold": 0.3}),
        ("healthy_multiclass.parquet", [], {}),
        ("labels_minus_one_plus_one.csv", [], {}),
        ("non_finite.csv", [], {}),
        ("logits_saved_as_probabilities.parquet", [], {}),
        ("imbalanced.parquet", ["--fail-on", "warning"], {"fail_on": "warning"}),
        (
            "keras_onehot_multiclass.npz",
            ["--reported-accuracy", "0.9806"],
            {"reported_accuracy": 0.9806},
        ),
        (
            "missing_softmax.parquet",
            ["--loss", "binary_crossentropy"],
            {"loss": "binary_crossentropy"},
        ),
    ],
)
def test_json_equals_diagnose_to_dict_on_the_same_arrays_except_the_input_block(name, args, kwargs):
    y, p = read_arrays(sample(name))
    cli_report, _ = json_report(sample(name), *args)
    api_report = lossdoctor.diagnose(y, p, **kwargs).to_dict()
    assert api_report["input"]["rows"] == cli_report["input"]["rows"]
    del cli_report["input"], api_report["input"]
    assert cli_report == api_report


# ---- stdin ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "compress", "fmt"),
    [
        ("healthy_binary.parquet", False, "parquet"),
        ("healthy_binary.csv", False, "csv"),
        ("labels_minus_one_plus_one.csv", True, "csv"),
        ("healthy_multiclass.parquet", False, "parquet"),
    ],
)
def test_stdin_gives_the_same_report_as_the_path(name, compress, fmt):
    data = sample(name).read_bytes()
    from_path, path_code = json_report(sample(name))
    from_stdin, stdin_code = json_report("-", input=gzip.compress(data) if compress else data)
    assert from_stdin["input"]["paths"] == ["-"]
    assert from_stdin["input"]["format"] == fmt
    assert from_stdin["input"]["rows"] == from_path["input"]["rows"]
    assert stdin_code == path_code
    del from_path["input"], from_stdin["input"]
    assert from_stdin == from_path


def test_stdin_csv_with_input_format_gives_sklearns_metrics():
    y, p = read_arrays(sample("healthy_binary.csv"))
    report, _ = json_report(
        "-", "--input-format", "csv", input=sample("healthy_binary.csv").read_bytes()
    )
    assert_metrics(report["metrics"], binary_reference(y, p), rel=1e-9)


# ---- column options ---------------------------------------------------------------------------


@pytest.fixture
def unusual_binary_csv(tmp_path):
    """A CSV whose columns match none of the recognised names, with a decoy numeric column."""
    rng = np.random.default_rng(7)
    p = rng.uniform(0.01, 0.99, 120)
    y = (rng.uniform(size=120) < p).astype(int)
    decoy = rng.uniform(size=120)
    lines = ["Is Fraud,model_v2_output,row_weight"]
    lines += [f"{a},{b!r},{c!r}" for a, b, c in zip(y, p.tolist(), decoy.tolist(), strict=True)]
    path = tmp_path / "unusual.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, y, p


def test_unrecognised_columns_are_an_error_until_named(unusual_binary_csv):
    path, y, p = unusual_binary_csv
    refused = check(path)
    assert refused.exit_code == 2
    assert "Is Fraud" in refused.stderr and "--label-col" in refused.stderr
    report, _ = json_report(path, "--label-col", "is fraud", "--pred-col", "MODEL_V2_OUTPUT")
    assert report["input"]["label_columns"] == ["Is Fraud"]
    assert report["input"]["prediction_columns"] == ["model_v2_output"]
    assert_metrics(report["metrics"], binary_reference(y, p), rel=1e-9)


def test_pred_col_alone_is_enough_when_the_label_column_is_recognised(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("target,score_a,score_b\n0,0.2,0.9\n1,0.7,0.1\n1,0.6,0.4\n0,0.4,0.8\n")
    report_a, _ = json_report(path, "--pred-col", "score_a")
    report_b, _ = json_report(path, "--pred-col", "score_b")
    y = np.array([0, 1, 1, 0])
    assert report_a["input"]["label_columns"] == ["target"]
    assert report_a["metrics"]["roc_auc"] == skm.roc_auc_score(y, [0.2, 0.7, 0.6, 0.4]) == 1.0
    assert report_b["metrics"]["roc_auc"] == skm.roc_auc_score(y, [0.9, 0.1, 0.4, 0.8]) == 0.0


def test_pred_col_glob_takes_class_columns_in_numeric_order(tmp_path):
    """p_10 after p_9, whatever the order of the columns in the file."""
    rng = np.random.default_rng(11)
    n_classes, n = 11, 80
    proba = rng.dirichlet(np.ones(n_classes), size=n)
    y = np.array([rng.choice(n_classes, p=row) for row in proba])
    y[:n_classes] = np.arange(n_classes)  # every class present
    file_order = [3, 10, 0, 7, 1, 9, 2, 8, 4, 6, 5]
    header = ["Gold Class", *(f"p_{k}" for k in file_order), "comment"]
    rows = [[str(y[i]), *(repr(float(proba[i, k])) for k in file_order), "x"] for i in range(n)]
    path = tmp_path / "glob.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")

    report, _ = json_report(path, "--label-col", "gold class", "--pred-col", "p_*")
    assert report["input"]["prediction_columns"] == [f"p_{k}" for k in range(n_classes)]
    assert report["task"] == "multiclass"
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    in_file_order = proba[:, file_order]
    assert skm.log_loss(y, in_file_order) != pytest.approx(skm.log_loss(y, proba), rel=1e-3)


# ---- terminal output in a real process ---------------------------------------------------------


def _clean_env(**extra: str) -> dict[str, str]:
    drop = {"FORCE_COLOR", "NO_COLOR", "TERM", "COLUMNS", "CLICOLOR_FORCE", "TTY_COMPATIBLE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env | extra


@pytest.mark.parametrize(
    "env",
    [{"TERM": "xterm-256color"}, {"NO_COLOR": "1", "TERM": "xterm"}],
    ids=["pipe", "pipe-no-color"],
)
def test_python_m_lossdoctor_piped_prints_plain_text(env):
    completed = subprocess.run(
        [sys.executable, "-m", "lossdoctor", "check", "logits_saved_as_probabilities.parquet"],
        cwd=SAMPLES,
        capture_output=True,
        text=True,
        env=_clean_env(**env),
        timeout=120,
    )
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr == ""
    assert "\x1b[" not in completed.stdout
    assert "Logits saved as probabilities" in completed.stdout
    assert "logits-vs-probabilities" in completed.stdout
    assert "Metrics" in completed.stdout
    assert "1 error" in completed.stdout


HELP_PROBE = """
import json, runpy, sys

def run(*argv):
    sys.argv = ["lossdoctor", *argv]
    try:
        runpy.run_module("lossdoctor", run_name="__main__")
    except SystemExit as stop:
        return stop.code
    return None

def heavy():
    return sorted(m for m in ("pandas", "pyarrow", "lossdoctor.comparison") if m in sys.modules)

codes, loaded = [], []
for argv in (["--help"], ["check", "--help"], ["check", "healthy_binary.parquet"]):
    codes.append(run(*argv))
    loaded.append(heavy())
print(json.dumps({"codes": codes, "loaded": loaded}))
"""


def _probe(code: str, where: Path, *argv: str) -> subprocess.CompletedProcess:
    """A fresh interpreter running `code` with `argv` in `where`; it must exit 0."""
    completed = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=where,
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed


def test_help_loads_neither_pandas_nor_pyarrow_but_reading_parquet_loads_pyarrow():
    """Start-up pays only for what the command needs (`check` never loads compare's code)."""
    completed = _probe(HELP_PROBE, SAMPLES)
    assert "Usage: lossdoctor [OPTIONS] COMMAND" in completed.stdout
    assert "Usage: lossdoctor check [OPTIONS] PATH" in completed.stdout
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result["codes"] == [0, 0, 0]
    assert result["loaded"][0] == []  # --help
    assert result["loaded"][1] == []  # check --help
    assert "pyarrow" in result["loaded"][2]  # the probe sees an import when there is one
    assert "lossdoctor.comparison" not in result["loaded"][2]  # compare's code waits for compare


SMALL_RUN_PROBE = """
import json, runpy, sys

LAZY = (
    "pandas", "pyarrow", "numpy.ma", "zipfile", "tomllib", "difflib", "traceback", "html",
    "lossdoctor.comparison", "lossdoctor.render.html",
    "lossdoctor.segments.bins", "lossdoctor.segments.results", "lossdoctor.segments.tables",
    "lossdoctor.segments.totals", "lossdoctor.segments.weak",
)
import numpy  # what numpy itself imports (numpy.ma, before numpy 1.25) is not the run's
before = set(sys.modules)
sys.argv = ["lossdoctor", *sys.argv[1:]]
try:
    runpy.run_module("lossdoctor", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "loaded": [m for m in LAZY if m in set(sys.modules) - before]}))
"""


def _small_run(where: Path, *argv: str) -> dict:
    """The run's exit code and which of LAZY it imported, in `where` (a directory without a
    pyproject.toml above it, which would be read as a config) holding the samples."""
    for sample in ("healthy_binary.csv", "healthy_multiclass.npz"):
        if not (where / sample).exists():
            shutil.copy(SAMPLES / sample, where / sample)
    return json.loads(_probe(SMALL_RUN_PROBE, where, *argv).stdout.splitlines()[-1])


def test_a_small_csv_loads_only_what_its_report_needs(tmp_path):
    """A small file's run imports no reader it does not use, no segmenting without --by, no
    numpy.ma (np.unique's test for masked arrays)."""
    result = _small_run(tmp_path, "check", "healthy_binary.csv", "--format", "json")
    assert result == {"code": 0, "loaded": []}


def test_what_a_small_run_leaves_out_is_loaded_when_the_run_needs_it(tmp_path):
    """The probe above sees the imports: --by loads the segmenting modules, a config file
    tomllib, an .npz file zipfile, a gate's misspelt metric difflib, an HTML page html."""
    lines = (SAMPLES / "healthy_binary.csv").read_text().splitlines()
    grouped = [f"{lines[0]},group", *(f"{line},{i % 3}" for i, line in enumerate(lines[1:]))]
    (tmp_path / "grouped.csv").write_text("\n".join(grouped) + "\n")
    by = _small_run(tmp_path, "check", "grouped.csv", "--format", "json", "--by", "group")
    assert by["code"] in (0, 1)
    assert {"lossdoctor.segments.totals", "lossdoctor.segments.weak"} <= set(by["loaded"])
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "lossdoctor.toml").write_text("fail-on = 'error'\n")
    config = _small_run(
        tmp_path, "check", "healthy_binary.csv", "--config", "settings/lossdoctor.toml"
    )
    assert config["code"] == 0
    assert "tomllib" in config["loaded"] or sys.version_info < (3, 11)
    npz = _small_run(tmp_path, "check", "healthy_multiclass.npz", "--format", "json")
    assert "zipfile" in npz["loaded"]
    typo = _small_run(tmp_path, "check", "healthy_binary.csv", "--gate", "roc_acu >= 0.5")
    assert typo["code"] == 2 and "difflib" in typo["loaded"]
    page = _small_run(tmp_path, "check", "healthy_binary.csv", "--format", "html")
    assert {"html", "lossdoctor.render.html"} <= set(page["loaded"])


def test_main_leaves_no_object_frozen_for_a_caller_that_runs_it_in_process(monkeypatch):
    """main() freezes what the imports made while it runs, and unfreezes it however it ends."""
    import gc

    from lossdoctor.cli import main

    frozen_at_the_end = []
    unfreeze = gc.unfreeze

    def counted_unfreeze() -> None:
        frozen_at_the_end.append(gc.get_freeze_count())
        unfreeze()

    monkeypatch.setattr(gc, "unfreeze", counted_unfreeze)
    monkeypatch.setattr(sys, "argv", ["lossdoctor", "check", str(SAMPLES / "healthy_binary.csv")])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 0
    assert frozen_at_the_end[0] > 0  # the run's collections skipped them
    assert gc.get_freeze_count() == 0
