"""The terminal report: golden renderings at fixed widths, and what every layout must show.

Regenerate the golden files after an intended change of the layout with
`LOSSDOCTOR_UPDATE_GOLDEN=1 pytest tests/test_render_terminal.py`, then read the diff.
"""

from __future__ import annotations

import contextlib
import os
import re
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import lossdoctor
from lossdoctor.io import read_predictions
from lossdoctor.render.terminal import render
from lossdoctor.report import Report
from lossdoctor.settings import Settings
from tests.conftest import multilabel
from tests.helpers import diagnose_predictions

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("LOSSDOCTOR_UPDATE_GOLDEN") == "1"
SAMPLES = sorted(
    p.name
    for p in (ROOT / "sample_data").iterdir()
    if p.suffix in {".parquet", ".csv", ".npz", ".feather"}
    or (p.suffix == ".npy" and not p.stem.endswith("_labels"))
)
SCREEN = 50  # lines of a terminal at 120 columns


def sample_report(name: str, monkeypatch: pytest.MonkeyPatch) -> Report:
    """The report of a sample file, read by its path relative to the repository (as shown)."""
    monkeypatch.chdir(ROOT)
    labels = f"sample_data/{Path(name).stem}_labels.npy" if name.endswith(".npy") else None
    predictions = read_predictions(f"sample_data/{name}", labels_path=labels)
    return diagnose_predictions(predictions, Settings())


def many_classes(k: int = 30, n: int = 600) -> Report:
    """K classes, every 7th row taken for the next class and every 11th for class 0."""
    rows = np.arange(n)
    y = rows % k
    predicted = np.where(rows % 7 == 0, (y + 1) % k, np.where(rows % 11 == 0, 0, y))
    proba = np.full((n, k), 0.1 / (k - 1))
    proba[rows, predicted] = 0.9
    return lossdoctor.diagnose(y, proba)


def long_class_names(n: int = 300) -> Report:
    """Three dog breeds, names of 9 to 16 characters; every 5th row taken for the next class."""
    names = np.array(["chihuahua", "golden_retriever", "siberian_husky"])
    rows = np.arange(n)
    y = rows % 3
    predicted = np.where(rows % 5 == 0, (y + 1) % 3, y)
    proba = np.full((n, 3), 0.1)
    proba[rows, predicted] = 0.8
    return lossdoctor.diagnose(names[y], proba)


def text_of(report: Report, width: int, **options) -> str:
    console = Console(file=StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(render(report, **options))
    return console.file.getvalue()


def assert_golden(text: str, name: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with LOSSDOCTOR_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is intended, regenerate with "
        "LOSSDOCTOR_UPDATE_GOLDEN=1 and review the diff"
    )


# ---- golden renderings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "width", "options"),
    [
        ("logits_saved_as_probabilities.parquet", 80, {}),
        ("logits_saved_as_probabilities.parquet", 120, {}),
        ("imbalanced.parquet", 80, {}),
        ("imbalanced.parquet", 120, {}),
        ("healthy_multiclass.parquet", 80, {}),
        ("healthy_multiclass.parquet", 120, {}),
        ("labels_one_to_k.csv", 120, {}),
        ("saturated.parquet", 100, {"verbose": True}),
        ("logits_saved_as_probabilities.parquet", 60, {"verbose": True}),
        ("labels_minus_one_plus_one.csv", 80, {"ascii": True}),
    ],
)
def test_sample_renders_as_its_golden_file(sample, width, options, monkeypatch):
    text = text_of(sample_report(sample, monkeypatch), width, **options)
    flags = "".join(f"-{name}" for name, on in options.items() if on)
    assert_golden(text, f"{Path(sample).stem}-{width}{flags}")


@pytest.mark.parametrize(
    ("make", "name", "width"),
    [
        (many_classes, "30_classes", 120),
        (multilabel, "multilabel", 120),
        (long_class_names, "long_class_names", 120),
        (long_class_names, "long_class_names", 80),
    ],
)
def test_synthetic_report_renders_as_its_golden_file(make, name, width):
    assert_golden(text_of(make(), width), f"{name}-{width}")


# ---- nothing is cut silently at any width ------------------------------------------------------

WIDTHS = [50, 60, 80, 100, 120]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_title_that_does_not_fit_ends_with_an_ellipsis(width, monkeypatch):
    for name in ("imbalanced.parquet", "saturated.parquet", "labels_one_to_k.csv"):
        report = sample_report(name, monkeypatch)
        text = text_of(report, width, verbose=True)
        for finding in report.findings:
            if finding.title in text:
                continue
            marker = f"╭─ {'✗▲●'[finding.severity - 1]} {finding.severity} "
            cut = [ln.split(marker, 1)[1] for ln in text.splitlines() if ln.startswith(marker)]
            shown = [title.split("…", 1)[0] for title in cut if "…" in title]
            assert any(part and finding.title.startswith(part) for part in shown), cut
    assert width > 80 or "…" in text_of(sample_report("imbalanced.parquet", monkeypatch), width)


