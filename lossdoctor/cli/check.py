"""lossdoctor check: diagnose each PATH and exit with the worst verdict."""

from __future__ import annotations

import os
import sys

import click

from lossdoctor.checks import BY_ID
from lossdoctor.cli.display import COLOR_CHOICES, github, progress_bar, show, status
from lossdoctor.cli.exits import DEBUG_HELP, EXIT_USAGE, reader_may_leave
from lossdoctor.cli.options import bootstrap_options
from lossdoctor.cli.segments import segment_options
from lossdoctor.config import parse_classes, project_config, timeout_of
from lossdoctor.errors import InputError, NotPredictions
from lossdoctor.gates import Gate, parse_gate
from lossdoctor.io.segments import SEGMENT_CHECKS
from lossdoctor.render import Format
from lossdoctor.render.escape import visible
from lossdoctor.report import FailedInput, Report
from lossdoctor.settings import DEFAULTS, ENGINES, FAIL_ON, Settings


class GateType(click.ParamType):
    """--gate 'roc_auc >= 0.9' (with `relative_ok`, also 'roc_auc >= baseline - 0.005'): read
    by gates.parse_gate's regex; a bad one is a usage error."""

    name = "gate"

    def __init__(self, relative_ok: bool = False) -> None:
        self.relative_ok = relative_ok

    def convert(self, value, param, ctx):
        if isinstance(value, Gate):
            return value
        try:
            return parse_gate(value, relative_ok=self.relative_ok)
        except InputError as error:
            self.fail(str(error), param, ctx)


_CHECK_ID = click.Choice([*BY_ID, *SEGMENT_CHECKS])
SCHEDULER_OPTION = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (tcp://host:8786); default a local cluster.",
)
TIMEOUT_OPTION = click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="With --engine dask: give up after this long without a worker "
    f"[default: {DEFAULTS.timeout:g}].",
)


def dask_options(engine: str, scheduler: str | None, timeout: float | None) -> float | None:
    """--scheduler only with --engine dask, and --timeout a number of seconds; usage errors."""
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    if timeout is None:
        return None
    try:
        return timeout_of(timeout, "--timeout")
    except InputError as error:
        raise click.UsageError(str(error)) from None


