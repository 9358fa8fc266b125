"""Renderers turn reports into text; they format and never compute.

Every output format is one member of `Format`, mapped to its renderer in `RENDERERS` (a test
walks the Enum, so a new format cannot be forgotten). A renderer takes the results of a run, one
per path: a Report, or a FailedInput where a file could not be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import Enum

from lossdoctor.report import FailedInput, Report

Result = Report | FailedInput


class Format(str, Enum):
    """The values of --format; RENDERERS maps each to its renderer."""

    TERMINAL = "terminal"
    JSON = "json"
    MARKDOWN = "markdown"


def render_text(
    results: Sequence[Result], fmt: Format, *, verbose: bool = False, ascii: bool = False
) -> str:
    """The results as text in `fmt`, for stdout, --output or the job summary."""
    return RENDERERS[fmt](results, verbose=verbose, ascii=ascii)


def quiet_lines(results: Sequence[Result]) -> str:
    """--quiet: one line per finding, `path: severity check-id: title`, as linters print them
    (and editors and pre-commit read them), whatever the number of paths."""
    lines = []
    for result in results:
        if isinstance(result, FailedInput):
            continue  # its error is on stderr already
        path = ", ".join(result.input.paths)
        lines += [f"{path}: {f.severity} {f.check}: {f.title}" for f in result.findings]
    return "".join(line + "\n" for line in lines)


def _json(results: Sequence[Result], **_: bool) -> str:
    """One path: the report object; several: a list with one item per path, in order."""
    items = [result.to_dict() for result in results]
    return json.dumps(items[0] if len(items) == 1 else items, indent=2, allow_nan=False) + "\n"


def _markdown(results: Sequence[Result], **_: bool) -> str:
    from lossdoctor.render.markdown import render_all

    return render_all(results)


def _terminal(results: Sequence[Result], *, verbose: bool = False, ascii: bool = False) -> str:
    """The terminal report without colour, 100 columns wide, for a file."""
    from io import StringIO

    from rich.console import Console

    from lossdoctor.render.terminal import render

    console = Console(file=StringIO(), width=100, color_system=None, force_terminal=False)
    reports = [result for result in results if isinstance(result, Report)]
    for i, report in enumerate(reports):
        if i:
            console.print()
        console.print(render(report, verbose=verbose, ascii=ascii))
    return console.file.getvalue()


RENDERERS: dict[Format, Callable[..., str]] = {
    Format.TERMINAL: _terminal,
    Format.JSON: _json,
    Format.MARKDOWN: _markdown,
}
