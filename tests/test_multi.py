"""Several files in one run, --output, --quiet and stdin: one report per path in order, the exit
code the worst of them, an unreadable file reported on stderr without stopping the others, and
the terminal report on stdout while the chosen format goes to a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lossdoctor.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
HEALTHY = SAMPLES / "healthy_binary.parquet"  # exit 0, no finding
HEALTHY_CSV = SAMPLES / "healthy_binary.csv"
LOGITS = SAMPLES / "logits_saved_as_probabilities.parquet"  # exit 1
IMBALANCED = SAMPLES / "imbalanced.parquet"  # warnings only: exit 0
MULTICLASS = SAMPLES / "healthy_multiclass.npz"  # infos only


def run(*args: object, input: bytes | None = None) -> Result:
    result = CliRunner().invoke(cli, ["check", *map(str, args), "--no-config"], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def reports(*args: object, input: bytes | None = None) -> tuple[list | dict, Result]:
    result = run(*args, "--format", "json", input=input)
    return json.loads(result.stdout), result


# ---- several files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "code"),
    [
        ([HEALTHY, MULTICLASS], 0),
        ([HEALTHY, LOGITS], 1),
        ([LOGITS, HEALTHY], 1),
        ([IMBALANCED, HEALTHY, IMBALANCED], 0),
    ],
)
def test_the_exit_code_is_the_worst_of_the_files(paths, code):
    assert run(*paths).exit_code == code


def test_fail_on_applies_to_every_file():
    assert run(IMBALANCED, HEALTHY, "--fail-on", "warning").exit_code == 1


def test_json_of_several_paths_is_a_list_of_reports_in_their_order():
    parsed, result = reports(LOGITS, HEALTHY, MULTICLASS)
    assert result.exit_code == 1
    assert isinstance(parsed, list)
    assert [r["input"]["paths"] for r in parsed] == [
        [str(LOGITS)],
        [str(HEALTHY)],
        [str(MULTICLASS)],
    ]
    assert [r["exit_code"] for r in parsed] == [1, 0, 0]


def test_json_of_one_path_is_the_single_object_and_the_same_report_as_in_a_list():
    single, _ = reports(LOGITS)
    listed, _ = reports(HEALTHY, LOGITS)
    assert isinstance(single, dict)
    assert listed[1] == single


def test_the_terminal_shows_one_report_per_file_in_order():
    result = run(LOGITS, IMBALANCED)
    out = result.stdout
    assert out.count("Metrics") == 2
    assert out.index(LOGITS.name) < out.index(IMBALANCED.name)
    assert result.stderr == ""


def test_an_unreadable_file_is_one_line_on_stderr_and_the_others_are_still_diagnosed(tmp_path):
    missing = tmp_path / "missing.parquet"
    parsed, result = reports(HEALTHY, missing, LOGITS)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("lossdoctor: error: ") and "missing.parquet" in lines[0]
    assert [type(r) for r in parsed] == [dict, dict, dict]
    assert parsed[0]["input"]["paths"] == [str(HEALTHY)]
    message = lines[0].removeprefix("lossdoctor: error: ")
    assert parsed[1] == {
        "schema_version": 1,
        "path": str(missing),
        "error": message,
        "exit_code": 2,
    }
    assert parsed[2]["input"]["paths"] == [str(LOGITS)]


def test_an_unreadable_file_in_the_terminal_leaves_the_other_reports(tmp_path):
    result = run(tmp_path / "missing.csv", HEALTHY)
    assert result.exit_code == 2
    assert "Metrics" in result.stdout and HEALTHY.name in result.stdout
    assert "missing.csv" in result.stderr and "missing.csv" not in result.stdout


def test_every_file_unreadable_is_a_line_each_and_exit_2(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    result = run(tmp_path / "missing.csv", tmp_path / "empty.csv")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 2
    assert result.stdout == ""


def test_a_usage_error_stops_the_run_before_any_file():
    result = run(HEALTHY, LOGITS, "--gate", "nope >= 1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1


def test_labels_apply_to_every_npy_path(tmp_path):
    import numpy as np

    scores = np.load(SAMPLES / "healthy_multiclass.npy")
    np.save(tmp_path / "again.npy", scores)
    labels = SAMPLES / "healthy_multiclass_labels.npy"
    parsed, result = reports(
        SAMPLES / "healthy_multiclass.npy", tmp_path / "again.npy", "--labels", labels
    )
    assert result.exit_code == 0
    assert parsed[0]["metrics"] == parsed[1]["metrics"]


# ---- stdin --------------------------------------------------------------------------------------


def test_stdin_among_paths_is_read_once_and_reported_in_its_place():
    parsed, result = reports(HEALTHY, "-", LOGITS, input=HEALTHY_CSV.read_bytes())
    assert result.exit_code == 1
    assert [r["input"]["paths"] for r in parsed] == [[str(HEALTHY)], ["-"], [str(LOGITS)]]
    assert parsed[1]["input"]["format"] == "csv"
    assert parsed[1]["metrics"] == pytest.approx(parsed[0]["metrics"])


def test_stdin_twice_is_a_usage_error():
    result = run("-", "-", input=b"label,prob\n0,0.1\n1,0.9\n")
    assert result.exit_code == 2
    assert "stdin (-) can be read only once" in result.stderr


def test_stdin_with_input_format_gates_and_markdown():
    data = HEALTHY_CSV.read_bytes()
    result = run(
        "-", "--input-format", "csv", "--gate", "roc_auc >= 0.9999", "--format", "markdown",
        input=data,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout.startswith("### ❌ `-`")
    assert "Gate failed: roc\\_auc \\>= 0.9999" in result.stdout


def test_stdin_quiet_prints_the_findings_of_stdin():
    result = run("-", "-q", input=(SAMPLES / "labels_minus_one_plus_one.csv").read_bytes())
    assert result.exit_code == 1
    assert result.stdout == "-: error label-encoding: Labels are -1/+1\n"


# ---- --output ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "markdown", "terminal"])
def test_output_writes_the_format_to_a_file_and_stdout_keeps_the_terminal_report(tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = run(LOGITS, "--format", fmt, "--output", out)
    assert result.exit_code == 1
    assert "Metrics" in result.stdout and "Logits saved as probabilities" in result.stdout
    written = out.read_text(encoding="utf-8")
    on_stdout = run(LOGITS, "--format", fmt).stdout
    if fmt == "terminal":
        assert "\x1b[" not in written and "Logits saved as probabilities" in written
    else:
        assert written == on_stdout


def test_output_of_several_files_is_the_json_list(tmp_path):
    out = tmp_path / "r.json"
    result = run(HEALTHY, LOGITS, "--format", "json", "-o", out)
    assert result.exit_code == 1
    assert [r["exit_code"] for r in json.loads(out.read_text(encoding="utf-8"))] == [0, 1]


def test_output_to_a_path_that_cannot_be_written_is_exit_2(tmp_path):
    result = run(HEALTHY, "--format", "json", "--output", tmp_path / "no" / "such" / "dir.json")
    assert result.exit_code == 2
    assert "cannot write --output" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# ---- --quiet ----------------------------------------------------------------------------------


def test_quiet_prints_one_line_per_finding_and_nothing_else():
    result = run(IMBALANCED, "-q")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    full, _ = reports(IMBALANCED)
    expected = [f"{f['severity']} {f['check']}: {f['title']}" for f in full["findings"]]
    assert lines == [f"{IMBALANCED}: {line}" for line in expected]
    assert f"{IMBALANCED}: warning class-imbalance: " in result.stdout


def test_quiet_on_a_healthy_file_prints_nothing():
    result = run(HEALTHY, "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_quiet_with_several_paths_starts_each_line_with_its_path():
    result = run(LOGITS, IMBALANCED, "-q")
    lines = result.stdout.splitlines()
    assert lines[0] == f"{LOGITS}: error logits-vs-probabilities: Logits saved as probabilities"
    assert all(line.startswith((f"{LOGITS}: ", f"{IMBALANCED}: ")) for line in lines)


def test_quiet_with_json_on_stdout_is_a_usage_error_and_fine_with_output(tmp_path):
    refused = run(LOGITS, "-q", "--format", "json")
    assert refused.exit_code == 2 and "--output" in refused.stderr
    out = tmp_path / "r.json"
    result = run(LOGITS, "-q", "--format", "json", "--output", out)
    assert result.exit_code == 1
    line = f"{LOGITS}: error logits-vs-probabilities: Logits saved as probabilities\n"
    assert result.stdout == line
    assert json.loads(out.read_text(encoding="utf-8"))["exit_code"] == 1
