"""A few chart functions that write inline SVG: lines with marked points, bars, a heat map.

Each chart is a string of SVG with a <title> and <desc> for screen readers, axis lines, ticks
and labels as text, and classes (`c0`..`c7`, `axis`, `grid`) that the page's stylesheet colours,
so one chart reads in light and dark themes. The viewBox scales a chart to its column; nothing
here knows about reports, and every text that reaches a chart is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossdoctor.render.escape import markup
from lossdoctor.render.words import amount

WIDTH, HEIGHT = 400, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 14, 12, 44
COLOURS = 8  # classes c0..c7 in the stylesheet
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Series:
    """A line through (x, y) points, in colour `colour` (0..7)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    colour: int = 0
    dash: str = ""  # "dashed" or "dotted": a line style the stylesheet draws


@dataclass(frozen=True)
class Mark:
    """A marked point: a circle, or a diamond, with its own tooltip."""

    label: str
    x: float
    y: float
    colour: int = 0
    diamond: bool = False


@dataclass(frozen=True)
class Bars:
    """Heights over the bins between consecutive edges."""

    name: str
    heights: np.ndarray
    colour: int = 0


@dataclass(frozen=True)
class Frame:
    """What every chart has: a title, a description and labelled axes over ranges."""

    chart_id: str  # unique in the page, for aria-labelledby
    title: str
    description: str
    x_label: str
    y_label: str
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)
    x_ticks: Sequence[float] = TICKS
    y_ticks: Sequence[float] = TICKS
    y_percent: bool = False  # tick labels as 25% rather than 0.25


def _x(frame: Frame, value) -> np.ndarray:
    low, high = frame.x_range
    span = (high - low) or 1.0
    return MARGIN_LEFT + (np.asarray(value, dtype=np.float64) - low) / span * _plot_width()


def _y(frame: Frame, value) -> np.ndarray:
    low, high = frame.y_range
    span = (high - low) or 1.0
    scaled = (np.asarray(value, dtype=np.float64) - low) / span
    return MARGIN_TOP + (1 - scaled) * _plot_height()


def _plot_width() -> int:
    return WIDTH - MARGIN_LEFT - MARGIN_RIGHT


def _plot_height() -> int:
    return HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


def _tick(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:g}"


def _svg(
    chart_id: str, title: str, description: str, width: int, height: int, *, kind: str = ""
) -> list[str]:
    """The svg element, named for screen readers by its title and description. A chart of a
    `kind` is drawn at most 1.5 times its size (a heat map of two classes stays small)."""
    title_id, desc_id = f"{chart_id}-t", f"{chart_id}-d"
    look = f' {kind}" style="max-width:{int(1.5 * width)}px' if kind else ""
    return [
        f'<svg class="chart{look}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{markup(title)}</title>',
        f'<desc id="{desc_id}">{markup(description)}</desc>',
    ]


def _open(frame: Frame) -> list[str]:
    """The svg element, the grid, and the axes with their ticks and labels."""
    parts = _svg(frame.chart_id, frame.title, frame.description, WIDTH, HEIGHT)
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    for value in frame.x_ticks:
        x = float(_x(frame, value))
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>')
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{_tick(value, False)}</text>"
        )
    for value in frame.y_ticks:
        y = float(_y(frame, value))
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick(value, frame.y_percent)}</text>"
        )
    parts += [
        f'<line class="axis x-axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis y-axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>',
        f'<text class="label" x="{(left + right) / 2:.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">{markup(frame.x_label)}</text>',
        f'<text class="label" transform="translate(13 {(top + bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{markup(frame.y_label)}</text>',
    ]
    return parts


def _points(frame: Frame, x: np.ndarray, y: np.ndarray) -> str:
    xs, ys = _x(frame, x), _y(frame, y)
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs.tolist(), ys.tolist(), strict=True))


def _mark(frame: Frame, mark: Mark) -> str:
    x, y = float(_x(frame, mark.x)), float(_y(frame, mark.y))
    tip = f"<title>{markup(mark.label)}</title>"
    colour = f"c{mark.colour % COLOURS}"
    if mark.diamond:
        r = 6
        shape = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon class="mark diamond {colour}" points="{shape}">{tip}</polygon>'
    return f'<circle class="mark {colour}" cx="{x:.1f}" cy="{y:.1f}" r="5">{tip}</circle>'