def squeezed(text: str) -> str:
    """The text with panel borders, line ends and spaces removed: what was printed, in order."""
    return "".join(line.strip(" │╭╮╰╯─") for line in text.splitlines()).replace(" ", "")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_fix_is_printed_whole_under_verbose(width, monkeypatch):
    for name in (
        "logits_saved_as_probabilities.parquet",
        "saturated.parquet",
        "imbalanced.parquet",
    ):
        report = sample_report(name, monkeypatch)
        printed = squeezed(text_of(report, width, verbose=True))
        for finding in report.findings:
            for code in (finding.fix, *finding.fixes.values()):
                assert code.replace(" ", "") in printed, (width, code)


@pytest.mark.parametrize(("width", "whole"), [(120, True), (80, True), (60, False)])
def test_class_names_get_the_width_there_is(width, whole):
    text = text_of(long_class_names(), width)
    matrix = text.split("Confusion matrix", 1)[1] if "Confusion matrix" in text else ""
    assert matrix, text
    assert ("golden_retriever" in matrix) is whole
    if not whole:
        assert "golden_…" in matrix or "golden_retr…" in matrix


# ---- what every report shows -------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_fits_one_screen_at_120_columns(sample, monkeypatch):
    report = sample_report(sample, monkeypatch)
    text = text_of(report, 120)
    lines = text.splitlines()
    assert len(lines) <= SCREEN, f"{len(lines)} lines"
    assert re.match(r"^(✓ healthy|[✗▲] \d+ problems?)", lines[0])
    for finding in report.findings:
        assert finding.title in text
        assert finding.check in text
    assert "▕" in text  # a picture: the histogram's and the reliability diagram's axis
    assert "Confusion matrix" in text
    assert max(len(line) for line in lines) <= 120


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_no_line_is_wider_than_the_console(width, monkeypatch):
    for report in (sample_report("imbalanced.parquet", monkeypatch), many_classes()):
        assert max(len(line) for line in text_of(report, width).splitlines()) <= width


def test_verdict_counts_problems_and_notes(monkeypatch):
    healthy = text_of(sample_report("healthy_binary.parquet", monkeypatch), 120)
    assert healthy.splitlines()[0] == "✓ healthy: no finding"
    notes = text_of(sample_report("healthy_multiclass.parquet", monkeypatch), 120)
    assert notes.splitlines()[0] == "✓ healthy: no problem · 3 notes"
    broken = text_of(sample_report("double_sigmoid.parquet", monkeypatch), 120)
    assert broken.splitlines()[0] == "▲ 1 problem: 1 warning"


def test_verdict_takes_the_colour_of_the_worst_finding(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)  # warnings at worst: yellow
    console = Console(file=StringIO(), width=120, color_system="standard", force_terminal=True)
    console.print(render(report))
    first = console.file.getvalue().splitlines()[0]
    assert first.startswith("\x1b[33m") and "2 problems" in first


def test_no_colour_codes_without_a_colour_system(monkeypatch):
    text = text_of(sample_report("double_sigmoid.parquet", monkeypatch), 120)
    assert "\x1b[" not in text


