"""The command line: parse options, diagnose, render, exit with a code CI can rely on."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback

import click

from lossdoctor import __version__
from lossdoctor.errors import InputError
from lossdoctor.report import FAIL_ON

EXIT_USAGE = 2
EXIT_INTERNAL = 3
_ARGS = "lossdoctor.args"  # ctx.meta: the raw arguments, for errors raised before parsing ends
_DEBUG_HELP = "On an internal error (exit 3), print the traceback."


class _Failure(click.ClickException):
    """A run that ends without a report: one line on stderr; with --format json also a JSON
    object on stdout, so that a tool reading stdout always gets JSON."""

    def __init__(self, message: str, exit_code: int, as_json: bool, kind: str = "error"):
        # One line even when the message quotes the data (a column name with a newline in it).
        super().__init__("\\n".join(message.splitlines()))
        self.exit_code = exit_code
        self.as_json = as_json
        self.kind = kind
        self.traceback = ""  # set under --debug

    def show(self, file=None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": self.message, "exit_code": self.exit_code}))
        click.echo(f"{self.traceback}lossdoctor: {self.kind}: {self.message}", err=True)


class _Cli(click.Group):
    """Ends every run with an exit code CI can rely on, and never with a traceback.

    Bad input (InputError) and bad usage become one line and exit 2. Any other exception is a
    bug in lossdoctor: one line asking for a report (the traceback only with --debug), exit 3.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = list(args)  # shared with the subcommand's context
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage_failure(error, args) from None

    def invoke(self, ctx: click.Context):
        args = ctx.meta.get(_ARGS, [])
        try:
            return super().invoke(ctx)
        except (_Failure, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click's own endings: --help, ^C, a closed pipe
        except click.UsageError as error:
            raise _usage_failure(error, args) from None
        except click.ClickException:
            raise
        except InputError as error:
            raise _Failure(str(error), EXIT_USAGE, _flags(args)[0]) from None
        except Exception as error:
            raise _internal_failure(error, args) from None


def _flags(args: list[str]) -> tuple[bool, bool]:
    """--format json and --debug, from the raw arguments: an error can come before parsing."""
    args = args[: args.index("--")] if "--" in args else args
    pairs = zip(args, [*args[1:], ""], strict=True)
    as_json = any(a == "--format=json" or (a, b) == ("--format", "json") for a, b in pairs)
    return as_json, "--debug" in args


def _usage_failure(error: click.UsageError, args: list[str]) -> _Failure:
    command = error.ctx.command_path if error.ctx else "lossdoctor"
    message = " ".join(error.format_message().split()).rstrip(".")
    return _Failure(f"{message}; see '{command} --help'", EXIT_USAGE, _flags(args)[0])


def _internal_failure(error: Exception, args: list[str]) -> _Failure:
    as_json, debug = _flags(args)
    detail = (str(error).strip().splitlines() or [""])[0]
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    hint = "" if debug else "; rerun with --debug for the traceback"
    message = f"{what} (lossdoctor {__version__}; please report this with the file's shape{hint})"
    failure = _Failure(message, EXIT_INTERNAL, as_json, kind="internal error")
    if debug:
        failure.traceback = "".join(traceback.format_exception(error))
    return failure


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossdoctor")
@click.option("--debug", is_flag=True, expose_value=False, help=_DEBUG_HELP)
def cli() -> None:
    """A doctor for saved classification predictions.

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad input or usage,
    3 internal error (please report it).
    """


@cli.command()
@click.argument("path")
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
    default=0.5,
    show_default=True,
    help="Binary decision threshold (p >= t is positive).",
)
@click.option("--positive-label", metavar="LABEL", help="The positive class, for string labels.")
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
    type=click.Choice(["parquet", "csv", "npy", "npz", "feather", "arrow"]),
    help="Format of PATH when its extension does not say (or PATH is -).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["terminal", "json"]),
    default="terminal",
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="error",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Add per-class tables and each finding's evidence, why and per-framework fixes.",
)
@click.option(
    "--ascii",
    "ascii_only",
    is_flag=True,
    help="Draw with ASCII only (also when TERM=dumb).",
)
@click.option("--debug", is_flag=True, expose_value=False, help=_DEBUG_HELP)
def check(
    path: str,
    labels_path: str | None,
    label_col: tuple[str, ...],
    pred_col: tuple[str, ...],
    task: str | None,
    from_logits: bool | None,
    threshold: float,
    positive_label: str | None,
    loss: str | None,
    reported_accuracy: float | None,
    reported_loss: float | None,
    input_format: str | None,
    output_format: str,
    fail_on: str,
    verbose: bool,
    ascii_only: bool,
) -> None:
    """Diagnose the predictions in PATH (Parquet, CSV, NPY/NPZ, Feather; - for stdin)."""
    from lossdoctor.infer import Options
    from lossdoctor.io import read_predictions
    from lossdoctor.pipeline import diagnose_predictions

    options = Options(
        task=task,
        from_logits=from_logits,
        threshold=threshold,
        loss=loss,
        reported_accuracy=reported_accuracy,
        reported_loss=reported_loss,
        positive_label=positive_label,
    )
    from rich.console import Console

    ascii_only = ascii_only or os.environ.get("TERM", "").lower() == "dumb"
    source = "stdin" if path == "-" else path
    # An InputError becomes one line and exit 2 in _Cli.invoke, for every command alike.
    with _status(Console(stderr=True), f"reading {source}", ascii_only) as status:
        predictions = read_predictions(
            path,
            labels_path=labels_path,
            label_cols=label_col,
            pred_cols=pred_col,
            input_format=input_format,
        )
        if status is not None:
            status.update(f"checking {len(predictions.y_true):,} rows")
        report = diagnose_predictions(predictions, options, fail_on)
    if output_format == "json":
        click.echo(report.to_json())
    else:
        from lossdoctor.render.terminal import render

        Console().print(render(report, verbose=verbose, ascii=ascii_only))
    sys.exit(report.exit_code)


def _status(console, message: str, ascii_only: bool):
    """A spinner on stderr naming the stage, only when stderr is a terminal: pipes and CI logs
    get nothing."""
    if not console.is_terminal or console.is_dumb_terminal:
        return contextlib.nullcontext()
    return console.status(message, spinner="line" if ascii_only else "dots")


def main() -> None:
    cli(prog_name="lossdoctor")


@cli.command("checks")
def list_checks() -> None:
    """List every check with its id and default severity."""
    from lossdoctor.checks import REGISTRY

    width = max(len(check.ID) for check in REGISTRY)
    for check in REGISTRY:
        summary = check.__doc__.split("\n", 1)[0].split(": ", 1)[1]
        click.echo(f"{check.ID:<{width}}  {check.SEVERITY!s:<7}  {summary}")


@cli.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Explain a check: what it detects, why it matters, how it decides, how to fix it."""
    import textwrap

    from lossdoctor.checks import BY_ID

    check = BY_ID.get(check_id)
    if check is None:
        click.echo(
            f"lossdoctor: error: unknown check {check_id!r}; "
            f"known checks: {', '.join(BY_ID)} (see lossdoctor checks)",
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
    click.echo("Fixes:")
    for framework, line in check.FIXES.items():
        click.echo(f"  {framework}: {line}")
