"""Renderers turn reports into text; they format and never compute.

Every output format is one member of `Format`, mapped to its renderer in `RENDERERS` (a test
walks the Enum, so a new format cannot be forgotten). A renderer takes the results of a run, one
per path: a Report, or a FailedInput where a file could not be read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

from lossdoctor.render.escape import strict_json, visible
from lossdoctor.report import VIEWS, FailedInput, Report, error_object

Result = Report | FailedInput


class Format(str, Enum):
    """The values of --format; RENDERERS maps each to its renderer."""

    TERMINAL = "terminal"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


def render_text(
    results: Sequence[Result], fmt: Format, *, verbose: bool = False, ascii: bool = False
) -> str:
    """The results as text in `fmt`, for stdout, --output or the job summary."""
    return RENDERERS[fmt](results, verbose=verbose, ascii=ascii)


def render_error(message: str, exit_code: int, fmt: Format | None) -> str:
    """What a run that ended without a report leaves where its report would have gone, in `fmt`;
    a line of text when the format is not known (as when --format itself was refused)."""
    return ERROR_RENDERERS.get(fmt, _text_error)(message, exit_code)


def quiet_lines(results: Sequence[Result]) -> str:
    """--quiet: one line per finding, `path: severity check-id: title`, as linters print them
    (and editors and pre-commit read them), whatever the number of paths."""
    lines = []
    for result in results:
        if isinstance(result, FailedInput):
            continue  # its error is on stderr already
        path = ", ".join(visible(path) for path in result.input.paths)
        lines += [f"{path}: {f.severity} {f.check}: {visible(f.title)}" for f in result.findings]
    return "".join(line + "\n" for line in lines)


def _json(results: Sequence[Result], **_: bool) -> str:
    """One path: the report object; several: a list with one item per path, in order."""
    items = [result.to_dict() for result in results]
    return strict_json(items[0] if len(items) == 1 else items) + "\n"


def _markdown(results: Sequence[Result], **_: bool) -> str:
    from lossdoctor.render.markdown import render_all

    return render_all(results)


def _html(results: Sequence[Result], **_: bool) -> str:
    from lossdoctor.render.html import render_all

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


RENDERERS: dict[Format, Callable[..., str]] = {
    Format.TERMINAL: _terminal,
    Format.JSON: _json,
    Format.MARKDOWN: _markdown,
    Format.HTML: _html,
}
ERROR_RENDERERS: dict[Format | None, Callable[[str, int], str]] = {
    Format.TERMINAL: _text_error,
    Format.JSON: _json_error,
    Format.MARKDOWN: _markdown_error,
    Format.HTML: _html_error,
}


def _rich_view(report: Report):
    from lossdoctor.render.terminal import render

    return render(report)


def _html_view(report: Report) -> str:
    from lossdoctor.render.html import fragment

    return fragment(report)


# How a Report shows itself in rich and in a notebook; each renderer is imported when first used.
VIEWS.update({"rich": _rich_view, "text/html": _html_view})
