"""What the command line shows besides the report's text: progress on stderr, the terminal
report on a console, GitHub annotations. The drawing is the renderers'."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from lossdoctor.cli.exits import raise_broken_pipe
from lossdoctor.render import GITHUB, QUIET, Format, render_text
from lossdoctor.render.escape import visible
from lossdoctor.report import FailedInput, Report
from lossdoctor.write import write_text

# --color: the terminal report's rich Console settings. rich reads NO_COLOR and FORCE_COLOR
# itself under auto; always and never win over them.
COLOR_CHOICES = {
    "auto": {},
    "always": {"force_terminal": True, "no_color": False},
    "never": {"color_system": None},
}


def show(
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
        click.echo(render_text(results, QUIET), nl=False)
    else:
        from rich.console import Console

        from lossdoctor.render.terminal import print_reports

        console = Console(**COLOR_CHOICES[color])
        console.on_broken_pipe = raise_broken_pipe  # rich's own would exit 1 whatever the verdict
        print_reports(console, results, verbose=verbose, ascii=ascii_only)


def github(results: list[Report | FailedInput]) -> None:
    """Annotations on stdout; the Markdown report appended to the job summary, when there is one."""
    text = render_text(results, GITHUB, workspace=os.environ.get("GITHUB_WORKSPACE"))
    click.echo(text, nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        write_text(
            summary, render_text(results, Format.MARKDOWN), "GITHUB_STEP_SUMMARY", append=True
        )


@contextlib.contextmanager
def progress_bar(path: str, ascii_only: bool, wanted: bool = True):
    """A bar over the rows of each pass, on stderr, only when `wanted` (rows read on this
    machine) and stderr is a terminal that draws more than ASCII."""
    if not wanted or ascii_only or not sys.stderr.isatty():
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


def status(message: str, ascii_only: bool, console=None):
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
