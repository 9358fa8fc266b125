"""Renderers turn reports into text; they format and never compute.

Every output format has one name, mapped to its formatter in `RENDERERS`, and to what a run
without a report leaves in that format in `ERROR_RENDERERS` (tests walk both, so a new format
cannot be forgotten). `Format` is the subset --format offers; "github" is what --github prints
and "quiet" what --quiet prints.
A formatter takes the results of a run, one per path (a Report, or a FailedInput where a file
could not be read), and keyword options it may ignore: verbose, ascii, workspace.

This package also gives a Report its views in rich and in a notebook (`VIEWS`), so that the
model never imports a renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from lossdoctor.render.escape import strict_json, visible
from lossdoctor.report import VIEWS, FailedInput, Report, error_object

Result = Report | FailedInput


class Format(str, Enum):
    """The values of --format; RENDERERS maps each to its renderer."""

    TERMINAL = "terminal"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


GITHUB = "github"  # workflow commands (annotations), printed by --github
QUIET = "quiet"  # a line per finding, printed by --quiet


def render_text(results: Sequence[Result], fmt: Format | str, **options: Any) -> str:
    """The results as text in `fmt`, for stdout, --output or the job summary."""
    return RENDERERS[fmt](results, **options)  # a Format is its name: str-valued


def render_error(message: str, exit_code: int, fmt: Format | None) -> str:
    """What a run that ended without a report leaves where its report would have gone, in `fmt`;
    a line of text when the format is not known (as when --format itself was refused)."""
    return ERROR_RENDERERS[fmt or Format.TERMINAL](message, exit_code)


def _quiet(results: Sequence[Result], **_: Any) -> str:
    """--quiet: one line per finding, `path: severity check-id: title`, as linters print them
    (and editors and pre-commit read them), whatever the number of paths."""
    lines = []
    for result in results:
        if isinstance(result, FailedInput):
            continue  # its error is on stderr already
        path = ", ".join(visible(path) for path in result.input.paths)
        lines += [f"{path}: {f.severity} {f.check}: {visible(f.title)}" for f in result.findings]
    return "".join(line + "\n" for line in lines)


def _json(results: Sequence[Result], **_: Any) -> str:
    """One path: the report object; several: a list with one item per path, in order."""
    items = [result.to_dict() for result in results]
    return strict_json(items[0] if len(items) == 1 else items) + "\n"


def _markdown(results: Sequence[Result], **_: Any) -> str:
    from lossdoctor.render.markdown import render_all

    return render_all(results)


def _html(results: Sequence[Result], **_: Any) -> str:
    from lossdoctor.render.html import render_all

    return render_all(results)


def _terminal(
    results: Sequence[Result], *, verbose: bool = False, ascii: bool = False, **_: Any
) -> str:
    """The terminal report without colour, 100 columns wide, for a file."""
    from io import StringIO

    from rich.console import Console

    from lossdoctor.render.terminal import print_reports

    console = Console(file=StringIO(), width=100, color_system=None, force_terminal=False)
    print_reports(console, results, verbose=verbose, ascii=ascii)
    return console.file.getvalue()


def _github(results: Sequence[Result], *, workspace: str | None = None, **_: Any) -> str:
    from lossdoctor.render.github import annotations

    return annotations(results, workspace)


def _text_error(message: str, exit_code: int) -> str:
    return f"lossdoctor: {message} (exit code {exit_code})\n"


def _json_error(message: str, exit_code: int) -> str:
    return strict_json(error_object(message, exit_code), indent=None) + "\n"


def _html_error(message: str, exit_code: int) -> str:
    from lossdoctor.render.html import render_error

    return render_error(message, exit_code)


def _markdown_error(message: str, exit_code: int) -> str:
    from lossdoctor.render.markdown import render_error

    return render_error(message, exit_code)


def _github_error(message: str, exit_code: int) -> str:
    from lossdoctor.render.github import error_annotation

    return error_annotation(message, exit_code)


RENDERERS: dict[str, Callable[..., str]] = {
    Format.TERMINAL.value: _terminal,
    Format.JSON.value: _json,
    Format.MARKDOWN.value: _markdown,
    Format.HTML.value: _html,
    GITHUB: _github,
    QUIET: _quiet,
}
ERROR_RENDERERS: dict[str, Callable[[str, int], str]] = {
    Format.TERMINAL.value: _text_error,
    Format.JSON.value: _json_error,
    Format.MARKDOWN.value: _markdown_error,
    Format.HTML.value: _html_error,
    GITHUB: _github_error,
    QUIET: _text_error,
}


def _rich_view(report: Report):
    from lossdoctor.render.terminal import render

    return render(report)


def _html_view(report: Report) -> str:
    from lossdoctor.render.html import fragment

    return fragment(report)


def _plain_view(report: Report) -> str:
    """The terminal report as plain text, 110 columns wide, for a notebook's text view."""
    from io import StringIO

    from rich.console import Console

    console = Console(file=StringIO(), width=110, color_system=None, force_jupyter=False)
    console.print(_rich_view(report))
    return console.file.getvalue()


# How a Report shows itself in rich and in a notebook; each renderer is imported when first used.
VIEWS.update({"rich": _rich_view, "text/html": _html_view, "text/plain": _plain_view})