def line_chart(
    frame: Frame,
    series: Sequence[Series],
    marks: Sequence[Mark] = (),
    *,
    diagonal: bool = False,
    vertical: tuple[float, str] | None = None,
) -> str:
    """Lines (and marked points) over the frame; `diagonal` draws y = x for reference,
    `vertical` a labelled line at one x (a threshold)."""
    parts = _open(frame)
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    if diagonal:
        ends = np.asarray([frame.x_range[0], frame.x_range[1]])
        parts.append(f'<polyline class="reference" points="{_points(frame, ends, ends)}"/>')
    if vertical is not None:
        parts.append(_vertical(frame, *vertical, top, bottom))
    for line in series:
        dash = f" {line.dash}" if line.dash else ""
        parts.append(
            f'<polyline class="line c{line.colour % COLOURS}{dash}" '
            f'points="{_points(frame, line.x, line.y)}"><title>{markup(line.name)}</title>'
            "</polyline>"
        )
    parts += [_mark(frame, mark) for mark in marks]
    parts.append("</svg>")
    return "\n".join(parts)


def _vertical(frame: Frame, x_value: float, label: str, top: int, bottom: int) -> str:
    x = float(_x(frame, x_value))
    return (
        f'<line class="threshold" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}">'
        f"<title>{markup(label)}</title></line>"
        f'<text class="tick" x="{x + 3:.1f}" y="{top + 10}">{markup(label)}</text>'
    )


def bar_chart(
    frame: Frame,
    edges: np.ndarray,
    bars: Sequence[Bars],
    *,
    vertical: tuple[float, str] | None = None,
) -> str:
    """Bars of each group over the bins of `edges`, side by side within a bin."""
    parts = _open(frame)
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    lefts, rights = _x(frame, edges[:-1]), _x(frame, edges[1:])
    width = (rights - lefts) / max(len(bars), 1)
    for g, group in enumerate(bars):
        tops = _y(frame, group.heights)
        cells = []
        for b, (x, y, height) in enumerate(zip(lefts, tops, group.heights, strict=True)):
            tip = f"{group.name}, {edges[b]:g} to {edges[b + 1]:g}: {height:.1%}"
            cells.append(
                f'<rect x="{x + g * width[b]:.1f}" y="{y:.1f}" width="{width[b]:.1f}" '
                f'height="{bottom - y:.1f}"><title>{markup(tip)}</title></rect>'
            )
        parts.append(f'<g class="bars c{group.colour % COLOURS}">' + "".join(cells) + "</g>")
    if vertical is not None:
        parts.append(_vertical(frame, *vertical, top, bottom))
    parts.append("</svg>")
    return "\n".join(parts)


def heat_map(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    counts: np.ndarray,
    shares: np.ndarray,
    *,
    with_shares: bool,
) -> str:
    """A K×K grid: rows true, columns predicted, each cell shaded by its share of the row and
    holding its count (and share, when `with_shares`)."""
    k = len(labels)
    label_space = 24 + 7 * max((len(_short(name)) for name in labels), default=1)
    cell = max(min((WIDTH - label_space) // max(k, 1), 64), 14)
    size = label_space + cell * k
    parts = _svg(chart_id, title, description, size + 8, size + 8, kind="heat")
    parts += [
        f'<text class="label" x="{label_space + cell * k / 2:.1f}" y="12" '
        'text-anchor="middle">predicted</text>',
        f'<text class="label" transform="translate(12 {label_space + cell * k / 2:.1f}) '
        'rotate(-90)" text-anchor="middle">true</text>',
    ]
    font = 11 if cell >= 40 else 9
    for j, name in enumerate(labels):
        x = label_space + (j + 0.5) * cell
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{label_space - 6}" text-anchor="start" '
            f'transform="rotate(-45 {x:.1f} {label_space - 6})">{markup(_short(name))}</text>'
        )
        y = label_space + (j + 0.5) * cell + 4
        parts.append(
            f'<text class="tick" x="{label_space - 6}" y="{y:.1f}" text-anchor="end">'
            f"{markup(_short(name))}</text>"
        )
    for i in range(k):
        for j in range(k):
            x, y = label_space + j * cell, label_space + i * cell
            share = float(shares[i, j])
            count = amount(counts[i, j].item())  # a sum of sample weights, or a count
            tip = f"true {labels[i]}, predicted {labels[j]}: {count} ({share:.1%})"
            dark = " on-dark" if share > 0.5 else ""
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell}" height="{cell}" '
                f'fill-opacity="{0.06 + 0.94 * share:.3f}"><title>{markup(tip)}</title></rect>'
            )
            text = count
            lines = [text, f"{share:.0%}"] if with_shares else [text]
            for n, line in enumerate(lines):
                offset = (n - (len(lines) - 1) / 2) * (font + 2) + font / 3
                middle, baseline = x + cell / 2, y + cell / 2 + offset
                parts.append(
                    f'<text class="value{dark}" x="{middle:.1f}" y="{baseline:.1f}" '
                    f'font-size="{font}" text-anchor="middle">{line}</text>'
                )
    parts.append("</svg>")
    return "\n".join(parts)


def _short(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
