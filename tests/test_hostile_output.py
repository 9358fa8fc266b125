"""A file crafted to attack the terminal or the CI log that shows its report: names and values
with line breaks followed by workflow commands, escape sequences (clear screen, window title),
C1 controls, DEL, a right-to-left override, very long words. Written in every format, run through
every output, nothing it holds may start a line as a command or reach the output as a raw
control character; the JSON report still holds it exactly."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from lossdoctor.cli import cli
from lossdoctor.render import Format
from lossdoctor.render.escape import strict_json, visible

HOSTILE = (
    "nl\n::error title=x::forged",
    "cr\r::warning::forged",
    "clear\x1b[2J",
    "osc\x1b]0;title\x07",
    "c1\x9b31m",
    "del\x7f",
    "rtl\u202eevil",
    "nul\x00byte",
    "legacy ##[error]forged",
    "long " + "L" * 150 + "::error::forged" + "M" * 700,  # labels are at most 1,000 characters
)
LABEL_COLUMN = "y\n::error::forged\x1b[2J"
# Characters no output may carry from the data: controls (a line break only as the output's
# own), DEL, C1, bidirectional controls, line separators, lone surrogates.
RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
OUR_COMMAND = re.compile(r"::(error|warning|notice) (file=[^:,\r\n]*,)?title=[^:\r\n]*::[^\r\n]*")
FORMATS = ("csv", "parquet", "feather", "npz", "jsonl")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[2J\x1b]0;t\x07", "\\x1b[2J\\x1b]0;t\\x07"),
        ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
        ("rtl\u202eevil\u2066\u2028", "rtl\\u202eevil\\u2066\\u2028"),
        ("bad" + os.fsdecode(b"\xff"), "bad\\xff"),
        ("std::string :::", "std:\\x3astring :\\x3a\\x3a"),
        ("##[error]x #[ok] [##]", "##\\x5berror]x #[ok] [##]"),
        ("éß 中文 🙂 a\\nb 100% <b>|", "éß 中文 🙂 a\\nb 100% <b>|"),
    ],
)
def test_visible_escapes_what_a_terminal_or_a_runner_would_obey(text, shown):
    assert visible(text) == shown
    assert visible(shown) == shown  # escaping twice changes nothing


def test_strict_json_keeps_every_string_exactly():
    value = {"name": "##[error]x\n::warning::y\x1b", "n": [1.5, None]}
    text = strict_json(value)
    assert "##[" not in text and "\x1b" not in text
    assert json.loads(text) == value


def hostile_table(fmt: str, rows: int = 360) -> dict[str, np.ndarray]:
    """Multi-class logits whose classes and columns are all named by HOSTILE; imbalanced and
    overconfident, so that findings quote the names."""
    rng = np.random.default_rng(0)
    k = len(HOSTILE)
    y = rng.choice(k, rows, p=np.r_[0.6, np.full(k - 1, 0.4 / (k - 1))])
    logits = rng.normal(size=(rows, k)) * 3
    logits[np.arange(rows), y] += 2
    names = [in_format(name, fmt) for name in HOSTILE]
    columns = {in_format(LABEL_COLUMN, fmt): np.array(names, dtype=object)[y]}
    return columns | {f"{name} {i}": logits[:, i] for i, name in enumerate(names)}


def in_format(name: str, fmt: str) -> str:
    """A zip member's name and pyarrow's JSON keys end at a NUL: theirs have a SOH instead."""
    return name.replace("\x00", "\x01") if fmt in ("npz", "jsonl") else name


def write(fmt: str, path: Path, columns: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as file:  # pyarrow cannot name a path that is not UTF-8
        write_to(fmt, file, columns)


def write_to(fmt: str, file, columns: dict[str, np.ndarray]) -> None:
    if fmt == "csv":
        # Every field quoted: pandas leaves a lone carriage return unquoted, which ends a row.
        pd.DataFrame(columns).to_csv(file, index=False, quoting=csv.QUOTE_ALL)
    elif fmt == "parquet":
        pq.write_table(pa.table(columns), file)
    elif fmt == "feather":
        feather.write_feather(pa.table(columns), file)
    elif fmt == "jsonl":
        file.write(pd.DataFrame(columns).to_json(orient="records", lines=True).encode())
    else:
        np.savez(
            file,
            **{
                name: np.asarray(v, dtype=str if v.dtype == object else None)
                for name, v in columns.items()
            },
        )


def file_name(directory: Path, fmt: str) -> Path:
    """A name with a forged command after a line break, an escape and a byte that is not UTF-8."""
    return directory / ("p\n::error::forged\x1b]0;t\x07" + os.fsdecode(b"\xff") + f".{fmt}")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, ["check", *args, "--no-config"])


def column_options(columns: dict[str, np.ndarray]) -> list[str]:
    options = ["--label-col", next(iter(columns))]
    for name in list(columns)[1:]:
        options += ["--pred-col", name]
    return options


def assert_inert(text: str, commands: int = 0) -> None:
    """No raw control character, no legacy `##[` command, and exactly `commands` lines that a
    runner reads as workflow commands, each one of ours."""
    assert not RAW.search(text), repr(RAW.search(text))
    lines = text.split("\n")
    assert not [line for line in lines if "##[" in line]
    read_as_commands = [line for line in lines if line.lstrip().startswith("::")]
    assert all(OUR_COMMAND.fullmatch(line) for line in read_as_commands), read_as_commands
    assert len(read_as_commands) == commands


@pytest.fixture(scope="module", params=FORMATS)
def hostile_file(request, tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    columns = hostile_table(request.param)
    path = file_name(tmp_path_factory.mktemp(request.param), request.param)
    write(request.param, path, columns)
    return path, columns


def test_the_json_report_holds_the_hostile_names_exactly(hostile_file):
    path, columns = hostile_file
    result = run(str(path), *column_options(columns), "--format", "json")
    assert result.exit_code == 1, result.output
    assert_inert(result.stdout)
    report = json.loads(result.stdout)
    assert report["input"]["paths"] == [str(path)]
    assert report["input"]["label_columns"] == list(columns)[:1]
    assert report["input"]["prediction_columns"] == list(columns)[1:]
    labels = columns[next(iter(columns))]
    assert report["confusion_matrix"]["labels"] == sorted(set(labels))
    assert report["findings"]


@pytest.mark.parametrize(
    "output",
    [[], ["-v"], ["-q"], ["--ascii"], *(["--format", f.value] for f in Format)],
    ids=lambda o: " ".join(o) or "terminal",
)
def test_every_output_shows_the_hostile_names_escaped(hostile_file, output):
    path, columns = hostile_file
    result = run(str(path), *column_options(columns), *output)
    assert result.exit_code == 1, result.output
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    if "-q" not in output and output[-1:] != ["json"]:
        assert "\\x1b" in result.stdout  # shown, not dropped


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_every_output_file_shows_the_hostile_names_escaped(hostile_file, fmt, tmp_path):
    path, columns = hostile_file
    written = tmp_path / "report.out"
    run(str(path), *column_options(columns), "--format", fmt.value, "-o", str(written))
    assert_inert(written.read_text(encoding="utf-8"))


def test_github_annotations_are_the_only_commands(hostile_file, tmp_path):
    path, columns = hostile_file
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = run(str(path), *column_options(columns), "--github", env=env)
    assert result.exit_code == 1
    findings = json.loads(run(str(path), *column_options(columns), "--format", "json").stdout)
    assert_inert(result.stdout, commands=len(findings["findings"]))
    assert_inert(summary.read_text(encoding="utf-8"))


def test_several_paths_quiet_lines_start_with_the_escaped_path(hostile_file):
    path, columns = hostile_file
    result = run(str(path), str(path), *column_options(columns), "-q")
    assert result.exit_code == 1
    assert_inert(result.stdout)
    assert all(line.startswith(visible(str(path))) for line in result.stdout.splitlines())


@pytest.mark.parametrize("output", [[], ["--format", "json"], ["--format", "markdown"]])
def test_an_error_quoting_a_hostile_name_is_one_escaped_line(hostile_file, output):
    path, _ = hostile_file
    result = run(str(path), "--label-col", "absent\n::error::forged\x1b[2J", *output)
    assert result.exit_code == 2
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    assert len(result.stderr.splitlines()) == 1
    assert "absent\\n:\\x3aerror:\\x3aforged\\x1b[2J" in result.stderr


def test_a_missing_hostile_path_is_one_annotation_and_one_escaped_line(tmp_path):
    summary = tmp_path / "summary.md"
    missing = str(tmp_path / "none\n::error::forged\x1b[2J.parquet")
    result = run(missing, "--github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 2
    assert_inert(result.stdout, commands=1)
    assert_inert(result.stderr)
    assert len(result.stderr.splitlines()) == 1
    assert_inert(summary.read_text(encoding="utf-8"))
