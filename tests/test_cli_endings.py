"""How a run ends when it does not end with a report: every usage error click can raise (the cases
generated from the commands themselves, so a new option is covered by being declared), SIGINT and
SIGTERM, a write that fails, and what is left in --output then."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lossdoctor.cli import cli
from lossdoctor.report import SCHEMA_VERSION

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE = str(SAMPLES / "healthy_binary.parquet")
# Values that every declared type refuses: a word for numbers, a number outside any range.
BAD_VALUES = {click.types.FloatParamType: "abc", click.types.IntParamType: "abc"}


# ---- every misuse of every command and option -------------------------------------------------


def _valid_arguments(command: click.Command) -> list[str]:
    """Arguments that parse, so that the misuse at the end is the only one."""
    return [SAMPLE if arg.nargs == -1 else "x" for arg in command.params if _is_argument(arg)]


def _is_argument(param: click.Parameter) -> bool:
    return isinstance(param, click.Argument) and param.required


def _commands() -> list[tuple[list[str], click.Command]]:
    """The group and each subcommand, with the words that reach it."""
    return [([], cli), *(([name], command) for name, command in cli.commands.items())]


def _options(command: click.Command) -> list[click.Option]:
    """Declared options and the ones click adds (--help)."""
    params = command.get_params(click.Context(command))
    return [p for p in params if isinstance(p, click.Option)]


def _misuses() -> list[list[str]]:
    cases = [["-V", "check", SAMPLE], ["no-such-command"]]
    for words, command in _commands():
        valid = [*words, *_valid_arguments(command)]
        cases += [[*valid, "--no-such-option"], [*valid, "-V"]]
        if any(_is_argument(p) for p in command.params):
            cases.append(words)  # a missing argument
        takes_any = any(isinstance(p, click.Argument) and p.nargs == -1 for p in command.params)
        if words and not takes_any:
            cases.append([*valid, "one-too-many"])
        for option in _options(command):
            for opt in option.opts + option.secondary_opts:
                cases += _option_misuses(valid, option, opt)
    return cases


def _option_misuses(valid: list[str], option: click.Option, opt: str) -> list[list[str]]:
    if option.is_flag or option.count:  # a value given to a flag; -qZ reads as -q -Z
        return [[*valid, f"{opt}=yes" if opt.startswith("--") else f"{opt}Z"]]
    cases = [[*valid, opt]]  # the value is missing
    kind = option.type
    if isinstance(kind, click.Choice):
        cases.append([*valid, opt, "not-a-choice"])
    elif isinstance(kind, click.types._NumberRangeBase):
        cases += [[*valid, opt, "abc"], [*valid, opt, "1e9"], [*valid, opt, "-1e9"]]
    elif type(kind) in BAD_VALUES:
        cases.append([*valid, opt, BAD_VALUES[type(kind)]])
    elif isinstance(kind, click.Path) and kind.exists:
        cases.append([*valid, opt, "/no/such/file"])
    elif kind.name == "gate":
        cases += [[*valid, opt, "nonsense"], [*valid, opt, "roc_auc >= x"]]
    return cases


MISUSES = _misuses()


def test_the_generated_misuses_cover_every_option_of_every_command():
    used = {arg.split("=")[0] for case in MISUSES for arg in case if arg.startswith("-")}
    used |= {arg[:2] for case in MISUSES for arg in case if arg.startswith("-") and arg[1] != "-"}
    for _, command in _commands():
        for option in _options(command):
            assert set(option.opts + option.secondary_opts) <= used


@pytest.mark.parametrize("args", MISUSES, ids=" ".join)
def test_every_misuse_is_one_line_and_exit_2(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoctor: error: "), result.stderr
    assert "--help" in lines[0]  # where to look


@pytest.mark.parametrize("args", [["-V"], ["--bogus", "check"], ["check", "--threshold"]])
def test_a_misuse_in_a_real_process_is_one_line_and_exit_2(args):
    done = subprocess.run(
        [sys.executable, "-m", "lossdoctor", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("lossdoctor: error: ")
    assert done.stdout == ""


def test_a_misuse_with_json_on_stdout_still_prints_json():
    result = CliRunner().invoke(cli, ["check", SAMPLE, "--format", "json", "--threshold", "x"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2 and "--threshold" in error["error"]


# ---- SIGINT and SIGTERM -----------------------------------------------------------------------


def _blocked_on_stdin(process: subprocess.Popen) -> bool:
    """Linux says which system call a process waits in: read (0) of fd 0."""
    try:
        return Path(f"/proc/{process.pid}/syscall").read_text().startswith("0 0x0 ")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/syscall").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGINT, 130, "lossdoctor: interrupted"),
        (signal.SIGTERM, 143, "lossdoctor: terminated"),
    ],
)
def test_a_signal_ends_the_run_with_128_plus_its_number_and_one_line(signum, code, line, tmp_path):
    """The run waits for stdin that never ends; the signal arrives while it reads."""
    output = tmp_path / "report.json"
    output.write_text('{"old": "report"}', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-c", "from lossdoctor.cli import main; main()", "check", "-",
         "--input-format", "csv", "--format", "json", "-o", str(output)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _blocked_on_stdin(process) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert stderr == line + "\n"
    assert json.loads(output.read_text(encoding="utf-8")) == {
        "schema_version": SCHEMA_VERSION,
        "path": None,
        "error": line[12:],
        "exit_code": code,
    }


# ---- --output: whole or not at all --------------------------------------------------------------


def test_output_replaces_the_file_whole_and_keeps_its_permissions(tmp_path):
    output = tmp_path / "report.json"
    output.write_text("old", encoding="utf-8")
    output.chmod(0o640)
    result = CliRunner().invoke(cli, ["check", SAMPLE, "--format", "json", "-o", str(output)])
    assert result.exit_code == 0
    assert json.loads(output.read_text(encoding="utf-8"))["input"]["paths"] == [SAMPLE]
    assert output.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary left


def test_output_through_a_symbolic_link_writes_its_target(tmp_path):
    target = tmp_path / "real.md"
    target.write_text("old", encoding="utf-8")
    (tmp_path / "link.md").symlink_to(target)
    CliRunner().invoke(
        cli, ["check", SAMPLE, "--format", "markdown", "-o", str(tmp_path / "link.md")]
    )
    assert (tmp_path / "link.md").is_symlink()
    assert target.read_text(encoding="utf-8").startswith("### ")


def _run_on_a_full_disk(output: Path, room: int) -> subprocess.CompletedProcess:
    """Any file write beyond `room` bytes fails (EFBIG, with SIGXFSZ ignored), as on a full disk."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    return subprocess.run(
        [sys.executable, "-m", "lossdoctor", "check", SAMPLE, "--format=json", "-o", str(output)],
        capture_output=True, text=True, timeout=120, preexec_fn=limit,
    )  # fmt: skip


