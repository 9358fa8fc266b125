"""The options of `lossdoctor check` that segment the rows: --by, --top, --min-segment-rows,
--segment-gate (lossdoctor.segments)."""

from __future__ import annotations

from collections.abc import Callable

import click

from lossdoctor.errors import InputError
from lossdoctor.io.segments import parse_by
from lossdoctor.settings import DEFAULTS


def _by(ctx: click.Context, param: click.Parameter, by: tuple[str, ...]) -> tuple[str, ...]:
    """--by values, each readable (a bad one is a usage error)."""
    for text in by:
        try:
            parse_by(text)
        except InputError as error:
            raise click.BadParameter(str(error), ctx, param) from None
    return by


def segment_options(gate: click.ParamType) -> Callable[[Callable], Callable]:
    """The four options, in the order --help lists them; `gate` reads --segment-gate."""
    options = [
        click.option(
            "--by",
            multiple=True,
            metavar="COLUMN",
            callback=_by,
            help="Segment the rows by a column, a hive partition key, or file (each file of "
            "a dataset); COLUMN:BINS cuts a numeric column into quantile bins, e.g. age:5. "
            "Repeatable.",
        ),
        click.option(
            "--top",
            type=click.IntRange(0),
            metavar="N",
            help="Segments shown per --by, worst first; the rest are counted. Default "
            f"{DEFAULTS.top}.",
        ),
        click.option(
            "--min-segment-rows",
            type=click.IntRange(1),
            metavar="N",
            help="Segments of fewer rows are listed, never judged weak or gated; default "
            f"{DEFAULTS.min_segment_rows}.",
        ),
        click.option(
            "--segment-gate",
            "segment_gates",
            multiple=True,
            type=gate,
            metavar="'METRIC OP X'",
            help="A gate every segment of --min-segment-rows rows or more must pass, on its value; "
            "repeatable.",
        ),
    ]

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
