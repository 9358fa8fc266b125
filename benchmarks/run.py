"""lossdoctor's benchmark: whole-process wall time and peak memory against scikit-learn.

    make bench                                # or: .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --runs 9
    .venv/bin/python benchmarks/run.py --quick   # small files, 2 runs: a smoke test

Seven cases (six without Rscript), each a set of commands run as separate processes,
interleaved (A B C A B C ...) so that drift of the machine hits them alike, N timed rounds after
one warm-up round:

- 10 M binary rows: `lossdoctor check FILE --format json`, the scikit-learn script a user
  writes for the same numbers (sklearn_baseline.py), and the floor (floor.py: read the
  columns and sort the scores once);
- 1 M rows × 10 classes: the same three commands;
- HTML: the 10 M binary report as an HTML page (`--format html`) against the same report as
  JSON, both to stdout: the page's charts come from the summaries, so it costs about the same;
- start-up: lossdoctor on 500 CSV rows against `python -c "import numpy, click, rich.console"`;
- streaming: `lossdoctor check DIR --format json` on 100 M binary rows in 20 Parquet files,
  next to the 10 M file read into memory and the same 10 M rows as a directory of 10 files;
  polars' streaming engine and DuckDB computing ROC-AUC, log loss and accuracy on the same
  100 M rows (benchmarks/peers.py, when installed: the `bench` extra);
  at most STREAMING_ROUNDS timed rounds, as one round takes half a minute;
- compare: `lossdoctor compare` of the 10 M file and a candidate model's file of the same rows,
  against `lossdoctor check` of the first; and, with Rscript, compare on 1 M paired rows
  against pROC's roc.test (benchmarks/proc_roc_test.R, timed on R's own clock).

Wall time is time.perf_counter() around the child, from spawn to exit. Peak memory is the
child's own ru_maxrss from os.wait4(). Linux counts the parent's memory high-water mark in a
child's ru_maxrss at exec, so this process imports nothing beyond the standard library (numpy
and pyarrow run in the data generator, a child of its own) and stays far below any child.

The warm-up outputs are kept to check that lossdoctor's numbers agree with scikit-learn's, so
the comparison is like with like, and, in the streaming case, that streaming the 10 M rows
gives the numbers of reading them into memory. The tables go to stdout and, except with
--quick, to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
PYTHON = sys.executable
RTOL = 1e-6  # lossdoctor and scikit-learn must agree to this relative difference
STREAM_RTOL = 1e-9  # streaming and in-memory metrics, unless the report states a bound
STREAMING_ROUNDS = 3  # at most, for the streaming case: one round takes ~30 s
STREAMING_RSS_MB = 600  # peak RSS of the 100 M streaming run must stay under this (10**6 bytes)
# polars' streaming engine and DuckDB on the 100 M rows: the faster one's time / lossdoctor's
PEERS = ("polars", "duckdb")
PEER_SPEED_UP = 2.0
STREAMING_SPEED = 0.8  # its rows per second, as a share of the in-memory path's on 10 M rows
# Sections of the two 10 M reports compared besides the metrics: shown, not part of the verdict
OTHER_SECTIONS = ("thresholds", "calibration", "histogram")
REQUIRED_METRICS = ("log_loss", "roc_auc", "pr_auc", "accuracy")
OTHER_METRICS = (
    "balanced_accuracy",
    "f1_macro",
    "mcc",
    "precision",
    "recall",
    "f1",
    "brier",
)
THRESHOLD_FIELDS = ("accuracy", "precision", "recall", "f1")
IMPORT_LINE = "import numpy, click, rich.console"
HTML_GOAL = 1.2  # the HTML report's time, as a multiple of the JSON report's
# An uncaught exception exits 1, which for lossdoctor also means "findings": tell them apart.
CRASH = "Traceback (most recent call last)"
BUSY = 0.1  # cores used by other processes above which a case is flagged as measured on a busy box


# ---- commands and measurements ----------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str  # short name in the tables
    argv: tuple[str, ...]
    shown: str  # the command as a user types it, from the repository root
    ok_codes: tuple[int, ...] = (0,)
    rows: int | None = None  # rows read, for rows per second
    keeps_stdout: bool = False  # its stdout kept in every round (a time it measures itself)


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    rss_kib: int  # the child's peak resident set size
    cpu: float  # the child's user + system CPU seconds
    code: int
    stderr: str
    stdout: str = ""  # kept only for a command that keeps_stdout


@dataclass
class Timings:
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def cpus(self) -> list[float]:
        return [r.cpu for r in self.runs]

    @property
    def rss_mib(self) -> float:
        return statistics.median(r.rss_kib for r in self.runs) / 1024


@dataclass(frozen=True)
class Target:
    text: str  # what is compared, in words
    value: Callable[[dict[str, Timings]], tuple[float, float, float]]  # median, min, max
    goal: str  # e.g. ">= 8x"
    met: Callable[[float], bool] | None  # None: shown for information, no target
    suffix: str = "x"  # of the measured value: a ratio, or " MiB"
    digits: int = 2


# From the warm-up outputs (command name -> stdout file) and a scratch directory: one line (or a
# few) saying whether the numbers agree, and whether they do
Agreement = Callable[[dict[str, Path], Path], tuple[str, bool]]


@dataclass(frozen=True)
class Case:
    title: str
    commands: tuple[Command, ...]
    targets: tuple[Target, ...]
    unit: str  # "s" or "ms" in the tables
    agreement: Agreement
    agreement_title: str  # e.g. "Numbers against scikit-learn"
    compared: tuple[str, ...]  # the commands whose outputs the agreement reads
    max_rounds: int | None = None  # fewer timed rounds for a long case


def lossdoctor_exe() -> str:
    """The lossdoctor of the interpreter running this script (the project's .venv)."""
    beside = Path(PYTHON).parent / "lossdoctor"
    return str(beside) if beside.is_file() else "lossdoctor"


def run_once(command: Command, stdout_path: Path | None = None) -> Run:
    """Spawn, wait, measure. stdout goes to /dev/null, or to stdout_path (the warm-up), or is
    kept for a command that keeps_stdout."""
    kept = stdout_path is None and command.keeps_stdout
    out_name = os.devnull if stdout_path is None else stdout_path
    with (
        tempfile.TemporaryFile() if kept else open(out_name, "wb") as out,
        tempfile.TemporaryFile() as err,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(
            command.argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        stdout = ""
        if kept:
            out.seek(0)
            stdout = out.read().decode(errors="replace")
    return Run(wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, code, stderr, stdout)


def measure(case: Case, rounds: int, scratch: Path) -> tuple[dict[str, Timings], dict[str, Path]]:
    """One warm-up round (outputs kept), then `rounds` timed rounds, commands interleaved."""
    timings = {c.name: Timings() for c in case.commands}
    outputs = {c.name: scratch / f"{c.name.replace(' ', '_')}.out" for c in case.commands}
    for round_number in range(rounds + 1):
        warm_up = round_number == 0
        label = "warm-up" if warm_up else f"round {round_number}/{rounds}"
        parts = []
        for command in case.commands:
            timing = timings[command.name]
            if timing.failure:
                continue
            run = run_once(command, outputs[command.name] if warm_up else None)
            if warm_up:
                outputs[command.name].with_suffix(".wall").write_text(repr(run.wall))
            if run.code not in command.ok_codes or CRASH in run.stderr:
                tail = "\n    ".join(run.stderr.strip().splitlines()[-15:])
                timing.failure = f"exit code {run.code}" + (f":\n    {tail}" if tail else "")
                parts.append(f"{command.name} FAILED ({run.code})")
                continue
            if not warm_up:
                timing.runs.append(run)
            parts.append(f"{command.name} {fmt_time(run.wall, case.unit)}")
        print(f"  {label}: " + ", ".join(parts), flush=True)
    return timings, outputs


# ---- ratios and targets -----------------------------------------------------------------------


def paired(numerator: str, denominator: str) -> Callable[[dict[str, Timings]], tuple]:
    """Median (and range) of the per-round ratios of two commands' wall times."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        a, b = timings[numerator].walls, timings[denominator].walls
        ratios = [x / y for x, y in zip(a, b, strict=True)]
        return statistics.median(ratios), min(ratios), max(ratios)

    return value


def memory(numerator: str, denominator: str) -> Callable[[dict[str, Timings]], tuple]:
    """Ratio of the median peak RSS of two commands."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        ratio = timings[numerator].rss_mib / timings[denominator].rss_mib
        return ratio, ratio, ratio

    return value


def speed_up(goal: float) -> Target:
    return Target(
        "speed-up: scikit-learn time / lossdoctor time",
        paired("scikit-learn", "lossdoctor"),
        f">= {goal:g}x",
        lambda v: v >= goal,
    )


def versus_floor(goal: float | None) -> Target:
    return Target(
        "lossdoctor time / floor time",
        paired("lossdoctor", "floor"),
        "—" if goal is None else f"<= {goal:g}x",
        None if goal is None else (lambda v: v <= goal),
    )


LESS_MEMORY = Target(
    "peak RSS: lossdoctor / scikit-learn",
    memory("lossdoctor", "scikit-learn"),
    "< 1x",
    lambda v: v < 1,
)


def throughput(numerator: Command, denominator: Command) -> Callable[[dict[str, Timings]], tuple]:
    """Median (and range) of the per-round ratios of two commands' rows per second."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        a, b = timings[numerator.name].walls, timings[denominator.name].walls
        scale = numerator.rows / denominator.rows
        ratios = [scale * y / x for x, y in zip(a, b, strict=True)]
        return statistics.median(ratios), min(ratios), max(ratios)

    return value


def peak_rss(name: str) -> Callable[[dict[str, Timings]], tuple]:
    """Median (and range) of one command's peak RSS, in MiB."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        peaks = [r.rss_kib / 1024 for r in timings[name].runs]
        return statistics.median(peaks), min(peaks), max(peaks)

    return value


def lossdoctor_command(path: str, name: str = "lossdoctor", rows: int | None = None) -> Command:
    """The command under test: a report as JSON (exit 1 only means it found something)."""
    return Command(
        name,
        (lossdoctor_exe(), "check", path, "--format", "json"),
        f"lossdoctor check {path} --format json",
        ok_codes=(0, 1),
        rows=rows,
    )


def data_case(title: str, path: str, targets: tuple[Target, ...]) -> Case:
    sklearn = Command(
        "scikit-learn",
        (PYTHON, "benchmarks/sklearn_baseline.py", path),
        f"python benchmarks/sklearn_baseline.py {path}",
    )
    commands = (
        lossdoctor_command(path),
        sklearn,
        Command(
            "floor",
            (PYTHON, "benchmarks/floor.py", path),
            f"python benchmarks/floor.py {path}",
        ),
    )
    return Case(
        title,
        commands,
        targets,
        "s",
        against_sklearn(sklearn),
        "Numbers against scikit-learn",
        ("lossdoctor", "scikit-learn"),
    )


def html_case(path: str) -> Case:
    """The same report written as HTML and as JSON."""
    json_report = lossdoctor_command(path, "JSON report")
    html_report = Command(
        "HTML report",
        (lossdoctor_exe(), "check", path, "--format", "html"),
        f"lossdoctor check {path} --format html",
        ok_codes=(0, 1),
    )
    target = Target(
        "HTML report time / JSON report time",
        paired("HTML report", "JSON report"),
        f"<= {HTML_GOAL:g}x",
        lambda v: v <= HTML_GOAL,
    )
    return Case(
        f"HTML report: {path}",
        (json_report, html_report),
        (target,),
        "s",
        html_agrees,
        "The page's metrics against the JSON report's",
        ("JSON report", "HTML report"),
    )


def html_agrees(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
    """Every metric of the page (its data-value) is the JSON report's, to the last bit."""
    try:
        metrics = json.loads(outputs["JSON report"].read_text())["metrics"]
        page = outputs["HTML report"].read_text(encoding="utf-8")
    except (OSError, ValueError, KeyError) as error:
        return f"not compared: unreadable output ({error})", False
    cells = dict(re.findall(r'<tr data-metric="([^"]+)">.*?<td(?: data-value="([^"]*)")?>', page))
    differ = [
        name
        for name, value in metrics.items()
        if (float(cells[name]) if cells.get(name) else None) != value
    ]
    if differ or len(cells) != len(metrics):
        return f"differences: {', '.join(differ) or 'the metrics listed'}", False
    return f"agree: all {len(metrics)} metrics equal", True


def startup_case(path: str) -> Case:
    commands = (
        lossdoctor_command(path),
        Command("import line", (PYTHON, "-c", IMPORT_LINE), f'python -c "{IMPORT_LINE}"'),
    )
    target = Target(
        "lossdoctor time / import line time",
        paired("lossdoctor", "import line"),
        "<= 1.6x",
        lambda v: v <= 1.6,
    )
    reference = Command(
        "scikit-learn",
        (PYTHON, "benchmarks/sklearn_baseline.py", path),
        f"python benchmarks/sklearn_baseline.py {path}",
    )
    return Case(
        "start-up: 500 binary rows (CSV)",
        commands,
        (target,),
        "ms",
        against_sklearn(reference),
        "Numbers against scikit-learn",
        ("lossdoctor",),
    )


def peer_commands(path: str, rows: int) -> tuple[Command, ...]:
    """polars' streaming engine and DuckDB on a dataset (benchmarks/peers.py), each installed
    (the `bench` extra that make bench installs): none of them without it."""
    import importlib.util

    return tuple(
        Command(
            engine,
            (PYTHON, "benchmarks/peers.py", engine, path),
            f"python benchmarks/peers.py {engine} {path}",
            rows=rows,
        )
        for engine in PEERS
        if importlib.util.find_spec(engine) is not None
    )


def faster_peer(name: str, peers: Sequence[str]) -> Callable[[dict[str, Timings]], tuple]:
    """Median (and range) of the per-round ratios: the faster peer's time / `name`'s time."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        rounds = zip(*(timings[peer].walls for peer in peers), strict=True)
        ratios = [
            min(walls) / ours for walls, ours in zip(rounds, timings[name].walls, strict=True)
        ]
        return statistics.median(ratios), min(ratios), max(ratios)

    return value


def lower_peer_memory(name: str, peers: Sequence[str]) -> Callable[[dict[str, Timings]], tuple]:
    """`name`'s median peak RSS over the lower of the peers' medians."""

    def value(timings: dict[str, Timings]) -> tuple[float, float, float]:
        ratio = timings[name].rss_mib / min(timings[peer].rss_mib for peer in peers)
        return ratio, ratio, ratio

    return value


def streaming_case(data: dict[str, dict]) -> Case:
    """The large data set streamed, next to polars and DuckDB on the same files, the 10 M file
    in memory and the same rows as a directory."""
    large, memory, parts = data["binary_large"], data["binary"], data["binary_parts"]
    name_large = f"streaming {count(large['rows'])}"
    name_memory = f"in memory {count(memory['rows'])}"
    name_parts = f"streaming {count(parts['rows'])}"
    streamed_large = lossdoctor_command(large["path"], name_large, large["rows"])
    in_memory = lossdoctor_command(memory["path"], name_memory, memory["rows"])
    streamed_parts = lossdoctor_command(parts["path"], name_parts, parts["rows"])
    peers = peer_commands(large["path"], large["rows"])
    peer_names = [peer.name for peer in peers]
    mib_goal = STREAMING_RSS_MB * 10**6 / 2**20
    against_peers = (
        (
            Target(
                f"{name_large}: the faster of {' and '.join(peer_names)}'s time / lossdoctor's",
                faster_peer(name_large, peer_names),
                f">= {PEER_SPEED_UP:g}x",
                lambda v: v >= PEER_SPEED_UP,
            ),
            Target(
                f"peak RSS: {name_large} / the lower peer's",
                lower_peer_memory(name_large, peer_names),
                "—",
                None,
            ),
        )
        if peers
        else ()
    )
    targets = (
        *against_peers,
        Target(
            f"rows/s: {name_large} / {name_memory}",
            throughput(streamed_large, in_memory),
            f">= {STREAMING_SPEED:g}x",
            lambda v: v >= STREAMING_SPEED,
        ),
        Target(
            f"peak RSS: {name_large}",
            peak_rss(name_large),
            f"< {mib_goal:.0f} MiB ({STREAMING_RSS_MB} MB)",
            lambda v: v < mib_goal,
            suffix=" MiB",
            digits=0,
        ),
        Target(
            f"rows/s: {name_parts} / {name_memory}",
            throughput(streamed_parts, in_memory),
            "—",
            None,
        ),
    )
    return Case(
        f"streaming: {count(large['rows'])} binary rows in {large['files']} Parquet files",
        (streamed_large, *peers, in_memory, streamed_parts),
        targets,
        "s",
        both(
            against_memory(name_parts, name_memory, name_large, large["rows"]),
            against_peers_numbers(name_large, peer_names),
        ),
        f"Streaming against in memory, on the same {count(memory['rows'])} rows; "
        f"{count(large['rows'])} rows against the peers",
        (name_large, *peer_names, name_memory, name_parts),
        max_rounds=STREAMING_ROUNDS,
    )


SEGMENTS_TIME = 1.5  # check --by a column of 1,000 values, as a multiple of check
SEGMENTS_MEMORY = 1.3
BY_FILE_TIME = 1.2  # check --by file of the 100 M data set, as a multiple of check


def by_command(path: str, by: str, name: str, rows: int | None = None) -> Command:
    return Command(
        name,
        (lossdoctor_exe(), "check", path, "--by", by, "--format", "json"),
        f"lossdoctor check {path} --by {by} --format json",
        ok_codes=(0, 1),
        rows=rows,
    )


def segments_case(data: dict[str, dict]) -> Case:
    """check --by a column of 1,000 values against check, on the 10 M binary rows."""
    path = data["binary_segments"]["path"]
    targets = (
        Target(
            "check --by store time / check time",
            paired("--by store", "check"),
            f"<= {SEGMENTS_TIME:g}x",
            lambda v: v <= SEGMENTS_TIME,
        ),
        Target(
            "peak RSS: check --by store / check",
            memory("--by store", "check"),
            f"<= {SEGMENTS_MEMORY:g}x",
            lambda v: v <= SEGMENTS_MEMORY,
        ),
    )
    return Case(
        f"segments: --by a column of 1,000 values, {count(data['binary_segments']['rows'])} rows",
        (by_command(path, "store", "--by store"), lossdoctor_command(path, "check")),
        targets,
        "s",
        segments_agree_with_check,
        "The whole data's metrics with --by against check's",
        ("--by store", "check"),
    )


def by_file_case(data: dict[str, dict]) -> Case:
    """check --by file of the 100 M data set streamed, against check of it."""
    large = data["binary_large"]
    target = Target(
        "check --by file time / check time",
        paired("--by file", "check"),
        f"<= {BY_FILE_TIME:g}x",
        lambda v: v <= BY_FILE_TIME,
    )
    return Case(
        f"segments: --by file, {count(large['rows'])} rows in {large['files']} files",
        (
            by_command(large["path"], "file", "--by file"),
            lossdoctor_command(large["path"], "check"),
        ),
        (target,),
        "s",
        segments_agree_with_check,
        "The whole data's metrics with --by against check's",
        ("--by file", "check"),
        max_rounds=STREAMING_ROUNDS,
    )


def segments_agree_with_check(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
    """Segmenting changes none of the whole data's metrics, and the segments' rows add up."""
    try:
        by_name = next(name for name in outputs if name.startswith("--by"))
        by, checked = (json.loads(outputs[name].read_text()) for name in (by_name, "check"))
    except (OSError, ValueError, StopIteration) as error:
        return f"could not read the outputs: {error!r}", False
    rows = sum(segment["rows"] for segment in by.get("segments", []))
    same = by["metrics"] == checked["metrics"] and rows == checked["input"]["rows_used"]
    said = f"metrics equal, {len(by.get('segments', []))} segments of {rows:,} rows"
    return (said if same else f"differ: {by['metrics']} against {checked['metrics']}"), same


def both(first: Agreement, second: Agreement) -> Agreement:
    """Two agreements read from the same outputs: their lines one after the other."""

    def agreement(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
        (text_a, ok_a), (text_b, ok_b) = first(outputs, scratch), second(outputs, scratch)
        return f"{text_a}\n\n{text_b}", ok_a and ok_b

    return agreement


def against_peers_numbers(ours: str, peers: Sequence[str]) -> Agreement:
    """Whether polars and DuckDB compute lossdoctor's ROC-AUC, log loss and accuracy (within
    RTOL, or the streamed report's stated bound)."""

    def agreement(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
        if not peers:
            return "peers: not run (pip install -e '.[bench]' installs polars and DuckDB)", True
        try:
            report = json.loads(outputs[ours].read_text())
            theirs = {peer: json.loads(outputs[peer].read_text())["metrics"] for peer in peers}
        except (OSError, ValueError, KeyError) as error:
            return f"peers: could not read the outputs: {error}", False
        bounds = report.get("metrics_error_bound") or {}
        diffs = []
        for peer, numbers in theirs.items():
            for metric, value in numbers.items():
                mine = report["metrics"].get(metric)
                allowed = max(bounds.get(metric, 0.0), RTOL * abs(value))
                if not (number(mine) and abs(mine - value) <= allowed):
                    diffs.append(f"{metric}: lossdoctor {mine!r}, {peer} {value!r}")
        if diffs:
            return "peers: differences:\n" + "\n".join(f"- {d}" for d in diffs), False
        names = ", ".join(next(iter(theirs.values())))
        return (
            f"peers: {' and '.join(peers)} agree with lossdoctor on {names} (within {RTOL:g} "
            "relative or the stated bound)",
            True,
        )

    return agreement


COMPARE_TIME = 2.5  # compare of two files, as a multiple of check on one
COMPARE_MEMORY = 1.5
PROC_SPEED_UP = 3.0  # pROC's roc.test alone (reading excluded) / compare end to end


def compare_command(baseline: str, candidate: str, name: str = "compare") -> Command:
    return Command(
        name,
        (lossdoctor_exe(), "compare", baseline, candidate, "--format", "json"),
        f"lossdoctor compare {baseline} {candidate} --format json",
        ok_codes=(0, 1),
    )


def compare_case(data: dict[str, dict]) -> Case:
    """compare of the 10 M binary file and its candidate, against check of the first alone."""
    baseline, candidate = data["binary"]["path"], data["binary_candidate"]["path"]
    targets = (
        Target(
            "compare time / check time",
            paired("compare", "check"),
            f"<= {COMPARE_TIME:g}x",
            lambda v: v <= COMPARE_TIME,
        ),
        Target(
            "peak RSS: compare / check",
            memory("compare", "check"),
            f"<= {COMPARE_MEMORY:g}x",
            lambda v: v <= COMPARE_MEMORY,
        ),
    )
    return Case(
        f"compare: two {count(data['binary']['rows'])}-row binary files",
        (compare_command(baseline, candidate), lossdoctor_command(baseline, "check")),
        targets,
        "s",
        compare_agrees_with_check,
        "The comparison's baseline report against check's",
        ("compare", "check"),
    )


def compare_agrees_with_check(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
    """The baseline's metrics in the comparison are check's, to the last bit."""
    try:
        compared = json.loads(outputs["compare"].read_text())["baseline"]["metrics"]
        checked = json.loads(outputs["check"].read_text())["metrics"]
    except (OSError, ValueError, KeyError) as error:
        return f"could not read the outputs: {error}", False
    same = compared == checked
    return ("equal" if same else f"differ: {compared} against {checked}"), same


def proc_case(data: dict[str, dict]) -> Case | None:
    """compare on 1 M paired rows against R's pROC roc.test: roc() of both models and
    roc.test() timed on R's own clock (reading the CSV excluded), against compare's whole
    process, round by round; None without Rscript."""
    import shutil

    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    paired_dir = data["paired"]["path"]
    csv = f"{paired_dir}/paired.csv"
    proc = Command(
        "pROC",
        (rscript, "benchmarks/proc_roc_test.R", csv),
        f"Rscript benchmarks/proc_roc_test.R {csv}",
        keeps_stdout=True,
    )
    ours = compare_command(f"{paired_dir}/baseline.parquet", f"{paired_dir}/candidate.parquet")
    target = Target(
        "speed-up: roc.test's own time (R's clock, reading excluded) / compare's whole process",
        roc_test_speed_up,
        f">= {PROC_SPEED_UP:g}x",
        lambda v: v >= PROC_SPEED_UP,
    )
    cpu = Target(
        "roc.test's own CPU time / compare's whole process's (user + system)",
        roc_test_cpu_ratio,
        "—",
        None,
    )
    return Case(
        f"compare against pROC: {count(data['paired']['rows'])} paired binary rows",
        (ours, proc),
        (target, cpu),
        "s",
        against_proc,
        "compare's ROC-AUC test against pROC's roc.test",
        ("compare", "pROC"),
    )


def roc_test_seconds(run: Run) -> float:
    """The seconds proc_roc_test.R measured around roc() and roc.test() in one run."""
    return float(json.loads(run.stdout)["seconds"])


def roc_test_speed_up(timings: dict[str, Timings]) -> tuple[float, float, float]:
    """Median (and range) of the per-round ratios: R's time of roc() + roc.test() over the
    wall time of compare's whole process in the same round."""
    theirs = [roc_test_seconds(run) for run in timings["pROC"].runs]
    ratios = [t / w for t, w in zip(theirs, timings["compare"].walls, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def roc_test_cpu_ratio(timings: dict[str, Timings]) -> tuple[float, float, float]:
    """The same per round in CPU seconds: what a busy machine inflates less."""
    theirs = [float(json.loads(run.stdout)["cpu_seconds"]) for run in timings["pROC"].runs]
    ratios = [t / c for t, c in zip(theirs, timings["compare"].cpus, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def against_proc(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
    """The same difference, p-value and interval as roc.test's (the warm-up's outputs)."""
    try:
        ours = json.loads(outputs["compare"].read_text())["comparison"]["roc_auc"]
        theirs = json.loads(outputs["pROC"].read_text())
    except (OSError, ValueError, KeyError) as error:
        return f"could not read the outputs: {error}", False
    pairs = [
        (ours["difference"], theirs["difference"]),
        (ours["p_value"], theirs["p_value"]),
        *zip(ours["ci"], theirs["ci"], strict=True),
    ]
    same = all(close(a, b) or a == b for a, b in pairs)
    return (
        f"difference {ours['difference']:.9g} (pROC {theirs['difference']:.9g}), p-value "
        f"{ours['p_value']:.6g} (pROC {theirs['p_value']:.6g}), interval {ours['ci']} "
        f"(pROC {theirs['ci']}): {'equal' if same else 'DIFFERENT'} within {RTOL:g} relative",
        same,
    )


def count(rows: int) -> str:
    """10_000_000 -> "10 M", 200_000 -> "200 k"."""
    for size, suffix in ((10**6, "M"), (10**3, "k")):
        if rows >= size and rows % size == 0:
            return f"{rows // size} {suffix}"
    return f"{rows:,}"


# ---- agreement with scikit-learn --------------------------------------------------------------


def close(a: object, b: object) -> bool:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


def compare(ours: dict, theirs: dict) -> tuple[list[str], int, bool]:
    """Differences (as lines), the count of numbers compared, and whether the required agree."""
    metrics = ours.get("metrics", {})
    diffs, compared, required_ok = [], 0, True
    for key in (*REQUIRED_METRICS, *OTHER_METRICS):
        if key not in theirs:
            continue
        compared += 1
        if not close(metrics.get(key), theirs[key]):
            required_ok &= key not in REQUIRED_METRICS
            diffs.append(f"{key}: lossdoctor {metrics.get(key)!r}, scikit-learn {theirs[key]!r}")
    ours_cm = ours.get("confusion_matrix", {}).get("matrix")
    if ours_cm != theirs.get("confusion_matrix"):
        diffs.append(
            f"confusion matrix: lossdoctor {ours_cm}, scikit-learn {theirs.get('confusion_matrix')}"
        )
    ours_rows = {row["threshold"]: row for row in ours.get("thresholds", []) if not row["best_f1"]}
    for row in theirs.get("thresholds", []):
        if row.get("best_f1"):
            best = [r for r in ours.get("thresholds", []) if r["best_f1"]]
            compared += 1
            if not best or not close(best[0]["f1"], row["f1"]):
                diffs.append(
                    f"best F1: lossdoctor {best[0]['f1'] if best else None!r}, "
                    f"scikit-learn {row['f1']!r}"
                )
            continue
        mine = ours_rows.get(row["threshold"], {})
        for name in THRESHOLD_FIELDS:
            compared += 1
            if not close(mine.get(name), row[name]):
                diffs.append(
                    f"{name} at t={row['threshold']}: lossdoctor {mine.get(name)!r}, "
                    f"scikit-learn {row[name]!r}"
                )
    return diffs, compared, required_ok


def against_sklearn(reference: Command) -> Agreement:
    """Whether lossdoctor's numbers are those of the scikit-learn script on the same file."""

    def agreement(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
        path = outputs.get(reference.name)
        if path is None:  # not one of the timed commands: run it once, untimed
            path = scratch / "reference.out"
            run = run_once(reference, path)
            if run.code != 0:
                return f"not compared: the scikit-learn script failed (exit code {run.code})", False
        try:
            ours = json.loads(outputs["lossdoctor"].read_text())
            theirs = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            return f"not compared: unreadable output ({error})", False
        diffs, compared, required_ok = compare(ours, theirs)
        if not diffs:
            return (
                f"agree: {compared} numbers ({', '.join(REQUIRED_METRICS)}, the other metrics"
                f"{' and the threshold table' if 'thresholds' in theirs else ''}) within "
                f"{RTOL:g} relative, confusion matrix identical",
                True,
            )
        return "differences:\n" + "\n".join(f"- {d}" for d in diffs), required_ok

    return agreement


# ---- agreement of streaming with reading into memory ------------------------------------------


@dataclass
class Walk:
    """Two JSON trees compared leaf by leaf: numbers within a tolerance, the rest equal."""

    bounds: dict[str, float]  # the streaming report's metrics_error_bound, by metric name
    compared: int = 0
    diffs: list[str] = field(default_factory=list)
    largest: tuple[float, str] = (0.0, "")  # the largest difference of two floats, and where

    def __call__(self, where: str, memory: object, streamed: object) -> None:
        if isinstance(memory, dict) and isinstance(streamed, dict):
            for key in sorted(memory.keys() | streamed.keys()):
                self(f"{where}.{key}", memory.get(key, "(absent)"), streamed.get(key, "(absent)"))
        elif (
            isinstance(memory, list) and isinstance(streamed, list) and len(memory) == len(streamed)
        ):
            for i, (a, b) in enumerate(zip(memory, streamed, strict=True)):
                self(f"{where}[{i}]", a, b)
        elif number(memory) and number(streamed):
            self.compared += 1
            difference = abs(memory - streamed)
            if difference > self.largest[0] and float in (type(memory), type(streamed)):
                self.largest = (difference, where)
            metric = where.rsplit(".", 1)[-1]
            allowed = max(
                self.bounds.get(metric, 0.0), STREAM_RTOL * max(abs(memory), abs(streamed))
            )
            if not difference <= allowed:
                bound = self.bounds.get(metric)
                stated = "" if bound is None else f", stated bound {bound:.3g}"
                self.diffs.append(
                    f"{where}: in memory {memory!r}, streamed {streamed!r} "
                    f"(difference {difference:.3g}{stated})"
                )
        else:
            self.compared += 1
            if memory != streamed:
                self.diffs.append(f"{where}: in memory {short(memory)}, streamed {short(streamed)}")


def number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_streamed(memory: dict, streamed: dict) -> tuple[list[str], list[str], str]:
    """Differences in the metrics, differences elsewhere, and a line of what was compared."""
    bounds = streamed.get("metrics_error_bound") or {}
    metrics = Walk(bounds)
    metrics("rows", memory.get("input", {}).get("rows"), streamed.get("input", {}).get("rows"))
    for key in ("metrics", "undefined_metrics", "per_class", "confusion_matrix"):
        metrics(key, memory.get(key), streamed.get(key))
    others = Walk(bounds)
    for key in OTHER_SECTIONS:
        others(key, memory.get(key), streamed.get(key))

    def findings(report: dict) -> list[str]:
        return sorted(f"{f.get('check')} ({f.get('severity')})" for f in report.get("findings", []))

    others("findings", findings(memory), findings(streamed))
    if bounds:
        metric, bound = max(bounds.items(), key=lambda item: item[1])
        stated = f"largest stated bound {bound:.3g} ({metric})"
    else:
        stated = "no bound stated (exact)"
    difference, where = metrics.largest
    largest = f"largest difference {difference:.3g}" + (f" ({where})" if where else "")
    summary = (
        f"{metrics.compared} numbers (metrics, per class, confusion matrix) compared, to "
        f"{STREAM_RTOL:g} relative or the stated bound; {stated}; {largest}"
    )
    return metrics.diffs, others.diffs, summary


def against_memory(streamed: str, memory: str, large: str, large_rows: int) -> Agreement:
    """Whether streaming a directory gives the numbers of reading the same rows into memory."""

    def agreement(outputs: dict[str, Path], scratch: Path) -> tuple[str, bool]:
        try:
            reports = {
                name: json.loads(outputs[name].read_text()) for name in (streamed, memory, large)
            }
        except (OSError, ValueError) as error:
            return f"not compared: unreadable output ({error})", False
        diffs, other_diffs, summary = compare_streamed(reports[memory], reports[streamed])
        read = reports[large].get("input", {}).get("rows")
        large_bounds = reports[large].get("metrics_error_bound") or {}
        large_line = f"{large}: " + (
            f"{read:,} rows read of {large_rows:,}" if number(read) else "rows read not reported"
        )
        large_line += "; stated bounds: " + (
            ", ".join(f"{k} {v:.3g}" for k, v in sorted(large_bounds.items())) or "none (exact)"
        )
        ok = not diffs and read == large_rows
        lines = [("agree: " if not diffs else "differ: ") + summary]
        lines += [f"- {d}" for d in diffs]
        if other_diffs:
            lines.append(
                f"- outside the metrics ({', '.join(OTHER_SECTIONS)}, findings), "
                f"{len(other_diffs)} differences, not part of the target:"
            )
            lines += [f"  - {d}" for d in other_diffs[:10]]
            if len(other_diffs) > 10:
                lines.append(f"  - ... and {len(other_diffs) - 10} more")
        else:
            lines.append(f"- {', '.join(OTHER_SECTIONS)} and the findings: identical too")
        lines.append(f"- {large_line}")
        return "\n".join(lines), ok

    return agreement


# ---- other load on the machine ----------------------------------------------------------------


@dataclass(frozen=True)
class Busy:
    """CPU seconds the whole machine and this process tree had spent, at one instant."""

    wall: float
    machine: float | None  # all CPUs' non-idle time, from /proc/stat; None elsewhere
    ours: float  # this process and its waited-for children

    @classmethod
    def now(cls) -> Busy:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = mine.ru_utime + mine.ru_stime + kids.ru_utime + kids.ru_stime
        machine = None
        try:
            with open("/proc/stat") as stat:
                ticks = [int(v) for v in stat.readline().split()[1:]]
            idle = ticks[3] + ticks[4]  # idle, iowait
            machine = (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        return cls(time.perf_counter(), machine, ours)


def other_load(before: Busy, after: Busy) -> float | None:
    """Cores used on average by other processes between two instants (None if unknown)."""
    if before.machine is None or after.machine is None or after.wall <= before.wall:
        return None
    others = (after.machine - before.machine) - (after.ours - before.ours)
    return max(others, 0.0) / (after.wall - before.wall)


def load_note(load: float | None) -> str:
    cores = len(os.sched_getaffinity(0))
    if load is None:
        return "Other processes' load: unknown (no /proc/stat)."
    note = f"Other processes used {load:.2f} of the {cores} cores on average during this case"
    if load >= BUSY:
        return note + ": the machine was busy, wall times are inflated (CPU times less so)."
    return note + "."


# ---- report -----------------------------------------------------------------------------------


def fmt_time(seconds: float, unit: str) -> str:
    return f"{seconds * 1000:.0f} ms" if unit == "ms" else f"{seconds:.2f} s"


def fmt_rate(rows_per_second: float) -> str:
    return f"{rows_per_second / 1e6:.2f} M"


def fmt_span(values: Sequence[float], unit: str) -> str:
    scale, digits = (1000, 0) if unit == "ms" else (1, 2)
    return f"{min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]) -> str:
    """A Markdown table, padded so it also reads as plain text."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i in right else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(cells[0]), line(rule), *[line(r) for r in cells[1:]]])


def target_rows(case: Case, timings: dict[str, Timings]) -> list[list[str]]:
    """One row per ratio: what, the measured median (and range), the target, met or not."""
    rows = []
    for target in case.targets:
        try:
            median, low, high = target.value(timings)
        except (KeyError, ValueError, ZeroDivisionError, statistics.StatisticsError):
            rows.append([target.text, "n/a", target.goal, "not measured"])
            continue
        d = target.digits
        shown = f"{median:.{d}f}{target.suffix}"
        if round(high, d) > round(low, d):
            shown += f" ({low:.{d}f}–{high:.{d}f})"
        status = "—" if target.met is None else ("met" if target.met(median) else "not met")
        rows.append([target.text, shown, target.goal, status])
    return rows


def case_report(
    case: Case, timings: dict[str, Timings], agree_text: str, load: float | None
) -> tuple[str, bool]:
    """The Markdown section of one case, and whether every command ran."""
    unit = case.unit
    per_second = any(command.rows for command in case.commands)
    rows, failures = [], []
    for command in case.commands:
        timing = timings[command.name]
        if timing.failure:
            failures.append(f"`{command.shown}` failed: {timing.failure}")
            rows.append([command.name, f"`{command.shown}`", "failed", "", "", "", ""])
            continue
        wall = statistics.median(timing.walls)
        rows.append(
            [
                command.name,
                f"`{command.shown}`",
                fmt_time(wall, unit),
                fmt_span(timing.walls, unit),
                fmt_rate(command.rows / wall) if command.rows else "",
                fmt_time(statistics.median(timing.cpus), unit),
                f"{timing.rss_mib:.0f} MiB",
            ]
        )
    header = [
        "",
        "command",
        "median wall",
        f"min–max ({unit})",
        "rows/s",
        "median CPU",
        "peak RSS (median)",
    ]
    if not per_second:
        header.pop(4)
        for row in rows:
            row.pop(4)
    right = tuple(range(2, len(header)))
    parts = [f"## {case.title}", "", table(header, rows, right=right), ""]
    if per_second:
        parts += ["rows/s: the rows read over the median wall time, start-up included.", ""]
    if case.max_rounds is not None:
        parts += [f"At most {case.max_rounds} timed rounds in this case.", ""]
    if failures:
        parts += [*failures, ""]
    measures = table(["measure", "measured", "target", ""], target_rows(case, timings), right=(1,))
    parts += [measures, ""]
    parts += [f"{case.agreement_title}: {agree_text}", "", load_note(load), ""]
    return "\n".join(parts), not failures


def environment() -> dict[str, str]:
    """Versions of what is measured, read in a child so this process stays small."""
    code = (
        "import json, sys, numpy, pyarrow, sklearn, pandas, lossdoctor\n"
        "print(json.dumps({'Python': sys.version.split()[0], 'numpy': numpy.__version__,"
        " 'pyarrow': pyarrow.__version__, 'scikit-learn': sklearn.__version__,"
        " 'pandas': pandas.__version__, 'lossdoctor': lossdoctor.__version__}))"
    )
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=ROOT)
    versions = json.loads(done.stdout) if done.returncode == 0 else {"versions": "unavailable"}
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    if "lossdoctor" in versions:
        versions["lossdoctor"] += source_state()
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": cpu,
        "memory": f"{memory_gib:.0f} GiB",
        "OS": platform.platform(),
        **versions,
    }


def source_state() -> str:
    """The commit measured, and whether lossdoctor/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lossdoctor"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    except OSError:
        return ""
    if head.returncode != 0:
        return ""
    changes = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f" (commit {head.stdout.strip()}{changes})"


def bytecode_note() -> list[str]:
    """PYTHONDONTWRITEBYTECODE leaves changed sources (an editable install) compiled per run."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return []
    return [
        "- note: PYTHONDONTWRITEBYTECODE was set, so Python source files without up-to-date "
        "bytecode (e.g. lossdoctor's, when edited since it was installed) were compiled on "
        "every start: this adds to the start-up times."
    ]


def document(
    summary: str, sections: list[str], env: dict[str, str], rounds: int, quick: bool
) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = ", ".join(f"{k} {v}" for k, v in env.items() if k in ("nproc", "CPU", "memory"))
    software = ", ".join(f"{k} {v}" for k, v in env.items() if k not in ("nproc", "CPU", "memory"))
    command = "make bench" + ("  (--quick: small files, a smoke test)" if quick else "")
    return "\n".join(
        [
            "# lossdoctor benchmark results",
            "",
            f"- date: {now}",
            f"- machine: {machine}",
            f"- software: {software}",
            f"- command: `{command}`",
            f"- method: each command a separate process; one warm-up round, then {rounds} "
            f"timed rounds (the streaming case: at most {STREAMING_ROUNDS}), the commands "
            "interleaved within each round. Wall time from spawn to "
            "exit; peak RSS is the child's ru_maxrss. Ratios of times are the median of the "
            "per-round ratios (range in brackets), and so are ratios of rows per second; "
            "the memory ratio is of the median peak RSS. "
            "CPU is the child's user + system time (pyarrow reads with several threads). "
            "The load of other processes comes from /proc/stat minus this run's own CPU time.",
            "- floor: pyarrow.parquet.read_table of the needed columns, to numpy, one np.argsort "
            "of the scores (multi-class: of the flattened N×K matrix, as many values as K "
            "one-vs-rest sorts).",
            *bytecode_note(),
            "",
            "## Targets",
            "",
            summary,
            "",
            *sections,
        ]
    )


# ---- main -------------------------------------------------------------------------------------


def generate(quick: bool, scratch: Path) -> dict[str, dict]:
    """Write (or find cached) the data, in a child: numpy and pyarrow stay out of here.

    Each data set's path (from the repository root) and rows, by kind: binary, binary_parts,
    binary_large, multiclass, small.
    """
    print("data:", flush=True)
    manifest = scratch / "data.json"
    argv = [PYTHON, str(BENCH / "generate.py"), "--manifest", str(manifest)]
    subprocess.run([*argv, *(["--quick"] if quick else [])], check=True, cwd=ROOT)
    return json.loads(manifest.read_text())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lossdoctor against scikit-learn and the floor")
    parser.add_argument(
        "--runs",
        type=int,
        help=f"timed rounds per case (default 5; --quick 2; streaming at most {STREAMING_ROUNDS})",
    )
    parser.add_argument("--quick", action="store_true", help="small files: a smoke test")
    args = parser.parse_args(argv)
    rounds = args.runs if args.runs is not None else (2 if args.quick else 5)
    if rounds < 1:
        parser.error("--runs must be at least 1")

    env = environment()
    sections, summary_rows, all_ran, all_agree = [], [], True, True
    every_timing = []
    with tempfile.TemporaryDirectory(prefix="lossdoctor-bench-") as scratch:
        data = generate(args.quick, Path(scratch))
        cases = [
            data_case(
                f"{count(data['binary']['rows'])} binary rows (Parquet)",
                data["binary"]["path"],
                (speed_up(8), versus_floor(1.2), LESS_MEMORY),
            ),
            data_case(
                f"{count(data['multiclass']['rows'])} rows × 10 classes (Parquet)",
                data["multiclass"]["path"],
                (speed_up(5), versus_floor(None), LESS_MEMORY),
            ),
            html_case(data["binary"]["path"]),
            startup_case(data["small"]["path"]),
            streaming_case(data),
            compare_case(data),
            segments_case(data),
            by_file_case(data),
        ]
        with_r = proc_case(data)
        if with_r is not None:
            cases.append(with_r)
        for number, case in enumerate(cases):
            print(f"\n{case.title}:", flush=True)
            case_dir = Path(scratch) / str(number)
            case_dir.mkdir()
            before = Busy.now()
            case_rounds = min(rounds, case.max_rounds or rounds)
            timings, outputs = measure(case, case_rounds, case_dir)
            load = other_load(before, Busy.now())
            every_timing.append(timings)
            failed = [name for name in case.compared if timings[name].failure]
            if failed:
                agree_text, agrees = f"not compared: {', '.join(failed)} failed", False
            else:
                agree_text, agrees = case.agreement(outputs, case_dir)
            section, ran = case_report(case, timings, agree_text, load)
            sections.append(section)
            summary_rows += [[case.title, *row] for row in target_rows(case, timings)]
            all_ran &= ran
            all_agree &= agrees
            print("\n" + section, flush=True)

    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    smallest = min(
        (t.rss_mib for ts in every_timing for t in ts.values() if t.runs), default=math.inf
    )
    if own_peak >= smallest:  # a child's ru_maxrss counts the parent's high-water mark
        print(f"warning: this harness peaked at {own_peak:.0f} MiB, above a child's peak RSS")
    summary = table(["case", "measure", "measured", "target", ""], summary_rows, right=(2,))
    print("\nTargets:\n" + summary)
    text = document(summary, sections, env, rounds, args.quick)
    if args.quick:
        print("--quick: benchmarks/RESULTS.md left as it was")
    else:
        RESULTS.write_text(text + "\n")
        print(f"written: {RESULTS.relative_to(ROOT)}")
    if not all_ran:
        print("some commands failed: see above", file=sys.stderr)
    if not all_agree:
        print(
            "numbers disagree (with scikit-learn, or streamed with in memory): see above",
            file=sys.stderr,
        )
    return 0 if all_ran and all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