def test_best_f1_and_the_current_threshold_rows_are_marked(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    lines = text_of(report, 120).splitlines()
    best = next(row for row in report.metrics.thresholds if row.best_f1)
    (best_line,) = [line for line in lines if "◀ best F1" in line]
    assert f"{best.threshold:.4g} {best.accuracy:.3f}" in best_line
    (yours,) = [line for line in lines if "◀ yours" in line]
    assert "0.5 0.911" in yours


def test_binary_heat_map_shows_counts_and_row_percentages(monkeypatch):
    text = text_of(sample_report("imbalanced.parquet", monkeypatch), 120)
    assert re.search(r"474 +98% +12 +2%", text)
    assert re.search(r"36 +67% +18 +33%", text)


def test_more_than_20_classes_show_the_most_confused_pairs_instead_of_the_matrix():
    text = text_of(many_classes(), 120)
    assert "Most confused pairs" in text
    assert "true\\pred" not in text
    assert re.search(r" 29 +0 +4 +20%", text)  # 4 of class 29's 20 rows taken for class 0
    assert "and 20 more classes, with a better F1" in text


def test_per_class_table_lists_the_worst_class_first(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    text = text_of(report, 120, verbose=True)
    lines = text.splitlines()
    (title,) = [i for i, line in enumerate(lines) if "Per class, worst F1 first" in line]
    column = lines[title].index("Per class")  # the section may sit beside another
    table = [line[column:] for line in lines[title:]]
    assert table[2].startswith("1 ") and table[3].startswith("0 ")  # F1 0.43, then 0.95


def test_verbose_adds_evidence_why_and_the_fix_of_every_framework(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    short, verbose = text_of(report, 120), text_of(report, 120, verbose=True)
    assert "Per class" not in short and "Per class" in verbose
    flat = " ".join(verbose.split())  # wrapped lines joined
    for finding in report.findings:
        assert " ".join(finding.why.split()[:8]) in flat
        for framework in finding.fixes:
            assert framework in verbose
        for key in finding.evidence:
            assert key in verbose


def test_ascii_output_has_no_drawing_characters(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    text = text_of(report, 120, ascii=True) + text_of(many_classes(), 120, ascii=True)
    drawn = {c for c in text if "\u2500" <= c <= "\u25ff" or c in "✓✗◀…·—"}
    assert drawn == set()
    assert "+--" in text  # panels keep their ASCII frame


def test_a_console_that_cannot_encode_unicode_gets_ascii(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    console = Console(file=StringIO(), width=120, color_system=None, legacy_windows=False)
    options = console.options.copy()
    options.encoding = "ascii"
    lines = console.render_lines(render(report), options, pad=False)
    text = "".join(segment.text for line in lines for segment in line)
    assert "▕" not in text and "|" in text


def test_a_heat_map_too_wide_for_the_console_gives_way_to_the_confused_pairs():
    report = many_classes(k=20, n=800)
    wide, narrow = text_of(report, 120), text_of(report, 80)
    assert "Confusion matrix (argmax)" in wide and "Most confused pairs" not in wide
    assert "Most confused pairs" in narrow and "20 classes: too wide to draw" in narrow


# ---- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env"), [(["--ascii"], {"TERM": "xterm"}), ([], {"TERM": "dumb"})], ids=str
)
def test_check_draws_ascii_with_the_flag_or_a_dumb_terminal(args, env, monkeypatch):
    from click.testing import CliRunner

    from lossdoctor.cli import cli

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "sample_data/imbalanced.parquet", *args], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("! 2 problems: 2 warnings | 1 note\n")
    assert not {c for c in result.stdout if "\u2500" <= c <= "\u25ff"}


def test_check_verbose_adds_the_per_class_table_and_prints_nothing_on_stderr(monkeypatch):
    from click.testing import CliRunner

    from lossdoctor.cli import cli

    monkeypatch.chdir(ROOT)
    path = "sample_data/imbalanced.parquet"
    result = CliRunner().invoke(cli, ["check", path, "--verbose"], env={"TERM": "xterm"})
    assert result.exit_code == 0, result.output
    assert "Per class, worst F1 first" in result.stdout
    assert result.stderr == ""  # no spinner: stderr is not a terminal


def test_the_progress_spinner_runs_only_on_a_terminal(monkeypatch):
    from lossdoctor.cli.display import status as _status

    monkeypatch.setenv("TERM", "xterm")
    piped = _status("reading x", ascii_only=False, console=Console(file=StringIO()))
    assert isinstance(piped, contextlib.nullcontext)
    terminal = Console(file=StringIO(), force_terminal=True)
    with _status("reading x", ascii_only=False, console=terminal) as status:
        status.update("checking 3 rows")
    assert "checking 3 rows" in terminal.file.getvalue()


def test_readme_shows_the_current_report(monkeypatch):
    """The capture after "`make run` shows this", as `lossdoctor check` prints it piped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ lossdoctor check sample_data/logits_saved_as_probabilities.parquet\n"
    start = readme.index(command, readme.index("`make run` shows this")) + len(command)
    shown = readme[start : readme.index("\n```", start)]
    report = sample_report("logits_saved_as_probabilities.parquet", monkeypatch)
    text = "\n".join(line.rstrip() for line in text_of(report, 100).splitlines())
    assert shown == text, "README.md's capture is stale: paste `lossdoctor check ... | cat` at 100"


def test_verbose_shows_each_metrics_interval_beside_its_value(monkeypatch):
    report = sample_report("imbalanced.parquet", monkeypatch)
    short, verbose = text_of(report, 120), text_of(report, 120, verbose=True)
    low, high = report.metrics_ci["roc_auc"]
    shown = f"[{low:.4f}, {high:.4f}]"
    assert "Metrics (95 % intervals)" in verbose and shown in verbose
    assert "intervals" not in short and shown not in short