@click.command("check")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True)
@click.option(
    "--labels", "labels_path", metavar="FILE", help="Labels in their own file (.npy, CSV, Parquet)."
)
@click.option("--label-col", multiple=True, metavar="NAME", help="Label column(s); globs allowed.")
@click.option(
    "--pred-col",
    multiple=True,
    metavar="NAME",
    help="Prediction column(s); globs allowed, e.g. 'p_*'.",
)
@click.option(
    "--weight-col",
    metavar="NAME",
    help="Sample weights' column (default: one named sample_weight, weight or weights).",
)
@click.option(
    "--task",
    type=click.Choice(["binary", "multiclass", "multilabel"]),
    help="Override the inferred task.",
)
@click.option(
    "--from-logits/--from-probabilities",
    "from_logits",
    default=None,
    help="Say what the scores are instead of inferring it.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help=f"Binary decision threshold (p >= t is positive); default {DEFAULTS.threshold}.",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    metavar="LEVEL",
    help=f"Level of the metrics' confidence intervals (metrics_ci); default {DEFAULTS.confidence}.",
)
@bootstrap_options
@click.option("--positive-label", metavar="LABEL", help="The positive class, for string labels.")
@click.option(
    "--classes",
    metavar="A,B,C",
    help="The classes in the order of the prediction columns (as scikit-learn's labels=); "
    "default: integer labels are column indices, a categorical column's categories keep "
    "their order, text is sorted.",
)
@click.option(
    "--loss", metavar="NAME", help="The loss the model was trained with, e.g. binary_crossentropy."
)
@click.option(
    "--reported-accuracy", type=float, metavar="X", help="The accuracy your framework printed."
)
@click.option(
    "--reported-loss",
    type=float,
    metavar="X",
    help="The loss your framework printed; lossdoctor finds the computation that gives it.",
)
@click.option(
    "--input-format",
    type=click.Choice(["parquet", "csv", "npy", "npz", "feather", "arrow", "jsonl"]),
    help="Format of PATH when its extension does not say (or PATH is -).",
)
@click.option(
    "--engine",
    type=click.Choice(list(ENGINES)),
    default=DEFAULTS.engine,
    show_default=True,
    help="Where a dataset's batches are summarised: this machine, or a Dask cluster "
    "(pip install 'lossdoctor[dask]').",
)
@SCHEDULER_OPTION
@TIMEOUT_OPTION
@click.option(
    "--partitioning",
    type=click.Choice(["hive"]),
    help="Read key=value directory names of a dataset as columns (ignored by default).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice([f.value for f in Format]),
    default=Format.TERMINAL.value,
    show_default=True,
    help="Report format, on stdout (or in --output FILE).",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the --format report to FILE; stdout still gets the terminal report.",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    help=f"Lowest severity that makes the exit code 1; default {DEFAULTS.fail_on}.",
)
@click.option(
    "--gate",
    "gates",
    multiple=True,
    type=GateType(),
    metavar="'METRIC OP X'",
    help="Fail unless a metric holds, e.g. 'roc_auc >= 0.9' (>= > <= < ==); repeatable.",
)
@segment_options(GateType())
@click.option(
    "--select",
    multiple=True,
    type=_CHECK_ID,
    metavar="CHECK_ID",
    help="Run only this check (repeatable); see lossdoctor checks.",
)
@click.option(
    "--disable",
    multiple=True,
    type=_CHECK_ID,
    metavar="CHECK_ID",
    help="Do not run this check (repeatable).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="Settings from FILE instead of the pyproject.toml or lossdoctor.toml found upwards.",
)
@click.option("--no-config", is_flag=True, help="Ignore pyproject.toml and lossdoctor.toml.")
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only the findings: 'path: severity check-id: title'."
)
@click.option(
    "--skip-non-predictions",
    is_flag=True,
    help="Pass over a table with no label or prediction column (with a note on stderr) "
    "instead of failing: for pre-commit and globs over mixed files.",
)
@click.option(
    "--github",
    "github_annotations",
    is_flag=True,
    help="Print findings as GitHub Actions annotations; append Markdown to "
    "$GITHUB_STEP_SUMMARY when it is set.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Add the metrics' intervals, per-class tables and each finding's evidence, why and fixes.",
)
@click.option(
    "--ascii",
    "ascii_only",
    is_flag=True,
    help="Draw with ASCII only (also when TERM=dumb).",
)
@click.option(
    "--color",
    type=click.Choice(list(COLOR_CHOICES)),
    default="auto",
    show_default=True,
    help="Colour the terminal report: auto colours a terminal unless NO_COLOR is set "
    "(FORCE_COLOR colours a pipe too).",
)
@click.option("--debug", is_flag=True, expose_value=False, help=DEBUG_HELP)
def check_command(
    paths: tuple[str, ...],
    labels_path: str | None,
    label_col: tuple[str, ...],
    pred_col: tuple[str, ...],
    weight_col: str | None,
    task: str | None,
    from_logits: bool | None,
    threshold: float | None,
    confidence: float | None,
    bootstrap: int | None,
    seed: int | None,
    positive_label: str | None,
    classes: str | None,
    loss: str | None,
    reported_accuracy: float | None,
    reported_loss: float | None,
    input_format: str | None,
    engine: str,
    scheduler: str | None,
    timeout: float | None,
    partitioning: str | None,
    output_format: str,
    output: str | None,
    fail_on: str | None,
    gates: tuple[Gate, ...],
    by: tuple[str, ...],
    top: int | None,
    min_segment_rows: int | None,
    segment_gates: tuple[Gate, ...],
    select: tuple[str, ...],
    disable: tuple[str, ...],
    config_path: str | None,
    no_config: bool,
    quiet: bool,
    skip_non_predictions: bool,
    github_annotations: bool,
    verbose: bool,
    ascii_only: bool,
    color: str,
) -> None:
    """Diagnose the predictions in each PATH (Parquet, CSV, NPY/NPZ, Feather, JSON Lines; - for
    stdin).

    A directory or a quoted glob ('preds/*.parquet') of Parquet or Feather files is one
    dataset, streamed in batches in bounded memory.

    Settings come from the command line, then [tool.lossdoctor] in pyproject.toml or
    lossdoctor.toml (the first found from the current directory upwards), then the defaults.
    The exit code is the worst of the files': 2 if one could not be read.
    """
    fmt = Format(output_format)
    _check_usage(paths, fmt, output, quiet, github_annotations, config_path, no_config)
    timeout = dask_options(engine, scheduler, timeout)
    said = {
        "task": task,
        "from_logits": from_logits,
        "threshold": threshold,
        "confidence": confidence,
        "bootstrap": bootstrap,
        "seed": seed,
        "loss": loss,
        "reported_accuracy": reported_accuracy,
        "reported_loss": reported_loss,
        "positive_label": positive_label,
        "classes": parse_classes(classes, "--classes") if classes is not None else None,
        "fail_on": fail_on,
        "gates": gates or None,
        "by": by or None,
        "top": top,
        "min_segment_rows": min_segment_rows,
        "segment_gates": segment_gates or None,
        "select": select or None,
        "disable": disable or None,
        "label_col": label_col or None,
        "pred_col": pred_col or None,
        "weight_col": weight_col or None,
        "labels_path": labels_path,
        "input_format": input_format,
        "skip_non_predictions": skip_non_predictions,
        "engine": engine,
        "scheduler": scheduler,
        "partitioning": partitioning,
        "timeout": timeout,
    }
    settings = Settings.layered(said, project_config(config_path, use=not no_config))
    ascii_only = ascii_only or os.environ.get("TERM", "").lower() == "dumb"
    diagnosed = [_diagnose(path, settings, ascii_only) for path in paths]
    results = [result for result in diagnosed if result is not None]
    with reader_may_leave():
        show(
            results,
            fmt,
            output=output,
            quiet=quiet,
            verbose=verbose,
            ascii_only=ascii_only,
            color=color,
        )
    if github_annotations:
        with reader_may_leave():
            github(results)
    failed = any(isinstance(result, FailedInput) for result in results)
    sys.exit(EXIT_USAGE if failed else max((result.exit_code for result in results), default=0))


