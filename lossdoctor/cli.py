"""The command line: parse options, diagnose, render, exit with a code CI can rely on."""

from __future__ import annotations

import sys

import click

from lossdoctor import __version__
from lossdoctor.errors import InputError
from lossdoctor.report import FAIL_ON

EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossdoctor")
def cli() -> None:
    """A doctor for saved classification predictions.

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad input or usage.
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
    input_format: str | None,
    output_format: str,
    fail_on: str,
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
        positive_label=positive_label,
    )
    try:
        predictions = read_predictions(
            path,
            labels_path=labels_path,
            label_cols=label_col,
            pred_cols=pred_col,
            input_format=input_format,
        )
        report = diagnose_predictions(predictions, options, fail_on)
    except InputError as error:
        click.echo(f"lossdoctor: error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if output_format == "json":
        click.echo(report.to_json())
    else:
        from rich.console import Console

        Console().print(report)
    sys.exit(report.exit_code)


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
