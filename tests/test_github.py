"""GitHub mode: findings as workflow commands on stdout (escaped as GitHub requires), the Markdown
report appended to $GITHUB_STEP_SUMMARY, and the CI recipes of the README and
.pre-commit-hooks.yaml that users paste."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import lossdoctor
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.cli import cli
from lossdoctor.render import Format, render_text
from lossdoctor.render.github import annotations, escape_data, escape_property
from lossdoctor.report import FailedInput

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
LOGITS = SAMPLES / "logits_saved_as_probabilities.parquet"
IMBALANCED = SAMPLES / "imbalanced.parquet"
HEALTHY_MULTICLASS = SAMPLES / "healthy_multiclass.parquet"  # infos only
COMMAND = re.compile(r"^::(error|warning|notice) (?:file=[^,:]*,)?title=([^:]*)::(.*)$")
FILE = re.compile(r"^::\w+ file=([^,:]*),")


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, ["check", *map(str, args), "--no-config"])


def commands(stdout: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in stdout.splitlines() if (m := COMMAND.match(line))]


def unescape(text: str) -> str:
    """What GitHub shows: the escapes undone, %25 last."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


# ---- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("x: y, z", "x: y, z", "x%3A y%2C z"),
        ("%0A is not a newline", "%250A is not a newline", "%250A is not a newline"),
        ("::error::injected", "::error::injected", "%3A%3Aerror%3A%3Ainjected"),
    ],
)
def test_data_and_properties_are_escaped_as_github_requires(text, data, prop):
    assert escape_data(text) == data
    assert escape_property(text) == prop
    assert unescape(escape_property(text)) == text


def test_each_severity_becomes_its_workflow_command_one_line_per_finding():
    findings = [
        Finding("a-check", Severity.ERROR, "Broken, badly: yes", "50% wrong\nsecond line", fix="x"),
        Finding("b-check", Severity.WARNING, "Odd", "m"),
        Finding("c-check", Severity.INFO, "Note", "n"),
    ]
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9])
    report = replace(report, input=replace(report.input, paths=("p.parquet",)), findings=findings)
    found = commands(annotations([report]))
    assert [name for name, _, _ in found] == ["error", "warning", "notice"]
    _, title, message = found[0]
    assert unescape(title) == "Broken, badly: yes (a-check)"
    # A line break in the message is text to show (it may quote the data); the fix's is ours.
    assert unescape(message) == "p.parquet: 50% wrong\\nsecond line\nfix: x"
    assert len(annotations([report]).splitlines()) == len(findings)


def test_a_file_that_could_not_be_read_is_an_error_annotation():
    (found,) = commands(annotations([FailedInput("x.csv", "x.csv: no such file")]))
    assert found[0] == "error" and "x.csv: no such file" in found[2]


# ---- the command line -------------------------------------------------------------------------


