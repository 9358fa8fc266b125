"""The command line: parse options, diagnose, render, exit with a code CI can rely on."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from lossdoctor import __version__
from lossdoctor.checks import BY_ID
from lossdoctor.config import DEFAULTS, Config, parse_classes, project_config, timeout_of
from lossdoctor.engines import DASK_TIMEOUT
from lossdoctor.errors import InputError, NotPredictions
from lossdoctor.gates import Gate, parse_gate
from lossdoctor.infer import Options
from lossdoctor.render import Format, quiet_lines, render_error, render_text
from lossdoctor.render.escape import strict_json, visible
from lossdoctor.report import FAIL_ON, SCHEMA_KINDS, FailedInput, Report
from lossdoctor.write import write_text

EXIT_USAGE = 2
EXIT_INTERNAL = 3
_ARGS = "lossdoctor.args"  # ctx.meta: the raw arguments, for errors raised before parsing ends
_DEBUG_HELP = "On an internal error (exit 3), print the traceback."
# --color: the terminal report's rich Console settings. rich reads NO_COLOR and FORCE_COLOR
# itself under auto; always and never win over them.
COLOR_CHOICES = {
    "auto": {},
    "always": {"force_terminal": True, "no_color": False},
    "never": {"color_system": None},
}


class _Failure(click.ClickException):
    """A run that ends without a report: one line on stderr. What the run was asked to write
    says so too: with --format json on stdout, a JSON error object (a tool reading stdout always
    gets JSON); with --output FILE, the error in FILE's format replaces the previous report, so
    that a step posting FILE never posts a stale verdict."""

    def __init__(self, message: str, exit_code: int, args: list[str], kind: str | None = "error"):
        # One line, nothing the terminal or a CI log would obey, even when the message quotes
        # the data (a column name with a newline or an escape sequence in it).
        super().__init__(visible(message))
        self.exit_code = exit_code
        self.raw = _RawOptions.of(args)
        self.kind = kind
        self.traceback = ""  # set under --debug

    def show(self, file=None) -> None:
        fmt, output = self.raw.format, self.raw.output
        if output is not None:
            with contextlib.suppress(InputError):  # the error below is the one to tell
                write_text(output, render_error(self.message, self.exit_code, fmt), "--output")
        elif fmt is Format.JSON:
            click.echo(render_error(self.message, self.exit_code, fmt), nl=False)
        said = f"{self.kind}: {self.message}" if self.kind else self.message
        click.echo(f"{self.traceback}lossdoctor: {said}", err=True)


@dataclass(frozen=True)
class _RawOptions:
    """--format, --output and --debug read from the raw arguments: a run can fail before, or
    because, click parses them."""

    format: Format | None
    output: str | None
    debug: bool

    @classmethod
    def of(cls, args: list[str]) -> _RawOptions:
        args = args[: args.index("--")] if "--" in args else list(args)
        values: dict[str, str] = {}
        for i, arg in enumerate(args):
            name, eq, value = arg.partition("=")
            if name in ("--format", "--output", "-o") and not eq and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith("-o") and not arg.startswith("--") and len(arg) > 2:
                name, value = "-o", arg[2:]
            elif not eq:
                continue
            values[{"-o": "--output"}.get(name, name)] = value
        known = {f.value: f for f in Format}
        return cls(known.get(values.get("--format", "")), values.get("--output"), "--debug" in args)


class _Cli(click.Group):
    """Ends every run with an exit code CI can rely on, and never with a traceback.

    Bad input (InputError) and bad usage become one line and exit 2. Any other exception is a
    bug in lossdoctor: one line asking for a report (the traceback only with --debug), exit 3.
    SIGINT and SIGTERM end the run with one line and 128 + the signal's number.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = list(args)  # shared with the subcommand's context
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage_failure(error, ctx.meta[_ARGS]) from None
        except KeyboardInterrupt as error:
            raise _stopped(error, ctx.meta[_ARGS]) from None
        except BrokenPipeError:  # --help or --version, read by `| head`
            _stdout_closed()
            raise click.exceptions.Exit(0) from None

    def invoke(self, ctx: click.Context):
        args = ctx.meta.get(_ARGS, [])
        try:
            return super().invoke(ctx)
        except (_Failure, click.exceptions.Exit, click.Abort):
            raise  # click's own endings: --help, ^C
        except BrokenPipeError:
            _stdout_closed()  # the reader has what it wanted: the exit code stays the command's
            return None
        except click.UsageError as error:
            raise _usage_failure(error, args, ctx) from None
        except click.ClickException:
            raise
        except InputError as error:
            raise _Failure(str(error), EXIT_USAGE, args) from None
        except KeyboardInterrupt as error:
            raise _stopped(error, args) from None
        except Exception as error:
            raise _internal_failure(error, args) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it ends as an interrupted one does."""

    signal = signal.SIGTERM


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _stopped(error: KeyboardInterrupt, args: list[str]) -> _Failure:
    """Exit 128 + the signal's number, as a shell reports a process killed by it."""
    signum = getattr(error, "signal", signal.SIGINT)
    said = "terminated" if signum == signal.SIGTERM else "interrupted"
    return _Failure(said, 128 + signum, args, kind=None)


