"""The habits a command-line user brings from other tools: --color, NO_COLOR and FORCE_COLOR,
JSON from every listing, shell completion, usage errors that name the command's own help, and
an exit status that a reader closing the pipe early does not change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoctor.checks import REGISTRY
from lossdoctor.cli import cli
from lossdoctor.segments import inconsistent, weak

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
LOGITS = str(SAMPLES / "logits_saved_as_probabilities.parquet")  # one error: exit code 1
IMBALANCED = str(SAMPLES / "imbalanced.parquet")  # warnings only: exit code 0
ESCAPE = "\x1b["
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-7]|38|9[0-7])[;m]")  # SGR: a foreground colour


def lossdoctor(
    *args: str, env: dict[str, str] | None = None, **kwargs
) -> subprocess.CompletedProcess:
    """A real process, as a shell runs it, with none of the colour variables of this one."""
    drop = {"FORCE_COLOR", "NO_COLOR", "TERM", "COLUMNS", "CLICOLOR_FORCE", "TTY_COMPATIBLE"}
    clean = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("_LOSS")}
    return subprocess.run(
        [sys.executable, "-m", "lossdoctor", *args],
        env=clean | {"TERM": "xterm-256color"} | (env or {}),
        timeout=120,
        **kwargs,
    )


# ---- colour -------------------------------------------------------------------------------------


def looks(text: str) -> str:
    """colour (a foreground colour code), style (bold, dim: allowed under NO_COLOR) or plain."""
    if COLOUR.search(text):
        return "colour"
    return "style" if ESCAPE in text else "plain"


@pytest.mark.parametrize(
    "args, env, expected",
    [
        ([], {}, "plain"),  # a pipe
        ([], {"FORCE_COLOR": "1"}, "colour"),
        (["--color", "always"], {}, "colour"),
        (["--color", "always"], {"NO_COLOR": "1"}, "colour"),  # the option wins
        (["--color", "never"], {"FORCE_COLOR": "1"}, "plain"),
        (["--color", "auto"], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, "style"),
    ],
    ids=["pipe", "force-color", "always", "always-over-no-color", "never", "no-color"],
)
def test_color_option_and_variables_decide_the_escape_codes(args, env, expected):
    done = lossdoctor("check", LOGITS, *args, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert looks(done.stdout) == expected
    assert "Logits saved as probabilities" in done.stdout


def test_color_never_keeps_every_character_of_the_report():
    plain = lossdoctor("check", LOGITS, capture_output=True, text=True)
    never = lossdoctor(
        "check",
        LOGITS,
        "--color",
        "never",
        env={"FORCE_COLOR": "1"},
        capture_output=True,
        text=True,
    )
    assert never.returncode == plain.returncode == 1
    assert never.stdout == plain.stdout


def test_an_unknown_color_is_a_usage_error_naming_the_choices():
    result = CliRunner().invoke(cli, ["check", LOGITS, "--color", "sometimes"])
    assert result.exit_code == 2
    assert "'auto', 'always', 'never'" in result.stderr


# ---- checks --format json ---------------------------------------------------------------------


def test_checks_as_json_lists_every_check_of_the_registry_in_order():
    result = CliRunner().invoke(cli, ["checks", "--format", "json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    everything = (*REGISTRY, inconsistent, weak)  # the segments' checks come last
    assert [c["id"] for c in listed] == [check.ID for check in everything]
    for entry, check in zip(listed, everything, strict=True):
        assert entry["severity"] == str(check.SEVERITY)
        assert entry["why"] == check.WHY
        fixes = getattr(check, "FIXES", None) or {"any framework": check.FIX}
        assert entry["fixes"] == dict(fixes)
        assert entry["summary"] and entry["summary"] in check.__doc__


def test_checks_as_text_has_the_same_ids_and_summaries_as_the_json():
    runner = CliRunner()
    text = runner.invoke(cli, ["checks"]).stdout.splitlines()
    listed = json.loads(runner.invoke(cli, ["checks", "--format", "json"]).stdout)
    assert len(text) == len(listed)
    for line, entry in zip(text, listed, strict=True):
        assert line.split()[:2] == [entry["id"], entry["severity"]]
        assert line.endswith(entry["summary"])


# ---- shell completion -------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_line_prints_a_script(shell):
    done = lossdoctor(
        env={"_LOSSDOCTOR_COMPLETE": f"{shell}_source"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "_LOSSDOCTOR_COMPLETE" in done.stdout
    assert f"{shell}_complete" in done.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_LOSSDOCTOR_COMPLETE={shell}_source lossdoctor" in readme


def test_the_readmes_bash_line_registers_the_completion_in_bash():
    line = 'eval "$(_LOSSDOCTOR_COMPLETE=bash_source lossdoctor)"'
    assert line in (ROOT / "README.md").read_text(encoding="utf-8")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", "-c", f"{line} && complete -p lossdoctor"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stderr
    assert "_lossdoctor_completion" in done.stdout


def test_completion_completes_subcommands_options_and_choices():
    def complete(words: str) -> list[str]:
        env = {
            "_LOSSDOCTOR_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        done = lossdoctor(env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert {"check", "checks", "explain", "schema"} <= set(complete("lossdoctor "))
    assert complete("lossdoctor check --fo") == ["--format"]
    assert complete("lossdoctor check --color ") == ["auto", "always", "never"]


# ---- usage errors point at the command's own help ---------------------------------------------


@pytest.mark.parametrize(
    "args, command",
    [
        (["check", "--format"], "lossdoctor check"),
        (["check", LOGITS, "--gate"], "lossdoctor check"),
        (["check", "--fromat", "json", LOGITS], "lossdoctor check"),
        (["check"], "lossdoctor check"),
        (["schema", "--kind"], "lossdoctor schema"),
        (["schema", "--kind", "compare"], "lossdoctor schema"),
        (["checks", "--format"], "lossdoctor checks"),
        (["explain"], "lossdoctor explain"),
        (["chek", LOGITS], "lossdoctor"),
    ],
)
def test_a_usage_error_points_at_the_help_of_the_command_used(args, command):
    result = CliRunner().invoke(cli, args, prog_name="lossdoctor")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("lossdoctor: error: ")
    assert line.endswith(f"; see '{command} --help'")


# ---- a reader that closes the pipe early -------------------------------------------------------

EVERY_COMMAND = [
    (["check", LOGITS], 1),
    (["check", IMBALANCED], 0),
    (["check", LOGITS, "--format", "json"], 1),
    (["check", LOGITS, "--format", "markdown"], 1),
    (["check", LOGITS, "--quiet"], 1),
    (["check", LOGITS, "--github"], 1),
    (["check", LOGITS, "--verbose"], 1),
    (["checks"], 0),
    (["checks", "--format", "json"], 0),
    (["explain", "logits-vs-probabilities"], 0),
    (["schema"], 0),
    (["--help"], 0),
    (["--version"], 0),
    (["check", "--help"], 0),
]


@pytest.mark.parametrize(
    "args, code",
    EVERY_COMMAND,
    ids=lambda a: " ".join(Path(x).name for x in a) if isinstance(a, list) else str(a),
)
def test_a_closed_stdout_leaves_the_exit_code_the_command_would_have(args, code):
    """The read end is closed before the process writes: every write fails (EPIPE), the
    exit code is still the command's (check: its verdict), and nothing is said about it."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = lossdoctor(*args, stdout=write, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert done.returncode == code, done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize(
    "args, code",
    EVERY_COMMAND[:3] + EVERY_COMMAND[-7:],
    ids=lambda a: " ".join(Path(x).name for x in a) if isinstance(a, list) else str(a),
)
def test_head_reading_one_byte_leaves_the_exit_code_the_command_would_have(args, code):
    pipeline = (
        f'"{sys.executable}" -m lossdoctor "$@" | head -c1 >/dev/null; echo "${{PIPESTATUS[0]}}"'
    )
    done = subprocess.run(
        ["bash", "-c", pipeline, "bash", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "NO_COLOR"}},
    )
    assert done.stdout.strip() == str(code), done.stderr
    assert done.stderr == ""


