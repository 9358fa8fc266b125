"""Bad input never crashes `lossdoctor check`: malformed files and usage end with one line on
stderr and exit 2 (and a JSON error object on stdout under --format json); valid but odd data gets
a report; a bug in lossdoctor itself ends with one line asking for a report and exit 3.

The pickled object array that must be refused unrun is tested in test_io.py
(test_pickled_object_arrays_are_refused_without_running_them); the random files are in
test_fuzz.py.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

import lossdoctor
from lossdoctor import io as lio
from lossdoctor.cli import cli
from lossdoctor.io import csv as io_csv

Y = np.array([0, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.9, 0.8, 0.3, 0.6, 0.4])
PACKAGE = Path(lossdoctor.__file__).parent


def run(*args: object, input: bytes | None = None) -> Result:
    """`lossdoctor check ARGS`, in-process; no run may end in a traceback."""
    result = CliRunner().invoke(cli, ["check", *map(str, args)], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def report(*args: object, input: bytes | None = None) -> dict:
    """The --format json report: exit 0 or 1, strict JSON, nothing on stderr."""
    result = run(*args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), result.stderr
    assert result.stderr == ""
    parsed = json.loads(result.stdout, parse_constant=_reject_constant)
    assert parsed["exit_code"] == result.exit_code
    return parsed


def assert_input_error(result: Result, fragments: list[str], output_format: str) -> str:
    """Exit 2, one line on stderr; under --format json the same message as a JSON object."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lossdoctor: error: ")
    message = lines[0].removeprefix("lossdoctor: error: ")
    for fragment in fragments:
        assert fragment in message
    if output_format == "json":
        error = json.loads(result.stdout)
        assert error == {
            "schema_version": 1,
            "path": error["path"],
            "error": message,
            "exit_code": 2,
        }
    else:
        assert result.stdout == ""
    return message


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def csv_of(**columns) -> str:
    rows = zip(*columns.values(), strict=True)
    return ",".join(columns) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)


def npy_pair(tmp: Path, scores, labels) -> list[str]:
    np.save(tmp / "p.npy", np.asarray(scores))
    np.save(tmp / "y.npy", np.asarray(labels))
    return [str(tmp / "p.npy"), "--labels", str(tmp / "y.npy")]


def npy_with_labels(tmp: Path, data: bytes) -> list[str]:
    """A damaged p.npy and a good y.npy."""
    return [str(write(tmp / "p.npy", data)), "--labels", str(write(tmp / "y.npy", npy_bytes(Y)))]


def parquet_bytes(table: dict) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(table), sink)
    return sink.getvalue().to_pybytes()


def npy_bytes(array: np.ndarray) -> bytes:
    return _saved(lambda path: np.save(path, array), "x.npy")


def npz_bytes(**arrays: np.ndarray) -> bytes:
    return _saved(lambda path: np.savez(path, **arrays), "x.npz")