def _usage_failure(
    error: click.UsageError, args: list[str], group: click.Context | None = None
) -> _Failure:
    """One line that points at the help of the command that was misused; click's parser leaves
    the error without a context for an option missing its value, hence the group's."""
    if error.ctx is not None:
        command = error.ctx.command_path
    elif group is not None and group.invoked_subcommand:
        command = f"{group.command_path} {group.invoked_subcommand}"
    else:
        command = "lossdoctor"
    message = " ".join(error.format_message().split()).rstrip(".")
    return _Failure(f"{message}; see '{command} --help'", EXIT_USAGE, args)


def _internal_failure(error: Exception, args: list[str]) -> _Failure:
    debug = _RawOptions.of(args).debug
    detail = (str(error).strip().splitlines() or [""])[0]
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    hint = "" if debug else "; rerun with --debug for the traceback"
    message = f"{what} (lossdoctor {__version__}; please report this with the file's shape{hint})"
    failure = _Failure(message, EXIT_INTERNAL, args, kind="internal error")
    if debug:
        failure.traceback = "".join(traceback.format_exception(error))
    return failure


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossdoctor")
@click.option("--debug", is_flag=True, expose_value=False, help=_DEBUG_HELP)
def cli() -> None:
    """A doctor for saved classification predictions.

    Exit codes: 0 no finding at or above --fail-on, 1 findings (failed gates too), 2 bad
    input or usage, 3 internal error (please report it).
    """


class _GateType(click.ParamType):
    """--gate 'roc_auc >= 0.9': read by gates.parse_gate's regex; a bad one is a usage error."""

    name = "gate"

    def convert(self, value, param, ctx):
        if isinstance(value, Gate):
            return value
        try:
            return parse_gate(value)
        except InputError as error:
            self.fail(str(error), param, ctx)


_CHECK_ID = click.Choice(list(BY_ID))


