"""Options check and compare share, written once."""

from __future__ import annotations

from collections.abc import Callable

import click

from lossdoctor.settings import DEFAULTS


def bootstrap_options(command: Callable) -> Callable:
    """--bootstrap N and --seed S: the Poisson bootstrap of the intervals and paired tests."""
    command = click.option(
        "--seed",
        type=click.IntRange(min=0),
        help=f"The bootstrap's seed: the same seed, the same replicates; default {DEFAULTS.seed}.",
    )(command)
    return click.option(
        "--bootstrap",
        type=click.IntRange(min=0),
        metavar="N",
        help="Poisson bootstrap replicates of F1, MCC, balanced accuracy, average precision and "
        f"ECE (0: none); default {DEFAULTS.bootstrap}.",
    )(command)