def _saved(save: Callable[[Path], None], name: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        save(Path(tmp) / name)
        return (Path(tmp) / name).read_bytes()


NOISE = bytes(range(256))[::-1] * 4  # not text, not any format's magic


def _directory_of_csv(tmp: Path) -> list[str]:
    """A directory is a dataset, streamed; CSV files are read whole, so they are refused."""
    (tmp / "run").mkdir()
    write(tmp / "run" / "preds.csv", "label,prob\n0,0.1\n1,0.9\n")
    write(tmp / "run" / "notes.txt", "not predictions")
    return [str(tmp / "run")]


def _empty_directory(tmp: Path) -> list[str]:
    (tmp / "empty").mkdir()
    return [str(tmp / "empty")]


# Each case: the arguments of `lossdoctor check` for a file made in tmp, and what the one error
# line must say (the file, what is wrong, what to do).
BAD_INPUT: dict[str, tuple[Callable[[Path], list[str]], list[str]]] = {
    "missing-path": (lambda tmp: [str(tmp / "missing.csv")], ["missing.csv", "no such file"]),
    "path-too-long": (lambda tmp: [str(tmp / ("a" * 5000))], ["cannot read", "aaaa"]),
    "empty-directory": (_empty_directory, ["empty", "no prediction file in it", "pass a file"]),
    "directory-of-csv": (_directory_of_csv, ["run holds CSV files", "preds.csv", "to Parquet"]),
    "empty-csv": (lambda tmp: [str(write(tmp / "p.csv", ""))], ["p.csv is empty", "header"]),
    "empty-parquet": (lambda tmp: [str(write(tmp / "p.parquet", b""))], ["p.parquet"]),
    "empty-npy": (
        lambda tmp: [str(write(tmp / "p.npy", b"")), "--labels", str(write(tmp / "y.npy", b""))],
        ["p.npy is empty", "np.save"],
    ),
    "header-only-csv": (
        lambda tmp: [str(write(tmp / "p.csv", "label,prob\n"))],
        ["no rows in", "p.csv", "save at least one prediction"],
    ),
    "unknown-extension": (
        lambda tmp: [str(write(tmp / "p.xlsx", NOISE))],
        ["p.xlsx", "extension not recognised", "--input-format"],
    ),
    "truncated-parquet": (
        lambda tmp: [str(write(tmp / "p.parquet", parquet_bytes({"label": Y, "prob": P})[:-9]))],
        ["cannot read", "p.parquet as parquet", "check the file"],
    ),
    "truncated-npy": (
        lambda tmp: npy_with_labels(tmp, npy_bytes(P)[:-5]),
        ["p.npy declares an array of shape (6,) (float64, 48 bytes) but holds 43", "truncated"],
    ),
    "truncated-npz": (
        lambda tmp: [str(write(tmp / "p.npz", npz_bytes(y_true=Y, y_pred=P)[:-40]))],
        ["cannot read", "p.npz as npz"],
    ),
    "corrupt-feather": (
        lambda tmp: [str(write(tmp / "p.feather", b"ARROW1" + NOISE))],
        ["cannot read", "p.feather as feather"],
    ),
    "random-bytes-csv": (
        lambda tmp: [str(write(tmp / "p.csv", NOISE))],
        ["cannot read", "p.csv as csv"],
    ),
    "random-bytes-parquet": (
        lambda tmp: [str(write(tmp / "p.parquet", NOISE))],
        ["cannot read", "p.parquet as parquet"],
    ),
    "random-bytes-npy": (
        lambda tmp: npy_with_labels(tmp, NOISE),
        ["p.npy is not an .npy file", "--input-format"],
    ),
    "random-bytes-npz": (
        lambda tmp: [str(write(tmp / "p.npz", b"PK" + NOISE))],
        ["p.npz is not an .npz file"],
    ),
    "non-numeric-predictions": (
        lambda tmp: [str(write(tmp / "p.csv", "label,prob\n0,low\n1,high\n"))],
        ["column 'prob'", "not numeric", "--pred-col"],
    ),
    "no-label-column": (
        lambda tmp: [str(write(tmp / "p.csv", "row_id,prob\n0,0.25\n1,0.75\n"))],
        ["no label column", "row_id, prob", "--label-col"],
    ),
    "no-prediction-column": (
        lambda tmp: [str(write(tmp / "p.csv", "label,x,z\n0,0.25,3\n1,0.75,4\n"))],
        ["no prediction column", "label, x, z", "--pred-col"],
    ),
    "ambiguous-columns": (
        lambda tmp: [str(write(tmp / "p.csv", "label,prob,score\n0,0.2,0.3\n1,0.8,0.7\n"))],
        ["several prediction columns", "prob and score", "--pred-col"],
    ),
    "zero-rows": (lambda tmp: npy_pair(tmp, np.zeros(0), np.zeros(0)), ["no rows in", "p.npy"]),
    "three-dimensions": (
        lambda tmp: npy_pair(tmp, np.zeros((2, 2, 2)), [0, 1]),
        ["p.npy has 3 dimensions", "expected 1"],
    ),
    "zero-columns": (
        lambda tmp: npy_pair(tmp, np.zeros((6, 0)), Y),
        ["p.npy has rows of no values", "one value per class"],
    ),
    "different-lengths": (
        lambda tmp: npy_pair(tmp, P, Y[:3]),
        ["labels have 3 rows but predictions have 6", "same rows"],
    ),
    "npz-without-known-keys": (
        lambda tmp: [str(write(tmp / "p.npz", npz_bytes(a=Y, b=P)))],
        ["not a predictions file", "p.npz", "a, b", "--label-col"],
    ),
    "every-row-nan": (
        lambda tmp: [str(write(tmp / "p.csv", "label,prob\n0,nan\n1,inf\n"))],
        ["p.csv", "every row holds a NaN or infinite", "find where the NaNs come from"],
    ),
    "no-label-is-a-class": (
        lambda tmp: [str(write(tmp / "p.csv", "label,prob\n5,0.2\n7,0.8\n"))],
        ["p.csv", "no label is a class", "5, 7", "0 and 1", "--label-col"],
    ),
    "too-many-classes": (
        lambda tmp: npy_pair(tmp, np.full((2, 5001), 1 / 5001), [0, 1]),
        ["5,001 prediction columns", "5,000"],
    ),
    "binary-task-with-three-columns": (
        lambda tmp: [*npy_pair(tmp, np.full((2, 3), 1 / 3), [0, 1]), "--task", "binary"],
        ["--task binary", "not 3"],
    ),
    "text-in-label-rows": (
        lambda tmp: npy_pair(tmp, np.full((2, 3), 1 / 3), [["a", "b", "c"]] * 2),
        ["rows of text", "0/1 indicators", "--label-col"],
    ),
    "stdin-twice": (lambda tmp: ["-", "--labels", "-"], ["stdin (-) can be read only once"]),
}


@pytest.mark.parametrize("output_format", ["terminal", "json"])
@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(tmp_path, case, output_format):
    make_args, fragments = BAD_INPUT[case]
    result = run(*make_args(tmp_path), "--format", output_format, input=b"")
    assert_input_error(result, fragments, output_format)


@pytest.mark.parametrize("output_format", ["terminal", "json"])
def test_an_unknown_option_is_one_line_and_exit_2(tmp_path, output_format):
    path = write(tmp_path / "p.csv", csv_of(label=Y, prob=P))
    result = run(path, "--format", output_format, "--no-such-option")
    message = assert_input_error(result, ["No such option", "--no-such-option"], output_format)
    assert message.endswith("check --help'")


def test_an_unknown_option_before_the_command_is_one_line_too():
    result = CliRunner().invoke(cli, ["--no-such-option", "check", "p.csv"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "No such option" in result.stderr


def test_a_column_name_with_a_newline_still_gives_one_line(tmp_path):
    path = write(tmp_path / "p.csv", '"row\nid",prob\n0,0.5\n')
    result = run(path)
    assert_input_error(result, ["row\\nid"], "terminal")


# ---- limits on what is read -------------------------------------------------------------------


def test_a_csv_wider_than_the_column_limit_is_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(lio.MAX_COLUMNS + 1))
    result = run(write(tmp_path / "wide.csv", header + "\n"))
    assert_input_error(result, ["wide.csv has 100,001 columns", "only the label"], "terminal")


def test_a_wide_csv_read_by_pyarrow_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    monkeypatch.setattr(io_csv, "MAX_COLUMNS", 3)
    result = run(write(tmp_path / "wide.csv", "label,prob,a,b\n0,0.5,1,2\n"))
    assert_input_error(result, ["wide.csv has 4 columns"], "terminal")


def test_a_file_that_is_one_endless_line_is_refused_without_reading_it_whole(tmp_path):
    path = write(tmp_path / "line.csv", b"label,prob," + b"x" * (lio.MAX_HEADER_BYTES + 10))
    result = run(path)
    assert_input_error(result, ["first line of", "line.csv", "not a CSV header"], "terminal")


def test_blank_lines_without_end_before_the_header_are_refused_at_the_header_limit(tmp_path):
    """Lines of 8 MB of spaces: counted by bytes, not lines (8 M such lines would be 64 TB)."""
    member = gzip.compress(b" " * lio.MAX_HEADER_BYTES + b"\n")
    path = write(tmp_path / "blank.csv.gz", member * 64 + gzip.compress(b"label,prob\n0,0.5\n"))
    result = run(path)
    assert_input_error(result, ["first line of", "blank.csv.gz", "past its first 8 MB"], "terminal")


def test_a_small_gzip_that_inflates_past_the_limit_is_streamed_not_inflated(tmp_path, monkeypatch):
    text = csv_of(label=np.tile(Y, 100), prob=np.tile(P, 100))
    path = write(tmp_path / "p.csv.gz", gzip.compress(text.encode()))
    monkeypatch.setattr(io_csv, "_GZ_INFLATED_MAX", len(text) // 4)
    streamed = []
    real = io_csv._large_csv
    monkeypatch.setattr(io_csv, "_large_csv", lambda *a: streamed.append(a) or real(*a))
    assert report(path)["input"]["rows"] == 600
    assert streamed


def test_no_eval_exec_or_unpickling_anywhere_in_the_package():
    """Files come from other programs: nothing in them may ever be run."""
    forbidden = re.compile(r"\b(eval|exec)\(|allow_pickle=True|pickle\.loads?\(|read_pickle")
    for path in PACKAGE.rglob("*.py"):
        assert not forbidden.search(path.read_text()), path


# ---- valid but odd: a report, not an error ----------------------------------------------------


def test_nan_and_infinite_values_are_a_finding_and_the_rest_is_diagnosed(tmp_path):
    path = write(tmp_path / "p.csv", "label,prob\n0,0.1\n1,nan\n1,0.8\n0,inf\n1,0.7\n0,0.2\n")
    parsed = report(path)
    finding = next(f for f in parsed["findings"] if f["check"] == "non-finite-values")
    assert finding["evidence"]["first_rows"] == [1, 3]
    assert (parsed["input"]["rows"], parsed["input"]["rows_used"]) == (6, 4)
    assert parsed["metrics"]["accuracy"] == 1.0


def test_a_single_row_is_a_report_with_undefined_metrics_explained(tmp_path):
    parsed = report(write(tmp_path / "p.csv", "label,prob\n1,0.8\n"))
    assert parsed["input"]["rows"] == 1
    assert parsed["metrics"]["roc_auc"] is None
    assert "one class" in parsed["undefined_metrics"]["roc_auc"]


@pytest.mark.parametrize("output_format", ["terminal", "json"])
def test_a_single_class_in_the_labels_is_a_report(tmp_path, output_format):
    path = write(tmp_path / "p.csv", csv_of(label=[1, 1, 1, 1], prob=[0.9, 0.2, 0.7, 0.6]))
    result = run(path, "--format", output_format)
    assert result.exit_code in (0, 1)
    if output_format == "json":
        parsed = json.loads(result.stdout, parse_constant=_reject_constant)
        assert parsed["metrics"]["roc_auc"] is None
        assert parsed["undefined_metrics"]["roc_auc"] == "only one class in the labels"


def test_a_single_class_of_a_multiclass_problem_is_a_report(tmp_path):
    parsed = report(*npy_pair(tmp_path, np.full((4, 3), 1 / 3), [2, 2, 2, 2]))
    assert parsed["metrics"]["roc_auc"] is None
    assert "absent from the labels" in parsed["undefined_metrics"]["roc_auc"]


def test_string_labels_are_mapped_and_the_mapping_is_a_finding(tmp_path):
    path = write(tmp_path / "p.csv", csv_of(label=["cat", "dog", "cat", "dog"], prob=P[:4]))
    parsed = report(path)
    finding = next(f for f in parsed["findings"] if f["check"] == "label-encoding")
    assert finding["severity"] == "info"
    assert "cat -> 0, dog -> 1" in finding["message"]
    assert parsed["confusion_matrix"]["labels"] == ["cat", "dog"]


def test_positive_label_chooses_the_positive_class_of_string_labels(tmp_path):
    path = write(tmp_path / "p.csv", csv_of(label=["cat", "dog", "cat", "dog"], prob=P[:4]))
    parsed = report(path, "--positive-label", "cat")
    assert parsed["confusion_matrix"]["labels"] == ["dog", "cat"]
    assert parsed["per_class"][1]["support"] == 2


def test_a_positive_label_that_is_no_label_is_an_input_error(tmp_path):
    path = write(tmp_path / "p.csv", csv_of(label=["cat", "dog"], prob=P[:2]))
    result = run(path, "--positive-label", "cow")
    assert_input_error(result, ["--positive-label 'cow'", "cat, dog"], "terminal")


def test_labels_outside_the_prediction_columns_are_a_finding(tmp_path):
    path = write(tmp_path / "p.csv", csv_of(label=[0, 1, 5, 1e30, 0, 1], prob=P))
    parsed = report(path)
    finding = next(f for f in parsed["findings"] if f["title"].startswith("Labels outside"))
    assert finding["severity"] == "error"
    assert finding["evidence"]["rows_out_of_range"] == 2
    assert parsed["input"]["rows_used"] == 4


def test_labels_and_column_names_that_look_like_markup_are_printed_as_they_are(tmp_path):
    text = csv_of(**{"[red]y": ["[/x]", "[bold]b", "[/x]", "[bold]b"], "prob": P[:4]})
    result = run(write(tmp_path / "p.csv", text), "--label-col", "[red]y")
    assert result.exit_code in (0, 1), result.output
    for shown in ("[red]y", "[/x]", "[bold]b"):
        assert shown in result.stdout


@pytest.mark.parametrize("output_format", ["terminal", "json"])
def test_a_thousand_classes(tmp_path, output_format):
    rng = np.random.default_rng(0)
    args = npy_pair(tmp_path, rng.dirichlet(np.ones(1000), 300), rng.integers(0, 1000, 300))
    result = run(*args, "--format", output_format)
    assert result.exit_code in (0, 1)
    if output_format == "json":
        assert json.loads(result.stdout, parse_constant=_reject_constant)["n_classes"] == 1000


@pytest.mark.parametrize("fmt", ["csv", "parquet", "feather"])
def test_duplicate_column_names_keep_the_first(tmp_path, fmt):
    """The first `prob` is right on every row, the second wrong on every row."""
    path = tmp_path / f"p.{fmt}"
    if fmt == "csv":
        write(path, csv_of(label=Y, prob=Y * 0.8 + 0.1, x=P).replace(",x", ",prob"))
    else:
        arrays = [pa.array(Y), pa.array(Y * 0.8 + 0.1), pa.array(0.9 - Y * 0.8), pa.array(Y)]
        table = pa.Table.from_arrays(arrays, names=["label", "prob", "prob", "label"])
        pq.write_table(table, path) if fmt == "parquet" else feather.write_feather(table, path)
    parsed = report(path)
    assert parsed["input"]["prediction_columns"] == ["prob"]
    assert parsed["metrics"]["accuracy"] == 1.0


def test_a_bom_and_crlf_line_ends(tmp_path):
    text = csv_of(label=Y, prob=P).replace("\n", "\r\n")
    parsed = report(write(tmp_path / "p.csv", b"\xef\xbb\xbf" + text.encode()))
    assert parsed["input"]["label_columns"] == ["label"]
    assert parsed["input"]["rows"] == 6


@pytest.mark.parametrize("name", ["p.csv.gz", "p.csv", "p.data"])
def test_gzip_compressed_csv_under_any_name_and_on_stdin(tmp_path, name):
    data = gzip.compress(csv_of(label=Y, prob=P).encode())
    assert report(write(tmp_path / name, data))["input"]["rows"] == 6
    assert report("-", input=data)["input"]["rows"] == 6


def test_boolean_predictions_and_labels(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": Y.astype(bool), "pred": Y.astype(bool)}), path)
    assert report(path)["metrics"]["accuracy"] == 1.0


def test_one_hot_labels_against_one_score_column(tmp_path):
    parsed = report(*npy_pair(tmp_path, P, np.eye(2)[Y]))
    assert parsed["task"] == "binary"
    assert parsed["metrics"]["accuracy"] == 1.0


# ---- internal errors: exit 3, one line, the traceback only with --debug ------------------------


@pytest.fixture
def broken(monkeypatch, tmp_path) -> Path:
    """A healthy file and a lossdoctor with a bug in it."""
    import lossdoctor.pipeline

    def bug(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(lossdoctor.pipeline, "diagnose", bug)
    return write(tmp_path / "p.csv", csv_of(label=Y, prob=P))


def test_an_internal_error_is_one_line_asking_for_a_report_and_exit_3(broken):
    result = run(broken)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "lossdoctor: internal error: ZeroDivisionError: float division by zero "
        f"(lossdoctor {lossdoctor.__version__}; please report this with the file's shape; "
        "rerun with --debug for the traceback)\n"
    )


DEBUG_PLACES = [
    ["check", "--debug", "FILE"],
    ["check", "FILE", "--debug"],
    ["--debug", "check", "FILE"],
]


@pytest.mark.parametrize("args", DEBUG_PLACES)
def test_debug_prints_the_traceback_of_an_internal_error(broken, args):
    args = [str(broken) if a == "FILE" else a for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: float division by zero" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("lossdoctor: internal error: ZeroDivisionError")
    assert "please report this" in last


def test_an_internal_error_under_json_is_a_json_error_object(broken):
    result = run(broken, "--format", "json")
    assert result.exit_code == 3
    parsed = json.loads(result.stdout)
    assert parsed["exit_code"] == 3
    assert parsed["error"].startswith("ZeroDivisionError: float division by zero (lossdoctor")


def test_debug_changes_nothing_when_nothing_breaks(tmp_path):
    path = write(tmp_path / "p.csv", csv_of(label=Y, prob=P))
    assert run(path, "--debug", "--format", "json").stdout == run(path, "--format", "json").stdout


# ---- shapes are checked once, where the rows are read -----------------------------------------


@pytest.mark.parametrize(
    ("labels", "scores", "agreeing", "said"),
    [
        ([[0, 1], [1, 0]], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]], [[0.2, 0.8], [0.9, 0.1]], "2 label"),
        ([[0, 1, 0], [1, 0, 0]], [0.2, 0.3], [[0, 1], [1, 0]], "3 label columns but a single"),
    ],
)
def test_label_and_prediction_columns_that_disagree_are_refused_when_read(
    labels, scores, agreeing, said
):
    with pytest.raises(lossdoctor.InputError, match=said):
        lio.from_arrays(np.array(labels), np.array(scores), source="<a>", format="array")
    if np.ndim(scores) == 2:  # the same labels with as many prediction columns are read
        read = lio.from_arrays(np.array(labels), np.array(agreeing), source="<a>", format="array")
    else:  # a single prediction column goes with one-hot labels of two classes
        read = lio.from_arrays(np.array(agreeing), np.array(scores), source="<a>", format="array")
    assert len(read.y_true) == 2


def test_more_prediction_columns_than_classes_diagnosed_are_refused_when_read():
    wide = np.full((2, lio.MAX_CLASSES + 1), 1 / (lio.MAX_CLASSES + 1))
    with pytest.raises(lossdoctor.InputError, match="more than the 5,000 classes"):
        lio.from_arrays(np.array([0, 1]), wide, source="<a>", format="array")
    lio.from_arrays(np.array([0, 1]), wide[:, 1:], source="<a>", format="array")


def test_a_dataset_batch_wider_than_the_first_is_an_input_error(tmp_path):
    """Each batch is checked as it is read; batches that disagree cannot be one report."""
    from lossdoctor.engines.local import Streaming
    from lossdoctor.pipeline import diagnose
    from lossdoctor.settings import Settings

    (tmp_path / "d").mkdir()
    three = {"label": [0, 1, 2], "probs": [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]}
    four = {
        "label": [0, 1, 3],
        "probs": [[0.2, 0.3, 0.4, 0.1], [0.1, 0.7, 0.1, 0.1]] * 1 + [[0.1] * 4],
    }
    pq.write_table(pa.table(three), tmp_path / "d" / "a.parquet")
    pq.write_table(pa.table(four), tmp_path / "d" / "b.parquet")
    dataset = lio.open_dataset(str(tmp_path / "d"), batch_rows=3)
    with pytest.raises(lossdoctor.InputError, match="disagree on the number of label or score"):
        diagnose(Streaming(dataset), Settings())
    result = run(tmp_path / "d")
    assert result.exit_code == 2 and "different lengths (3..4)" in result.stderr