@cli.command()
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
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where a dataset's batches are summarised: this machine, or a Dask cluster "
    "(pip install 'lossdoctor[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (tcp://host:8786); default a local cluster.",
)
@click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="With --engine dask: give up after this long without a worker "
    f"[default: {DASK_TIMEOUT:g}].",
)
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
    type=_GateType(),
    metavar="'METRIC OP X'",
    help="Fail unless a metric holds, e.g. 'roc_auc >= 0.9' (>= > <= < ==); repeatable.",
)
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
@click.option("--debug", is_flag=True, expose_value=False, help=_DEBUG_HELP)
def check(
    paths: tuple[str, ...],
    labels_path: str | None,
    label_col: tuple[str, ...],
    pred_col: tuple[str, ...],
    weight_col: str | None,
    task: str | None,
    from_logits: bool | None,
    threshold: float | None,
    confidence: float | None,
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
    select: tuple[str, ...],
    disable: tuple[str, ...],
    config_path: str | None,
    no_config: bool,
    quiet: bool,
    skip_non_predictions: bool,
    github: bool,
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
    _check_usage(paths, fmt, output, quiet, github, config_path, no_config)
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    if timeout is not None:
        try:
            timeout = timeout_of(timeout, "--timeout")
        except InputError as error:
            raise click.UsageError(str(error)) from None
    source = Source(
        labels_path, input_format, engine, scheduler, partitioning, skip_non_predictions
    )
    given = Config(
        fail_on=fail_on,
        threshold=threshold,
        confidence=confidence,
        gates=gates or None,
        select=select or None,
        disable=disable or None,
        label_col=label_col or None,
        pred_col=pred_col or None,
        weight_col=weight_col or None,
        classes=parse_classes(classes, "--classes") if classes is not None else None,
        timeout=timeout,
    )
    settings = given.over(project_config(config_path, use=not no_config)).over(DEFAULTS)
    options = Options(
        task=task,
        from_logits=from_logits,
        threshold=settings.threshold,
        confidence=settings.confidence,
        loss=loss,
        reported_accuracy=reported_accuracy,
        reported_loss=reported_loss,
        positive_label=positive_label,
        classes=settings.classes,
    )
    ascii_only = ascii_only or os.environ.get("TERM", "").lower() == "dumb"
    diagnosed = [_diagnose(path, source, options, settings, ascii_only) for path in paths]
    results = [result for result in diagnosed if result is not None]
    with _reader_may_leave():
        _show(
            results,
            fmt,
            output=output,
            quiet=quiet,
            verbose=verbose,
            ascii_only=ascii_only,
            color=color,
        )
    if github:
        with _reader_may_leave():
            _github(results)
    failed = any(isinstance(result, FailedInput) for result in results)
    sys.exit(EXIT_USAGE if failed else max((result.exit_code for result in results), default=0))


def _check_usage(
    paths: tuple[str, ...],
    fmt: Format,
    output: str | None,
    quiet: bool,
    github: bool,
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
    if github and stdout_format in (Format.JSON, Format.HTML):
        raise click.UsageError(
            "--github prints workflow commands on stdout, which would break "
            f"the {fmt.value.upper()}; write it to a file with --output FILE"
        )


@dataclass(frozen=True)
class Source:
    """How to read each PATH: the options that choose a reader and an engine."""

    labels_path: str | None
    input_format: str | None
    engine: str
    scheduler: str | None
    partitioning: str | None
    skip_non_predictions: bool = False


def _diagnose(
    path: str, source: Source, options: Options, settings: Config, ascii_only: bool
) -> Report | FailedInput | None:
    """One file's report; a file that cannot be read is said on stderr, and the run goes on
    (None: a file that is not predictions, passed over under --skip-non-predictions)."""
    try:
        from lossdoctor.io import is_dataset

        if source.engine == "dask" or is_dataset(path):
            return _diagnose_dataset(path, source, options, settings, ascii_only)
        return _diagnose_file(path, source, options, settings, ascii_only)
    except InputError as error:
        if isinstance(error, NotPredictions) and source.skip_non_predictions:
            note = (
                f"skipped {visible(path)}: not a predictions file (no label or prediction "
                "column); narrow pre-commit's files: (or the glob) to leave it out"
            )
            click.echo("lossdoctor: note: " + note, err=True)
            return None
        message = visible(error)
        click.echo(f"lossdoctor: error: {message}", err=True)
        return FailedInput(path, message)


def _diagnose_file(
    path: str, source: Source, options: Options, settings: Config, ascii_only: bool
) -> Report:
    from lossdoctor.io import read_predictions
    from lossdoctor.pipeline import diagnose_predictions

    name = "stdin" if path == "-" else visible(path)
    with _status(f"reading {name}", ascii_only) as status:
        predictions = read_predictions(
            path,
            labels_path=source.labels_path,
            label_cols=settings.label_col,
            pred_cols=settings.pred_col,
            input_format=source.input_format,
            weight_col=settings.weight_col or None,
        )
        if status is not None:
            status.update(f"checking {len(predictions.y_true):,} rows")
        return diagnose_predictions(predictions, options, settings.fail_on, settings.rules())


def _diagnose_dataset(
    path: str, source: Source, options: Options, settings: Config, ascii_only: bool
) -> Report:
    """A dataset streamed in batches (or summarised on a Dask cluster), in bounded memory."""
    from lossdoctor.engines import dataset_engine
    from lossdoctor.pipeline import STREAMING_CAPACITY, diagnose

    if source.labels_path is not None:
        raise InputError(
            f"--labels reads one file; for the dataset {path}, keep the labels in a column "
            "of its files"
        )
    if path == "-":
        raise InputError("stdin (-) is read whole; give a file or a dataset path to stream")
    with contextlib.ExitStack() as stack:
        progress = None
        if source.engine == "local":
            progress = stack.enter_context(progress_bar(path, ascii_only))
        engine = stack.enter_context(
            dataset_engine(
                path,
                label_cols=settings.label_col,
                pred_cols=settings.pred_col,
                weight_col=settings.weight_col or None,
                partitioning=source.partitioning,
                engine=source.engine,
                scheduler=source.scheduler,
                timeout=settings.timeout,
                progress=progress,
            )
        )
        return diagnose(engine, options, settings.fail_on, settings.rules(), STREAMING_CAPACITY)


@contextlib.contextmanager
def progress_bar(path: str, ascii_only: bool):
    """A bar over the rows of each pass, on stderr, only when stderr is a terminal that draws
    more than ASCII."""
    if ascii_only or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        yield None
        return
    from rich.markup import escape

    name = escape(visible(Path(path.rstrip("/")).name or path))
    columns = ("{task.description}", BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"{name}: reading", total=None)
        current = [""]

        def advance(done: int, rows: int, pass_name: str) -> None:
            if pass_name != current[0]:
                current[0] = pass_name
                bar.reset(task, total=rows, description=f"{name}: {pass_name}")
            bar.advance(task, done)

        yield advance


def _show(
    results: list[Report | FailedInput],
    fmt: Format,
    *,
    output: str | None,
    quiet: bool,
    verbose: bool,
    ascii_only: bool,
    color: str = "auto",
) -> None:
    """stdout gets --format, or the terminal report when --output takes --format."""
    if output is not None:
        text = render_text(results, fmt, verbose=verbose, ascii=ascii_only)
        write_text(output, text, "--output")
    if output is None and fmt is not Format.TERMINAL:
        click.echo(render_text(results, fmt), nl=False)
    elif quiet:
        click.echo(quiet_lines(results), nl=False)
    else:
        from rich.console import Console

        from lossdoctor.render.terminal import render

        console = Console(**COLOR_CHOICES[color])
        console.on_broken_pipe = _raise_broken_pipe  # rich's own would exit 1 whatever the verdict
        reports = [result for result in results if isinstance(result, Report)]
        for i, report in enumerate(reports):
            if i:
                console.print()
            console.print(render(report, verbose=verbose, ascii=ascii_only))


def _github(results: list[Report | FailedInput]) -> None:
    """Annotations on stdout; the Markdown report appended to the job summary, when there is one."""
    from lossdoctor.render.github import annotations

    click.echo(annotations(results, os.environ.get("GITHUB_WORKSPACE")), nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        write_text(
            summary, render_text(results, Format.MARKDOWN), "GITHUB_STEP_SUMMARY", append=True
        )


@contextlib.contextmanager
def _reader_may_leave():
    """A reader that closes stdout early (`| head`) has what it wanted: what is left to print
    goes nowhere, and the run goes on to its exit code."""
    try:
        yield
    except BrokenPipeError:
        _stdout_closed()


def _raise_broken_pipe() -> None:
    raise BrokenPipeError


def _stdout_closed() -> None:
    """Points stdout at the null device, so that the flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _status(message: str, ascii_only: bool, console=None):
    """A spinner on stderr naming the stage, only when stderr is a terminal: pipes and CI logs
    get nothing, and do not pay for importing rich."""
    if console is None:
        if not sys.stderr.isatty():
            return contextlib.nullcontext()
        from rich.console import Console

        console = Console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        return contextlib.nullcontext()
    from rich.text import Text

    return console.status(Text(message), spinner="line" if ascii_only else "dots")


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="lossdoctor")


@cli.command("checks")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A line per check, or a JSON array of {id, severity, summary, why, fixes}.",
)
def list_checks(output_format: str) -> None:
    """List every check with its id and default severity."""
    from lossdoctor.checks import REGISTRY

    summaries = {check.ID: check.__doc__.split("\n", 1)[0].split(": ", 1)[1] for check in REGISTRY}
    if output_format == "json":
        described = [
            {
                "id": check.ID,
                "severity": str(check.SEVERITY),
                "summary": summaries[check.ID],
                "why": check.WHY,
                "fixes": dict(getattr(check, "FIXES", {})),
            }
            for check in REGISTRY
        ]
        click.echo(strict_json(described))
        return
    width = max(len(check.ID) for check in REGISTRY)
    for check in REGISTRY:
        click.echo(f"{check.ID:<{width}}  {check.SEVERITY!s:<7}  {summaries[check.ID]}")


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(SCHEMA_KINDS),
    default="any",
    show_default=True,
    help="Every output of --format json, or only the report or the error object.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of what check --format json prints: a report or an
    error object for one path, an array of them for several."""
    from lossdoctor.report import json_schema

    click.echo(json_schema(kind), nl=False)


@cli.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Explain a check: what it detects, why it matters, how it decides, how to fix it."""
    import textwrap

    from lossdoctor import gates
    from lossdoctor.checks import BY_ID

    known = {**BY_ID, gates.ID: gates}
    check = known.get(check_id)
    if check is None:
        click.echo(
            f"lossdoctor: error: unknown check {check_id!r}; "
            f"known checks: {', '.join(known)} (see lossdoctor checks)",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    summary, body = check.__doc__.strip().split("\n", 1)
    click.echo(f"{summary}\ndefault severity: {check.SEVERITY}\n")
    click.echo(
        "Why it matters:\n"
        + textwrap.fill(check.WHY, 96, initial_indent="  ", subsequent_indent="  ")
        + "\n"
    )
    click.echo(body.strip() + "\n")
    examples = getattr(check, "EXAMPLES", ())
    if examples:
        click.echo("Examples (each run as a test):")
        for example in examples:
            click.echo(f"  {example.outcome}: {example.says}")
        click.echo()
    fixes = getattr(check, "FIXES", {})
    click.echo("Fixes:" if fixes else "", nl=bool(fixes))
    for framework, line in fixes.items():
        click.echo(f"  {framework}: {line}")


from lossdoctor.comparison.command import compare  # noqa: E402  (its command, registered)

cli.add_command(compare)
