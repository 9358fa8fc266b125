"""Project config: [tool.lossdoctor] in pyproject.toml or lossdoctor.toml, found from the current
directory upwards; the command line wins key by key; a file lossdoctor cannot fully understand is
a usage error naming the file and the key. And --select/--disable and severity overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lossdoctor.checks import BY_ID
from lossdoctor.checks.base import Severity
from lossdoctor.cli import cli
from lossdoctor.config import KEYS, find_config, load_config, project_config
from lossdoctor.errors import InputError
from lossdoctor.gates import parse_gate
from lossdoctor.settings import DEFAULTS, Settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
HEALTHY = SAMPLES / "healthy_binary.parquet"
IMBALANCED = SAMPLES / "imbalanced.parquet"  # class-imbalance and threshold warnings
LOGITS = SAMPLES / "logits_saved_as_probabilities.parquet"  # a logits-vs-probabilities error


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(directory: Path, body: str) -> Path:
    return write(
        directory / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.lossdoctor]\n{body}'
    )


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, ["check", *map(str, args)])


def report(*args: object) -> tuple[dict, int]:
    result = run(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout), result.exit_code


def checks_found(parsed: dict) -> set[tuple[str, str]]:
    return {(f["check"], f["severity"]) for f in parsed["findings"]}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project directory, the current directory of the run."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


# ---- discovery ------------------------------------------------------------------------------


def test_nothing_found_is_the_empty_config(project):
    assert find_config(project) is None
    assert project_config(None, start=project) == {}


def test_pyproject_with_the_section_in_the_current_directory_is_found(project):
    path = pyproject(project, 'fail-on = "warning"\n')
    assert find_config(project) == path.resolve()


def test_the_search_goes_up_from_a_subdirectory(project):
    path = write(project / "lossdoctor.toml", 'fail-on = "warning"\n')
    deep = project / "eval" / "runs"
    deep.mkdir(parents=True)
    assert find_config(deep) == path.resolve()


def test_a_pyproject_without_the_section_does_not_count_and_the_search_goes_on(project):
    outer = pyproject(project, 'fail-on = "warning"\n')
    inner = project / "package"
    write(inner / "pyproject.toml", '[project]\nname = "lossdoctor-user"\n')
    assert find_config(inner) == outer.resolve()


def test_an_unrelated_broken_pyproject_is_not_parsed(project):
    outer = pyproject(project, 'fail-on = "warning"\n')
    write(project / "sub" / "pyproject.toml", "this is [not toml\n")
    assert find_config(project / "sub") == outer.resolve()


def test_the_nearest_directory_wins(project):
    pyproject(project, 'fail-on = "warning"\n')
    near = write(project / "models" / "lossdoctor.toml", 'fail-on = "info"\n')
    assert find_config(project / "models") == near.resolve()


def test_lossdoctor_toml_wins_over_pyproject_in_the_same_directory(project):
    pyproject(project, 'fail-on = "warning"\n')
    dedicated = write(project / "lossdoctor.toml", 'fail-on = "info"\n')
    assert find_config(project) == dedicated.resolve()


def test_the_cli_uses_the_config_found_from_the_current_directory(project):
    _, plain = report(IMBALANCED)
    assert plain == 0  # warnings only
    pyproject(project, 'fail-on = "warning"\n')
    _, configured = report(IMBALANCED)
    assert configured == 1


# ---- every key, as the CLI would take it ------------------------------------------------------


def test_every_key_is_read_into_the_settings(project):
    path = write(
        project / "lossdoctor.toml",
        """
fail-on = "warning"
gates = ["roc_auc >= 0.9", "log_loss <= 0.35"]
disable = ["label-issues"]
label-col = "target"
pred-col = ["p_*"]
threshold = 0.4
timeout = 30