# ---- a table that is not predictions ---------------------------------------------------------


@pytest.fixture
def tables(tmp_path) -> dict[str, str]:
    files = {
        "cities.csv": "city,population\nParis,2100000\nLyon,520000\n",
        "labels_only.csv": "label,a,b\n1,2,3\n0,5,6\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return {name: str(tmp_path / name) for name in files}


def test_a_table_without_label_or_prediction_columns_is_not_a_predictions_file(tables):
    result = CliRunner().invoke(cli, ["check", tables["cities.csv"], "--no-config"])
    assert result.exit_code == 2
    assert "is not a predictions file" in result.stderr
    assert "columns: city, population" in result.stderr


def test_skip_non_predictions_passes_over_it_with_a_note_and_keeps_the_others(tables):
    args = ["check", tables["cities.csv"], LOGITS, "-q", "--skip-non-predictions", "--no-config"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert (
        result.stdout == f"{LOGITS}: error logits-vs-probabilities: Logits saved as probabilities\n"
    )
    (note,) = result.stderr.splitlines()
    assert note.startswith(f"lossdoctor: note: skipped {tables['cities.csv']}: not a predictions")
    alone = CliRunner().invoke(cli, [*args[:2], "--skip-non-predictions", "--format", "json"])
    assert (alone.exit_code, json.loads(alone.stdout)) == (0, [])


def test_skip_non_predictions_still_fails_a_table_that_has_labels_but_no_predictions(tables):
    args = ["check", tables["labels_only.csv"], "--skip-non-predictions", "--no-config"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "no prediction column found" in result.stderr


def test_the_note_about_a_skipped_file_is_one_line_whatever_its_name(tmp_path):
    path = tmp_path / "two\nlines.csv"
    path.write_text("city,population\nParis,2100000\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path), "--skip-non-predictions", "--no-config"])
    assert result.exit_code == 0
    (note,) = result.stderr.splitlines()
    assert "two\\nlines.csv" in note