def _check_usage(
    paths: tuple[str, ...],
    fmt: Format,
    output: str | None,
    quiet: bool,
    annotations: bool,
    config_path: str | None,
    no_config: bool,
) -> None:
    """Combinations no single option's type can refuse."""
    if paths.count("-") > 1:
        raise click.UsageError("stdin (-) can be read only once")
    if config_path is not None and no_config:
        raise click.UsageError("--config and --no-config exclude each other")
    stdout_format = Format.TERMINAL if output else fmt
    if quiet and stdout_format is not Format.TERMINAL:
        raise click.UsageError(
            f"--quiet prints only findings; write --format {fmt.value} to a file with --output FILE"
        )
    if annotations and stdout_format in (Format.JSON, Format.HTML):
        raise click.UsageError(
            "--github prints workflow commands on stdout, which would break "
            f"the {fmt.value.upper()}; write it to a file with --output FILE"
        )


def _diagnose(path: str, settings: Settings, ascii_only: bool) -> Report | FailedInput | None:
    """One path's report; a path that cannot be read is said on stderr, and the run goes on
    (None: a file that is not predictions, passed over under --skip-non-predictions)."""
    from lossdoctor.engines import open_engine, streams
    from lossdoctor.pipeline import diagnose

    try:
        if streams(path, settings):
            with (
                progress_bar(path, ascii_only, settings.engine == "local") as progress,
                open_engine(path, settings, progress, keep_freed_memory=True) as engine,
            ):
                return diagnose(engine, settings)
        name = "stdin" if path == "-" else visible(path)
        with (
            status(f"reading {name}", ascii_only) as spinner,
            open_engine(path, settings, keep_freed_memory=True) as engine,
        ):
            if spinner is not None:
                spinner.update(f"checking {engine.n_rows:,} rows")
            return diagnose(engine, settings)
    except InputError as error:
        if isinstance(error, NotPredictions) and settings.skip_non_predictions:
            note = (
                f"skipped {visible(path)}: not a predictions file (no label or prediction "
                "column); narrow pre-commit's files: (or the glob) to leave it out"
            )
            click.echo("lossdoctor: note: " + note, err=True)
            return None
        message = visible(error)
        click.echo(f"lossdoctor: error: {message}", err=True)
        return FailedInput(path, message)