def test_github_prints_a_command_for_every_finding_after_the_report(tmp_path):
    result = run(IMBALANCED, "--github", env={"GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 0  # warnings only
    found = commands(result.stdout)
    assert {name for name, _, _ in found} == {"warning", "notice"}
    assert all(str(IMBALANCED) in unescape(message) for _, _, message in found)
    assert "Metrics" in result.stdout  # the terminal report is still there


def test_github_appends_the_markdown_report_to_the_step_summary(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("## Earlier step\n\n", encoding="utf-8")
    result = run(LOGITS, "--github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    (error,) = [c for c in commands(result.stdout) if c[0] == "error"]
    assert "logits-vs-probabilities" in unescape(error[1])
    markdown = CliRunner().invoke(cli, ["check", str(LOGITS), "--format", "markdown"]).stdout
    assert summary.read_text(encoding="utf-8") == "## Earlier step\n\n" + markdown
    run(LOGITS, "--github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8").count("### ❌") == 2  # appended, not replaced


def test_without_a_step_summary_github_only_prints_the_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(LOGITS, "--github", env={"GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 1
    assert commands(result.stdout)
    assert list(tmp_path.iterdir()) == []


def test_github_exit_code_is_the_same_as_without(tmp_path):
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    for path in (LOGITS, IMBALANCED, HEALTHY_MULTICLASS):
        assert run(path, "--github", env=env).exit_code == run(path).exit_code


def test_github_with_a_failed_gate_annotates_it(tmp_path):
    result = run(
        SAMPLES / "healthy_binary.parquet", "--github", "--gate", "roc_auc >= 0.9999", env={}
    )
    assert result.exit_code == 1
    (found,) = [c for c in commands(result.stdout) if c[0] == "error"]
    assert unescape(found[1]) == "Gate failed: roc_auc >= 0.9999 (gate)"


def test_github_with_json_on_stdout_is_a_usage_error_but_fine_with_output(tmp_path):
    refused = run(LOGITS, "--github", "--format", "json")
    assert refused.exit_code == 2
    assert "--output" in refused.stderr
    out = tmp_path / "report.json"
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = run(LOGITS, "--github", "--format", "json", "--output", out, env=env)
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8").startswith("{")
    assert summary.read_text(encoding="utf-8").startswith("### ❌")
    assert commands(result.stdout)


def test_github_with_several_files_and_a_missing_one(tmp_path):
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = run(LOGITS, tmp_path / "missing.csv", IMBALANCED, "--github", env=env)
    assert result.exit_code == 2
    found = commands(result.stdout)
    assert any("missing.csv" in unescape(message) for _, _, message in found)
    text = summary.read_text(encoding="utf-8")
    assert text.index(str(LOGITS)) < text.index("missing.csv") < text.index(str(IMBALANCED))


def test_the_summary_is_the_markdown_renderer_output_for_several_files(tmp_path):
    summary = tmp_path / "summary.md"
    run(LOGITS, IMBALANCED, "--github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    both = CliRunner().invoke(
        cli, ["check", str(LOGITS), str(IMBALANCED), "--format", "markdown", "--no-config"]
    )
    assert summary.read_text(encoding="utf-8") == both.stdout
    assert render_text([], Format.MARKDOWN) == ""


# ---- the recipes users paste ------------------------------------------------------------------


def hook() -> dict[str, str]:
    """.pre-commit-hooks.yaml's one hook, read without a YAML library (it is flat on purpose)."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    fields = dict(re.findall(r"^\s*-?\s*(\w+):\s*(.+?)\s*$", text, flags=re.M))
    return {k: v[1:-1] if v[:1] in "'\"" else v for k, v in fields.items()}


def test_the_pre_commit_hook_runs_lossdoctor_check_on_prediction_files():
    fields = hook()
    assert fields["id"] == "lossdoctor"
    assert fields["entry"] == "lossdoctor check --quiet --skip-non-predictions"
    assert fields["language"] == "python"
    pattern = re.compile(fields["files"])  # single-quoted YAML: the backslash is literal
    for name in ("preds.parquet", "eval/run_1/preds.csv", "a.npz", "s.npy", "x.feather", "y.arrow"):
        assert pattern.search(name), name
    for name in ("preds.parquet.bak", "notes.txt", "parquet", "data.csvx"):
        assert not pattern.search(name), name


def readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"## {title}\n" in readme
    return readme.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_has_a_use_in_ci_section_with_a_workflow_and_the_hook():
    section = readme_section("Use in CI")
    assert "GITHUB_STEP_SUMMARY" in section or "--github" in section
    assert "pip install" in section
    assert "actions/checkout" in section
    assert "id: lossdoctor" in section


def ci_commands() -> list[list[str]]:
    """Every `lossdoctor check ...` line of the Use in CI section, as arguments."""
    section = readme_section("Use in CI")
    lines = re.findall(r"^\s*(?:- run: |run: )?(lossdoctor check .+?)\s*$", section, flags=re.M)
    return [shlex.split(line)[2:] for line in lines]


def test_every_command_of_the_ci_section_runs_on_a_sample(tmp_path, monkeypatch):
    """The workflow's commands, pasted: only the prediction files are ours."""
    monkeypatch.chdir(tmp_path)
    found = ci_commands()
    assert found
    for args in found:
        args = [
            str(SAMPLES / "healthy_binary.parquet") if a.endswith(".parquet") else a for a in args
        ]
        result = run(*args, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
        assert result.exit_code in (0, 1), (args, result.stderr)


def test_annotations_name_the_predictions_file_so_they_land_on_the_diff(tmp_path):
    result = run(LOGITS, tmp_path / "missing.csv", "--github")
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(lines) >= 2
    files = [unescape(m[1]) if (m := FILE.match(line)) else None for line in lines]
    assert files[0] == str(LOGITS)
    assert files[-1] == str(tmp_path / "missing.csv")  # the file that could not be read
    assert set(files) == {str(LOGITS), str(tmp_path / "missing.csv")}


def test_stdin_annotations_have_no_file():
    result = CliRunner().invoke(
        cli,
        ["check", "-", "--input-format", "csv", "--github", "--no-config"],
        input=(SAMPLES / "labels_minus_one_plus_one.csv").read_bytes(),
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert lines and not any(FILE.match(line) for line in lines)
    assert all(COMMAND.match(line) for line in lines)


def test_a_file_name_with_a_comma_or_colon_is_escaped_in_the_file_property():
    from lossdoctor.render.github import _command

    line = _command("error", "t", "m", "a,b:c.csv")
    assert line == "::error file=a%2Cb%3Ac.csv,title=t::m"


def test_an_absolute_path_in_the_workspace_is_annotated_relative_to_it(tmp_path):
    outside = tmp_path.parent / "elsewhere.csv"
    env = {"GITHUB_WORKSPACE": str(SAMPLES.parent)}
    result = run(LOGITS, outside, "--github", env=env)
    files = [unescape(m[1]) for line in result.stdout.splitlines() if (m := FILE.match(line))]
    assert files[0] == "sample_data/logits_saved_as_probabilities.parquet"
    assert files[-1] == str(outside)  # outside the checkout: as given
