"""The characters the terminal report draws with: Unicode, or plain ASCII for dumb terminals."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box


@dataclass(frozen=True)
class Glyphs:
    """One set of drawing characters, so every picture switches to ASCII in one place."""

    box: box.Box
    bars: str  # index i draws a cell i/8 full, from empty to full
    ok: str
    marks: tuple[str, str, str]  # info, warning, error: indexed by Severity - 1
    sep: str
    dash: str  # an undefined number
    pointer: str  # marks a row or a position
    axis: str  # the left edge of a picture
    tick: str  # a position on a picture's x axis
    more: str  # a shortened name

    def bar(self, eighths: int) -> str:
        """One cell of a vertical bar, `eighths` of it full (0..8)."""
        return self.bars[max(0, min(8, eighths))]


UNICODE = Glyphs(
    box=box.ROUNDED,
    bars=" ▁▂▃▄▅▆▇█",
    ok="✓",
    marks=("●", "▲", "✗"),
    sep=" · ",
    dash="—",
    pointer="◀",
    axis="▕",
    tick="▲",
    more="…",
)

# Partial cells collapse to '.' and ':', so a single row still shows as a mark.
ASCII = Glyphs(
    box=box.ASCII,
    bars=" ...::::#",
    ok="ok",
    marks=("i", "!", "x"),
    sep=" | ",
    dash="-",
    pointer="<",
    axis="|",
    tick="^",
    more="~",
)


def glyphs_for(ascii_only: bool) -> Glyphs:
    return ASCII if ascii_only else UNICODE
