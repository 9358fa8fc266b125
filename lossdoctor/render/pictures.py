"""Pictures drawn with characters: the confusion heat map, score histograms, reliability bars.

They only turn numbers the metrics already hold into shades and bar lengths; nothing here
computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.table import Table
from rich.text import Text

from lossdoctor.metrics import Calibration, ClassMetrics, Histogram
from lossdoctor.render.escape import visible
from lossdoctor.render.glyphs import Glyphs
from lossdoctor.render.words import amount

# Shades of the heat map, faint to full: green where the model is right, red where it confuses.
RIGHT_SHADES = ("#005f00", "#008700", "#00af00", "#00d700", "#5fff5f")
WRONG_SHADES = ("#5f0000", "#870000", "#af0000", "#d70000", "#ff5f5f")
GROUP_STYLES = ("dodger_blue1", "orange1", "green3")
PREDICTED_STYLE = "grey50"
OBSERVED_STYLE = "bold green3"
LABEL_WIDTH = 8  # longer class names are shortened in picture headers


def short(name: object, glyphs: Glyphs, width: int = LABEL_WIDTH) -> Text:
    """A class name cut to fit a narrow column; Text, as a label such as "[/x]" is no markup."""
    text = visible(name)
    return Text(text if len(text) <= width else text[: width - len(glyphs.more)] + glyphs.more)


# ---- confusion heat map ------------------------------------------------------------------------


def _shade(share: float, right: bool) -> str:
    """Background for a cell; the square root lifts small confusions out of the dark."""
    if share <= 0:
        return "dim"
    shades = RIGHT_SHADES if right else WRONG_SHADES
    level = min(len(shades) - 1, int(math.sqrt(share) * len(shades)))
    text = "black" if level >= 3 else "white"
    return f"{text} on {shades[level]}"


def heat_map(
    labels: Sequence[object],
    confusion: np.ndarray,
    per_class: Sequence[ClassMetrics],
    glyphs: Glyphs,
    *,
    with_shares: bool,
    with_scores: bool,
    label_width: int = LABEL_WIDTH,
) -> Table:
    """Counts (and row percentages) shaded by the row's share; recall and precision alongside.
    Class names longer than `label_width` are shortened, with an ellipsis."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
    table.add_column("true\\pred", style="bold", no_wrap=True)
    for label in labels:
        table.add_column(short(label, glyphs, label_width), justify="right", no_wrap=True)
    if with_scores:
        table.add_column("recall", justify="right", style="dim", no_wrap=True)
    row_totals = confusion.sum(axis=1)
    for i, label in enumerate(labels):
        cells = []
        for j, count in enumerate(confusion[i]):
            share = count / row_totals[i] if row_totals[i] else 0.0
            text = amount(count.item()) + (f" {share:>4.0%}" if with_shares else "")
            cells.append(Text(text, style=_shade(share, right=i == j)))
        recall = [f"{per_class[i].recall:.2f}"] if with_scores else []
        table.add_row(short(label, glyphs, label_width), *cells, *recall)
    if with_scores:
        precision = [f"{c.precision:.2f}" for c in per_class]
        table.add_row(Text("precision", style="dim"), *precision, "", style="dim")
    return table


def confused_pairs(
    labels: Sequence[object], confusion: np.ndarray, glyphs: Glyphs, limit: int
) -> Table:
    """The largest off-diagonal cells, for a matrix too large to draw."""
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:limit]
    row_totals = confusion.sum(axis=1)
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
    for name, justify in (("true", "left"), ("predicted", "left"), ("rows", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    table.add_column("of true", justify="right")
    for flat in order:
        i, j = divmod(int(flat), confusion.shape[1])
        if off[i, j] == 0:
            break
        share = off[i, j] / row_totals[i]
        style = _shade(share, right=False)
        table.add_row(
            short(labels[i], glyphs, 16),
            short(labels[j], glyphs, 16),
            amount(off[i, j].item()),
            Text(f"{share:.0%}", style=style),
        )
    return table


# ---- vertical bars -----------------------------------------------------------------------------


def _eighths(value: float, top: float, height: int) -> int:
    """Bar length in eighths of a cell; anything above zero shows at least one eighth."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, round(value / top * height * 8))


def _bar_cell(eighths: int, level: int, glyphs: Glyphs) -> str:
    return glyphs.bar(eighths - level * 8)


def histogram(
    hist: Histogram, glyphs: Glyphs, *, height: int, bin_width: int, marker: float | None
) -> Text:
    """One block of bars per group over [0, 1], each scaled to its own peak."""
    label_width = max(len(g) for g in hist.groups) if len(hist.groups) > 1 else 0
    label_width = max(label_width, len(f"peak {amount(hist.counts.max().item())}"))
    lines = Text()
    for g, (name, counts) in enumerate(zip(hist.groups, hist.counts, strict=True)):
        peak = counts.max().item()
        bars = [_eighths(c, peak, height) for c in counts]
        side = [name if len(hist.groups) > 1 else "", f"peak {amount(peak)}"]
        style = GROUP_STYLES[g % len(GROUP_STYLES)]
        if g:  # a gap, so a low bar of one group never reads as the top of the next
            lines.append(f"{'':>{label_width}} {glyphs.axis}\n", style="dim")
        for row in range(height):
            level = height - 1 - row
            label = side[row] if row < len(side) else ""
            lines.append(f"{label:>{label_width}} {glyphs.axis}", style="dim")
            cells = "".join(_bar_cell(e, level, glyphs) * bin_width for e in bars)
            lines.append(cells + "\n", style=style)
    width = len(hist.counts[0]) * bin_width
    lines.append(" " * (label_width + 2) + _x_axis(width, marker, glyphs), style="dim")
    return lines


def _x_axis(width: int, marker: float | None, glyphs: Glyphs) -> str:
    """0 and 1 under the ends; the threshold's tick (or .5) under the column where it falls."""
    at = 0.5 if marker is None else marker
    label = ".5" if marker is None else f"{glyphs.tick}{marker:g}"
    start = int(at * width) - (1 if marker is None else 0)
    start = max(2, min(start, width - 2 - len(label)))
    return ("0" + " " * (start - 1) + label).ljust(width - 1) + "1"


def reliability(cal: Calibration, glyphs: Glyphs, *, height: int) -> Text:
    """For each bin a pair of bars: mean predicted probability, then what happened."""
    predicted = [_eighths(p, 1.0, height) for p in cal.predicted]
    observed = [_eighths(o, 1.0, height) for o in cal.observed]
    lines = Text()
    for row in range(height):
        level = height - 1 - row
        edge = "1" if row == 0 else ("0" if row == height - 1 else " ")
        lines.append(f"{edge}{glyphs.axis}", style="dim")
        for p, o in zip(predicted, observed, strict=True):
            lines.append(" ")
            lines.append(_bar_cell(p, level, glyphs), style=PREDICTED_STYLE)
            lines.append(_bar_cell(o, level, glyphs), style=OBSERVED_STYLE)
            lines.append(" ")
        lines.append("\n")
    labels = "".join(f"{round(p * 100):^4}" for p in cal.predicted)
    lines.append("  " + labels.rstrip(), style="dim")
    return lines
