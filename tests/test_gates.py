"""Metric gates: read by a regex (never eval), every operator at and around its bound, undefined
and task-foreign metrics fail with their reason, and through the CLI a failed gate is an error
finding that fails the run like any other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lossdoctor.checks.base import Severity
from lossdoctor.cli import cli
from lossdoctor.errors import InputError
from lossdoctor.gates import OPERATORS, Gate, evaluate, parse_gate
from lossdoctor.io import from_arrays
from lossdoctor.metrics import METRIC_NAMES, Metrics
from lossdoctor.settings import Settings
from tests.helpers import binary_metrics, diagnose_predictions

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
HEALTHY = str(SAMPLES / "healthy_binary.parquet")


def metrics_with(**values: float | None) -> Metrics:
    """Real binary metrics with some values replaced: evaluate reads only values and undefined."""
    metrics = binary_metrics(np.array([0, 1, 0, 1]), np.array([0.2, 0.8, 0.4, 0.6]))
    undefined = {name: "a reason in words" for name, value in values.items() if value is None}
    return Metrics(
        {**metrics.values, **values},
        undefined,
        metrics.per_class,
        metrics.thresholds,
        metrics.confusion,
        metrics.calibration,
        metrics.histogram,
    )


def check(*args: object, input: bytes | None = None):
    return CliRunner().invoke(cli, ["check", *map(str, args), "--no-config"], input=input)


# ---- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("roc_auc >= 0.9", Gate("roc_auc", ">=", 0.9)),
        ("roc_auc>0.9", Gate("roc_auc", ">", 0.9)),
        ("  log_loss <= 0.35 ", Gate("log_loss", "<=", 0.35)),
        ("log_loss<.35", Gate("log_loss", "<", 0.35)),
        ("accuracy == 1", Gate("accuracy", "==", 1.0)),
        ("ece <= 5e-2", Gate("ece", "<=", 0.05)),
        ("mcc >= -0.5", Gate("mcc", ">=", -0.5)),
        ("brier <= +1.5E-1", Gate("brier", "<=", 0.15)),
    ],
)
def test_gates_are_read_with_every_operator_and_number_form(text, gate):
    assert parse_gate(text) == gate


def test_the_parsed_operators_are_exactly_the_documented_ones():
    assert set(OPERATORS) == {">=", ">", "<=", "<", "=="}


@pytest.mark.parametrize(
    "text",
    [
        "roc_auc => 0.9",
        "roc_auc = 0.9",
        "roc_auc >= ",
        ">= 0.9",
        "roc_auc >= 0.9 and 1",
        "roc_auc >= nan",
        "roc_auc >= inf",
        "roc_auc >= 0x10",
        "__import__('os').system('true') or roc_auc >= 0.9",
        "roc_auc >= 0.9; rm -rf /",
        "",
    ],
)
def test_anything_but_metric_operator_number_is_refused_with_the_form(text):
    with pytest.raises(InputError, match="METRIC OP NUMBER"):
        parse_gate(text)


def test_an_unknown_metric_lists_every_valid_name_and_suggests_the_closest():
    with pytest.raises(InputError) as raised:
        parse_gate("roc_ac >= 0.9")
    message = str(raised.value)
    assert "unknown metric 'roc_ac'" in message
    assert "did you mean roc_auc?" in message
    assert all(name in message for name in METRIC_NAMES)


def test_metric_names_are_case_sensitive_like_the_json_keys():
    with pytest.raises(InputError, match="unknown metric 'ROC_AUC'"):
        parse_gate("ROC_AUC >= 0.9")


@pytest.mark.parametrize(
    ("text", "shown"),
    [("roc_auc >= 0.90", "roc_auc >= 0.9"), ("log_loss<=0.123456789", "log_loss <= 0.123456789")],
)
def test_a_gate_is_shown_normalised_with_every_digit_of_its_bound(text, shown):
    assert str(parse_gate(text)) == shown


# ---- evaluating: every operator at its bound, below and above --------------------------------

# (operator, passes when the value is below, equal to, above the bound)
TRUTH = {
    ">=": (False, True, True),
    ">": (False, False, True),
    "<=": (True, True, False),
    "<": (True, False, False),
    "==": (False, True, False),
}


@pytest.mark.parametrize("op", sorted(TRUTH))
@pytest.mark.parametrize(("where", "value"), [(0, 0.8), (1, 0.85), (2, 0.9)])
def test_every_operator_passes_and_fails_exactly_as_python_compares(op, where, value):
    findings = evaluate([Gate("roc_auc", op, 0.85)], metrics_with(roc_auc=value))
    assert (findings == []) is TRUTH[op][where]


def test_a_failed_gate_is_an_error_finding_with_metric_bound_and_value():
    (finding,) = evaluate([parse_gate("roc_auc >= 0.9")], metrics_with(roc_auc=0.8512))
    assert finding.check == "gate"
    assert finding.severity is Severity.ERROR
    assert finding.title == "Gate failed: roc_auc >= 0.9"
    assert finding.message == "roc_auc is 0.8512; the gate requires it to be at least 0.9."
    assert finding.evidence == {
        "gate": "roc_auc >= 0.9",
        "metric": "roc_auc",
        "operator": ">=",
        "bound": 0.9,
        "value": 0.8512,
        "reason": None,
    }
    assert finding.why
    json.dumps(finding.to_dict(), allow_nan=False)


def test_a_value_that_rounds_to_the_bound_is_shown_with_all_its_digits():
    (finding,) = evaluate([parse_gate("accuracy >= 0.9")], metrics_with(accuracy=0.89999))
    assert "0.89999" in finding.message


def test_passing_gates_add_no_finding_and_each_failing_gate_adds_one():
    gates = [parse_gate(t) for t in ("roc_auc >= 0.5", "roc_auc >= 0.99", "log_loss <= 0.01")]
    findings = evaluate(gates, metrics_with(roc_auc=0.9, log_loss=0.3))
    assert [f.title for f in findings] == [
        "Gate failed: roc_auc >= 0.99",
        "Gate failed: log_loss <= 0.01",
    ]


def test_a_gate_on_an_undefined_metric_fails_with_the_reports_reason():
    """One class in the labels: ROC-AUC is undefined, so no bound on it can be met."""
    predictions = from_arrays(
        np.ones(20, int), np.linspace(0.1, 0.9, 20), source="<a>", format="array"
    )
    rules = Settings(gates=(parse_gate("roc_auc >= 0.5"), parse_gate("roc_auc < 2")))
    report = diagnose_predictions(predictions, rules)
    assert report.metrics.values["roc_auc"] is None
    gates = [f for f in report.findings if f.check == "gate"]
    assert len(gates) == 2
    reason = report.metrics.undefined["roc_auc"]
    for finding in gates:
        assert finding.severity is Severity.ERROR
        assert finding.evidence["value"] is None
        assert finding.evidence["reason"] == reason
        assert reason in finding.message and "cannot pass" in finding.message
    assert report.exit_code == 1


def test_a_gate_on_a_metric_of_another_task_fails_and_says_so():
    """brier is not multi-label: on multi-label predictions the gate cannot be met."""
    y = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]] * 10)
    proba = np.where(y == 1, 0.8, 0.1)
    predictions = from_arrays(y, proba, source="<a>", format="array")
    rules = Settings(gates=(parse_gate("brier <= 0.5"),))
    report = diagnose_predictions(predictions, rules)
    (finding,) = [f for f in report.findings if f.check == "gate"]
    assert "not computed for this task" in finding.message
    assert finding.evidence["reason"] == "not computed for this task"


def test_gate_findings_join_the_checks_findings_worst_first():
    y = np.array([0, 1] * 50)
    p = np.where(y == 1, 0.7, 0.3)
    rules = Settings(gates=(parse_gate("accuracy >= 1.01"),))
    report = diagnose_predictions(from_arrays(y, p, source="<a>", format="array"), rules)
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, reverse=True)
    assert report.findings[0].check == "gate"


# ---- through the command line ----------------------------------------------------------------


def json_of(result) -> dict:
    return json.loads(result.stdout)


def test_cli_passing_gates_exit_0_and_add_no_finding():
    result = check(
        HEALTHY, "--gate", "roc_auc >= 0.9", "--gate", "log_loss <= 0.35", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert not [f for f in json_of(result)["findings"] if f["check"] == "gate"]


def test_cli_a_failed_gate_exits_1_with_the_gate_finding_in_the_json():
    result = check(HEALTHY, "--gate", "roc_auc >= 0.9999", "--format", "json")
    assert result.exit_code == 1
    report = json_of(result)
    assert report["exit_code"] == 1
    (gate,) = [f for f in report["findings"] if f["check"] == "gate"]
    assert gate["severity"] == "error"
    assert gate["evidence"]["value"] == report["metrics"]["roc_auc"]
    assert gate["evidence"]["bound"] == 0.9999


def test_cli_a_failed_gate_is_shown_in_the_terminal_report():
    result = check(HEALTHY, "--gate", "roc_auc >= 0.9999")
    assert result.exit_code == 1
    assert "Gate failed: roc_auc >= 0.9999" in result.stdout


def test_cli_fail_on_never_lets_a_failed_gate_pass_like_any_error():
    result = check(HEALTHY, "--gate", "roc_auc >= 0.9999", "--fail-on", "never")
    assert result.exit_code == 0


@pytest.mark.parametrize("gate", ["roc >= 0.9", "roc_auc => 0.9", "roc_auc >= high"])
def test_cli_a_bad_gate_is_a_usage_error_before_any_file_is_read(gate):
    result = check(SAMPLES / "missing.parquet", "--gate", gate)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoctor: error: ")
    assert "--gate" in lines[0]
    assert "missing.parquet" not in lines[0]  # refused before reading


def test_cli_an_unknown_metric_lists_the_valid_names():
    result = check(HEALTHY, "--gate", "auc >= 0.9")
    assert result.exit_code == 2
    assert all(name in result.stderr for name in METRIC_NAMES)


def test_explain_knows_the_gate_finding():
    result = CliRunner().invoke(cli, ["explain", "gate"])
    assert result.exit_code == 0
    assert "never evaluated as code" in result.stdout
    assert "Why it matters" in result.stdout
