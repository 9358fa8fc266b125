"""Findings as GitHub Actions workflow commands (`::error file=...,title=...::message`): each
becomes an annotation on the run, and with `file=` set to the predictions file, on that file in
the pull request's diff. Formats only; the CLI decides where they go.

GitHub reads one command per line, so the message escapes % and line breaks, and a property
value (the title) also the `:` and `,` that would end it. See "Workflow commands for GitHub
Actions" in GitHub's documentation. Text from the data is first made `visible`: a control
character in a label would otherwise reach the log, and the annotation's own line breaks are
the only ones it has.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.render.escape import visible
from lossdoctor.report import FailedInput, Report

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def annotations(results: Iterable[Report | FailedInput], workspace: str | None = None) -> str:
    """One workflow command per finding, and one per file that could not be read. GitHub places
    an annotation by the file's path in the repository: an absolute path inside `workspace`
    (the checkout) is written relative to it."""
    lines = []
    for result in results:
        if isinstance(result, FailedInput):
            file = _file(workspace, result.path)
            message = visible(result.message)
            lines.append(_command("error", "lossdoctor: not diagnosed", message, file))
            continue
        path = ", ".join(visible(path) for path in result.input.paths)
        file = _file(workspace, *result.input.paths)
        lines += [_annotation(finding, path, file) for finding in result.findings]
    return "".join(line + "\n" for line in lines)


def error_annotation(message: str, exit_code: int) -> str:
    """A run that ended without a report (exit `exit_code`), as one error annotation."""
    return _command("error", "lossdoctor: not diagnosed", visible(message)) + "\n"


def _file(workspace: str | None, *paths: str) -> str | None:
    """The file an annotation belongs to: the one path read, unless it is stdin."""
    if len(paths) != 1 or paths[0] == "-":
        return None
    path = paths[0]
    if workspace and os.path.isabs(path):
        inside = os.path.relpath(path, workspace)
        return path if inside.startswith(os.pardir) else inside
    return path


def _annotation(finding: Finding, path: str, file: str | None) -> str:
    message = f"{path}: {visible(finding.message)}"
    if finding.fix:
        message += f"\nfix: {visible(finding.fix)}"
    title = f"{visible(finding.title)} ({finding.check})"
    return _command(COMMAND[finding.severity], title, message, file)


def _command(name: str, title: str, message: str, file: str | None = None) -> str:
    where = f"file={escape_property(visible(file))}," if file is not None else ""
    return f"::{name} {where}title={escape_property(title)}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A command's message: % first, so that the escapes themselves are not escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value such as title=: also `:` and `,`, which would end it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