[severity]
class-imbalance = "info"
gate = "warning"
""",
    )
    config = load_config(path)
    assert config == dict(
        fail_on="warning",
        threshold=0.4,
        gates=(parse_gate("roc_auc >= 0.9"), parse_gate("log_loss <= 0.35")),
        disable=("label-issues",),
        severity={"class-imbalance": Severity.INFO, "gate": Severity.WARNING},
        label_col=("target",),
        pred_col=("p_*",),
        timeout=30.0,
    )
    assert Settings(**config).threshold == 0.4


def test_the_readme_documents_exactly_the_keys_the_reader_knows():
    readme = (SAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Project config", 1)[1].split("\n## ", 1)[0]
    for key in KEYS:
        assert f"`{key}`" in section, key


def test_an_integer_threshold_is_read_as_a_float(project):
    config = load_config(write(project / "lossdoctor.toml", "threshold = 1\n"))
    assert config["threshold"] == 1.0 and isinstance(config["threshold"], float)


def test_unset_keys_fall_back_to_the_defaults(project):
    settings = Settings.layered({"fail_on": "info", "threshold": None}, {"threshold": 0.3})
    assert settings.fail_on == "info" and settings.threshold == 0.3
    assert settings.gates == () and settings.severity == {}
    assert Settings.layered({"fail_on": "info"}, {"fail_on": "never"}).fail_on == "info"


def test_a_config_threshold_moves_the_confusion_matrix(project):
    at_half, _ = report(HEALTHY)
    write(project / "lossdoctor.toml", "threshold = 0.9\n")
    at_09, _ = report(HEALTHY)
    assert at_09["threshold"] == 0.9
    assert at_09["confusion_matrix"] != at_half["confusion_matrix"]


def test_config_column_names_are_used(project, tmp_path):
    data = write(tmp_path / "odd.csv", "Is Fraud,model_out\n0,0.1\n1,0.8\n0,0.3\n1,0.7\n")
    assert run(data).exit_code == 2  # columns not recognised
    write(project / "lossdoctor.toml", 'label-col = "Is Fraud"\npred-col = ["model_out"]\n')
    parsed, _ = report(data)
    assert parsed["input"]["label_columns"] == ["Is Fraud"]
    assert parsed["input"]["prediction_columns"] == ["model_out"]


def test_config_gates_fail_the_run(project):
    write(project / "lossdoctor.toml", 'gates = ["roc_auc >= 0.9999"]\n')
    parsed, code = report(HEALTHY)
    assert code == 1
    assert ("gate", "error") in checks_found(parsed)


def test_config_disable_skips_the_check(project):
    write(project / "lossdoctor.toml", 'disable = ["logits-vs-probabilities"]\n')
    parsed, code = report(LOGITS)
    assert "logits-vs-probabilities" not in {f["check"] for f in parsed["findings"]}
    assert code == 0


def test_severity_overrides_apply_to_the_findings_of_that_check(project):
    write(project / "lossdoctor.toml", '[severity]\nlogits-vs-probabilities = "warning"\n')
    parsed, code = report(LOGITS)
    assert ("logits-vs-probabilities", "warning") in checks_found(parsed)
    assert code == 0  # the default --fail-on error no longer fails
    write(project / "lossdoctor.toml", '[severity]\nclass-imbalance = "error"\n')
    parsed, code = report(IMBALANCED)
    assert ("class-imbalance", "error") in checks_found(parsed)
    assert parsed["findings"][0]["check"] == "class-imbalance"  # still worst first
    assert code == 1


def test_a_gate_severity_override_makes_gates_soft(project):
    write(
        project / "lossdoctor.toml",
        'gates = ["roc_auc >= 0.9999"]\nseverity = {gate = "warning"}\n',
    )
    parsed, code = report(HEALTHY)
    assert ("gate", "warning") in checks_found(parsed)
    assert code == 0


# ---- the command line wins --------------------------------------------------------------------


def test_command_line_fail_on_wins_over_the_config(project):
    write(project / "lossdoctor.toml", 'fail-on = "warning"\n')
    assert report(IMBALANCED)[1] == 1
    assert report(IMBALANCED, "--fail-on", "error")[1] == 0


def test_command_line_threshold_wins_over_the_config(project):
    write(project / "lossdoctor.toml", "threshold = 0.9\n")
    assert report(HEALTHY, "--threshold", "0.3")[0]["threshold"] == 0.3


def test_command_line_gates_replace_the_configs_gates(project):
    write(project / "lossdoctor.toml", 'gates = ["roc_auc >= 0.9999"]\n')
    parsed, code = report(HEALTHY, "--gate", "roc_auc >= 0.5")
    assert code == 0
    assert "gate" not in {f["check"] for f in parsed["findings"]}


def test_command_line_disable_replaces_the_configs(project):
    write(project / "lossdoctor.toml", 'disable = ["logits-vs-probabilities"]\n')
    parsed, code = report(LOGITS, "--disable", "label-issues")
    assert ("logits-vs-probabilities", "error") in checks_found(parsed)
    assert code == 1


def test_command_line_columns_win_over_the_config(project):
    write(project / "lossdoctor.toml", 'label-col = "nothing_like_this"\n')
    assert run(HEALTHY, "--format", "json").exit_code == 2
    parsed, _ = report(HEALTHY, "--label-col", "label")
    assert parsed["input"]["label_columns"] == ["label"]


def test_config_keys_the_command_line_does_not_give_still_apply(project):
    write(project / "lossdoctor.toml", 'fail-on = "warning"\ngates = ["roc_auc >= 0.9999"]\n')
    parsed, code = report(HEALTHY, "--fail-on", "never")
    assert code == 0
    assert ("gate", "error") in checks_found(parsed)


def test_config_file_option_uses_that_file_instead_of_the_found_one(project, tmp_path):
    write(project / "lossdoctor.toml", 'fail-on = "warning"\n')
    assert report(IMBALANCED)[1] == 1
    other = write(tmp_path / "ci" / "lenient.toml", 'fail-on = "never"\n')
    assert report(IMBALANCED, "--config", other)[1] == 0
    explicit = pyproject(tmp_path / "elsewhere", 'gates = ["roc_auc >= 0.9999"]\n')
    assert report(HEALTHY, "--config", explicit)[1] == 1


def test_no_config_ignores_the_found_file(project):
    write(project / "lossdoctor.toml", 'fail-on = "warning"\n')
    assert report(IMBALANCED)[1] == 1
    assert report(IMBALANCED, "--no-config")[1] == 0


def test_no_config_ignores_even_a_broken_file(project):
    write(project / "lossdoctor.toml", "fail-on = \n")
    assert run(HEALTHY).exit_code == 2
    assert run(HEALTHY, "--no-config").exit_code == 0


def test_config_and_no_config_together_are_a_usage_error(project, tmp_path):
    path = write(tmp_path / "c.toml", "")
    result = run(HEALTHY, "--config", path, "--no-config")
    assert result.exit_code == 2
    assert "--no-config" in result.stderr


def test_a_missing_config_file_is_a_usage_error(project):
    result = run(HEALTHY, "--config", "nowhere.toml")
    assert result.exit_code == 2
    assert "nowhere.toml" in result.stderr


# ---- bad config: exit 2, one line, the file and the key ---------------------------------------


BAD = {
    "unknown-key": ('fail_on = "error"\n', ["unknown key 'fail_on'", "did you mean fail-on?"]),
    "fail-on-value": ('fail-on = "sometimes"\n', ["fail-on", "'sometimes'", "error, warning"]),
    "fail-on-type": ("fail-on = 1\n", ["fail-on", "one of"]),
    "threshold-string": ('threshold = "0.5"\n', ["threshold", "a number from 0 to 1", "string"]),
    "threshold-range": ("threshold = 1.5\n", ["threshold", "a number from 0 to 1"]),
    "threshold-bool": ("threshold = true\n", ["threshold", "boolean"]),
    "gates-string": ('gates = "roc_auc >= 0.9"\n', ["gates", "a list of strings"]),
    "gates-bad-gate": (
        'gates = ["roc_auc >= 0.9", "auc >= 0.9"]\n',
        ["gates[1]", "unknown metric 'auc'", "roc_auc"],
    ),
    "gates-bad-syntax": ('gates = ["roc_auc => 0.9"]\n', ["gates[0]", "METRIC OP NUMBER"]),
    "disable-unknown": ('disable = ["logits"]\n', ["disable", "unknown check 'logits'", *BY_ID]),
    "disable-type": ("disable = [1]\n", ["disable", "a list of strings"]),
    "severity-type": ('severity = "error"\n', ["severity", "a table"]),
    "severity-unknown-check": ('severity = {logits = "info"}\n', ["severity", "'logits'"]),
    "severity-level": (
        'severity = {threshold = "fatal"}\n',
        ["severity.threshold", "'fatal'", "error, warning, info"],
    ),
    "label-col-type": ("label-col = 3\n", ["label-col", "a column name", "an integer"]),
    "pred-col-empty": ("pred-col = []\n", ["pred-col", "a column name"]),
    "not-toml": ("fail-on = \n", ["not valid TOML"]),
    "timeout-zero": ("timeout = 0\n", ["timeout", "a number of seconds above 0"]),
    "timeout-string": ('timeout = "10s"\n', ["timeout", "a number of seconds", "string"]),
}


@pytest.mark.parametrize("where", ["lossdoctor.toml", "pyproject.toml"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_config_is_one_line_naming_the_file_and_key_and_exit_2(project, case, where):
    body, fragments = BAD[case]
    if where == "pyproject.toml":
        pyproject(project, body)
    else:
        write(project / where, body)
    for output_format in ("terminal", "json"):
        result = run(HEALTHY, "--format", output_format)
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("lossdoctor: error: ")
        assert where in lines[0]
        if where == "pyproject.toml" and case != "not-toml":
            assert "[tool.lossdoctor]" in lines[0]
        for fragment in fragments:
            assert fragment in lines[0]
        if output_format == "json":
            assert json.loads(result.stdout)["exit_code"] == 2


def test_an_explicit_pyproject_without_the_section_is_refused(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(InputError, match=r"no \[tool.lossdoctor\] table"):
        load_config(path)


def test_a_non_utf8_config_is_refused_not_crashed(tmp_path):
    path = tmp_path / "lossdoctor.toml"
    path.write_bytes(b'fail-on = "\xff"\n')
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path)


# ---- --select and --disable -------------------------------------------------------------------


def test_select_runs_only_the_named_checks():
    parsed, _ = report(IMBALANCED, "--no-config", "--select", "threshold")
    assert {f["check"] for f in parsed["findings"]} == {"threshold"}


def test_select_and_disable_combine():
    parsed, _ = report(
        IMBALANCED, "--no-config", "--select", "threshold", "--select", "class-imbalance",
        "--disable", "threshold",
    )  # fmt: skip
    assert {f["check"] for f in parsed["findings"]} == {"class-imbalance"}


def test_disable_is_repeatable_and_the_metrics_are_unchanged():
    full, _ = report(IMBALANCED, "--no-config")
    parsed, code = report(
        IMBALANCED, "--no-config", "--disable", "threshold", "--disable", "class-imbalance",
        "--fail-on", "warning",
    )  # fmt: skip
    assert not {"threshold", "class-imbalance"} & {f["check"] for f in parsed["findings"]}
    assert parsed["metrics"] == full["metrics"]
    assert code == int(any(f["severity"] != "info" for f in parsed["findings"]))


@pytest.mark.parametrize("option", ["--select", "--disable"])
def test_an_unknown_check_id_is_a_usage_error_listing_the_valid_ids(option):
    result = run(HEALTHY, "--no-config", option, "logits")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert option in result.stderr
    assert all(check in result.stderr for check in BY_ID)


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan"])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(value):
    result = run(HEALTHY, "--timeout", value)
    assert result.exit_code == 2
    assert "--timeout: expected a number of seconds above 0" in result.stderr


def test_the_timeout_reaches_the_engine_from_the_command_line_or_the_config(project, monkeypatch):
    import lossdoctor.engines as engines

    seen = []

    def open_engine(path, settings, progress=None, keep_freed_memory=False):
        seen.append(settings.timeout)
        raise InputError("stop here")

    monkeypatch.setattr(engines, "open_engine", open_engine)
    write(project / "lossdoctor.toml", "timeout = 30\n")
    run(SAMPLES, "--engine", "dask")
    run(SAMPLES, "--engine", "dask", "--timeout", "7.5")
    run(SAMPLES, "--engine", "dask", "--no-config")
    assert seen == [30.0, 7.5, DEFAULTS.timeout]