@pytest.mark.parametrize("room", [0, 100])
def test_a_failed_write_leaves_the_previous_output_whole(room, tmp_path):
    """Neither the report nor the error object fits: the previous file stays as it was."""
    output = tmp_path / "report.json"
    previous = json.dumps({"previous": "report"})
    output.write_text(previous, encoding="utf-8")
    done = _run_on_a_full_disk(output, room)
    assert done.returncode == 2
    assert done.stderr.startswith("lossdoctor: error: cannot write --output")
    assert done.stderr.count("\n") == 1
    assert output.read_text(encoding="utf-8") == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_report_too_large_to_write_is_replaced_by_the_error_object(tmp_path):
    output = tmp_path / "report.json"
    output.write_text(json.dumps({"previous": "report"}), encoding="utf-8")
    done = _run_on_a_full_disk(output, 2048)
    assert done.returncode == 2
    error = json.loads(output.read_text(encoding="utf-8"))
    assert error["exit_code"] == 2 and error["error"].startswith("cannot write --output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_failed_write_to_a_new_output_leaves_nothing(tmp_path):
    assert _run_on_a_full_disk(tmp_path / "report.json", 100).returncode == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("misuse", "code"),
    [(["--threshold", "x"], 2), (["--no-such-option"], 2), (["--config", "/no/such/file"], 2)],
)
def test_a_run_without_a_report_replaces_the_previous_json_output_with_the_error(
    misuse, code, tmp_path
):
    output = tmp_path / "report.json"
    output.write_text(json.dumps({"exit_code": 0, "findings": []}), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["check", SAMPLE, "--format", "json", "-o", str(output), *misuse]
    )
    assert result.exit_code == code
    error = json.loads(output.read_text(encoding="utf-8"))
    assert error["exit_code"] == code and error["error"] in result.stderr


def test_a_run_without_a_report_replaces_the_previous_markdown_output_with_the_error(tmp_path):
    output = tmp_path / "report.md"
    output.write_text("### ✅ healthy", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--output", str(output), "--format=markdown", "-V"])
    assert result.exit_code == 2
    text = output.read_text(encoding="utf-8")
    assert text.startswith("### ❌ lossdoctor: no report (exit code 2)")
    assert "healthy" not in text


def test_a_file_that_cannot_be_read_is_the_error_in_the_output(tmp_path):
    output = tmp_path / "report.json"
    output.write_text(json.dumps({"exit_code": 0}), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path / "none.parquet"), "--format", "json", "-o", str(output)]
    )
    assert result.exit_code == 2
    assert json.loads(output.read_text(encoding="utf-8"))["exit_code"] == 2


def test_output_to_a_device_is_written_in_place(tmp_path):
    """/dev/null is no regular file: replacing it would be wrong (and, as root, possible)."""
    result = CliRunner().invoke(cli, ["check", SAMPLE, "--format", "json", "-o", os.devnull])
    assert result.exit_code == 0
    assert Path(os.devnull).is_char_device()


@pytest.mark.parametrize("spelling", [["-o{}"], ["--output={}"], ["--output", "{}"]])
def test_every_spelling_of_output_gets_the_error_of_a_refused_run(spelling, tmp_path):
    output = tmp_path / "report.json"
    output.write_text("{}", encoding="utf-8")
    args = [arg.format(output) for arg in spelling]
    result = CliRunner().invoke(cli, ["check", SAMPLE, "--format=json", *args, "--threshold=2"])
    assert result.exit_code == 2
    assert json.loads(output.read_text(encoding="utf-8"))["exit_code"] == 2
