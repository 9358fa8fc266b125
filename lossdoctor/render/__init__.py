"""Renderers turn a Report into text; they format and never compute."""

from __future__ import annotations

from enum import Enum


class Format(str, Enum):
    """Every output format, each mapped to its renderer in `render_text`."""

    TERMINAL = "terminal"
    JSON = "json"


def render_text(report, fmt: Format) -> str:
    """A report as text in a format that is not the live terminal (which rich prints itself)."""
    if fmt is Format.JSON:
        return report.to_json() + "\n"
    from io import StringIO

    from rich.console import Console

    console = Console(file=StringIO(), width=100, color_system=None, force_terminal=False)
    console.print(report)
    return console.file.getvalue()
