"""The command line: one click group, one module per command.

`check` parses its options into one Settings, opens each path through the engines' door,
renders, and exits with a code CI can rely on; `exits` says how every run ends. A new command
is a new module here and one `add_command` line below.
"""

from __future__ import annotations

import gc
import signal

import click

from lossdoctor import __version__
from lossdoctor.cli.about import explain, list_checks, schema
from lossdoctor.cli.check import check_command
from lossdoctor.cli.compare import compare
from lossdoctor.cli.exits import DEBUG_HELP, Group, on_sigterm


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossdoctor")
@click.option("--debug", is_flag=True, expose_value=False, help=DEBUG_HELP)
def cli() -> None:
    """A doctor for saved classification predictions.

    Exit codes: 0 no finding at or above --fail-on, 1 findings (failed gates too), 2 bad
    input or usage, 3 internal error (please report it).
    """


cli.add_command(check_command)
cli.add_command(list_checks)
cli.add_command(schema)
cli.add_command(explain)
cli.add_command(compare)


def main() -> None:
    signal.signal(signal.SIGTERM, on_sigterm)
    # What the imports made lives as long as the process: the run's garbage collections need
    # not walk it again and again (a few milliseconds of a small file's run). Unfrozen after,
    # for a caller that runs main() in its own process.
    gc.freeze()
    try:
        cli(prog_name="lossdoctor")
    finally:
        gc.unfreeze()
