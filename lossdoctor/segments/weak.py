"""weak-segment: a segment (--by) whose accuracy is significantly below the rest of the rows.

Segments are ranked by how significantly each differs from the rest of the rows.

A segment is compared with the rows outside it on accuracy: the difference of the two
proportions, Newcombe's interval of it (from both Wilson intervals, method 10 of Newcombe
1998), and the two-proportion score test's p-value, Holm-corrected over every segment tested.
Ranking by significance, not by the raw value, keeps a 12-row segment at 0.5 below a
40,000-row one at 0.85 against 0.93: the first may be noise, the second is not. Segments
smaller than --min-segment-rows are not tested at all.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lossdoctor.checks.base import Finding, Severity, counted
from lossdoctor.segments.results import Segment
from lossdoctor.segments.totals import SegmentTotals
from lossdoctor.stats import Interval
from lossdoctor.stats.distributions import normal_two_sided
from lossdoctor.stats.multiple import holm
from lossdoctor.stats.proportions import wilson_interval

ID = "weak-segment"
SEVERITY = Severity.WARNING
WHY = (
    "A model can be fine overall and useless for one country, device or day. The rows of such "
    "a segment are outvoted by the rest in every overall number."
)
FIX = (
    "look at the segment's rows: more training data like them, a feature that tells them "
    "apart, or a model of their own"
)
MAX_FINDINGS = 5  # the weakest segments that become findings; the section lists the rest


def versus_rest(totals: SegmentTotals, confidence: float) -> list[tuple[float, Interval, float]]:
    """Per segment: its accuracy less the rest's, Newcombe's interval of that, the p-value."""
    hits = np.trace(totals.confusion, axis1=1, axis2=2).astype(np.float64).tolist()
    rows = totals.rows.astype(np.float64).tolist()
    all_hits, all_rows = float(sum(hits)), float(sum(rows))
    found = []
    for h, n in zip(hits, rows, strict=True):
        rest_h, rest_n = all_hits - h, all_rows - n
        if n <= 0 or rest_n <= 0:
            found.append((math.nan, Interval(math.nan, math.nan), math.nan))
            continue
        p1, p2 = h / n, rest_h / rest_n
        low1, high1 = wilson_interval(h, n, confidence)
        low2, high2 = wilson_interval(rest_h, rest_n, confidence)
        d = p1 - p2
        interval = Interval(
            d - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2),
            d + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2),
        )
        pooled = (h + rest_h) / (n + rest_n)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        p_value = 1.0 if spread == 0 else normal_two_sided(d / spread)
        found.append((d, interval, p_value))
    return found


def rank_segments(
    segments: list[Segment], totals: SegmentTotals, confidence: float, min_rows: int
) -> list[Segment]:
    """The segments with their difference from the rest, worst first: those tested (at least
    min_rows rows; not when the rows are weighted) by significance of a shortfall, then the
    others by size."""
    if totals.weighted or len(segments) < 2:
        return sorted(segments, key=lambda s: -s.rows)
    compared = versus_rest(totals, confidence)
    tested = [
        i for i, s in enumerate(segments) if s.rows >= min_rows and not math.isnan(compared[i][0])
    ]
    adjusted = holm([compared[i][2] for i in tested]) if tested else np.zeros(0)
    position = {i: at for at, i in enumerate(tested)}  # untested segments get no p-value
    ranked = []
    for i, segment in enumerate(segments):
        d, interval, _ = compared[i]
        at = position.get(i)
        ranked.append(
            replace(
                segment,
                difference=None if math.isnan(d) else d,
                difference_ci=None if math.isnan(d) else interval,
                p_value=None if at is None else float(adjusted[at]),
            )
        )

    def order(s: Segment) -> tuple:
        if s.p_value is None or s.difference is None:
            return (2, 0.0, -s.rows)
        # worse than the rest first, the most significant shortfall first
        return (
            0 if s.difference < 0 else 1,
            s.p_value if s.difference < 0 else -s.p_value,
            -s.rows,
        )

    return sorted(ranked, key=order)


def weak(segment: Segment, confidence: float) -> bool:
    """Significantly less accurate than the rest, after Holm's correction."""
    return (
        segment.difference is not None
        and segment.difference < 0
        and segment.p_value is not None
        and segment.p_value < 1 - confidence
        and segment.difference_ci is not None
        and segment.difference_ci.high < 0
    )


def finding(segment: Segment, confidence: float) -> Finding:
    accuracy = segment.metrics["accuracy"]
    rest = accuracy - segment.difference
    low, high = segment.difference_ci
    return Finding(
        check=ID,
        severity=SEVERITY,
        title=f"{segment.by} = {segment.value}: accuracy {accuracy:.3f} against {rest:.3f}",
        message=(
            f"The {counted(segment.rows, 'row', 'rows')} where {segment.by} is "
            f"{segment.value} are {-segment.difference:.3f} less accurate than the rest "
            f"({confidence:.0%} interval of the difference {low:.3f} to {high:.3f}; "
            f"p = {segment.p_value:.2g} after Holm's correction over the segments)."
        ),
        evidence={
            "by": segment.by,
            "value": segment.value,
            "rows": segment.rows,
            "accuracy": accuracy,
            "accuracy_rest": rest,
            "difference": segment.difference,
            "difference_ci": [low, high],
            "p_value_holm": segment.p_value,
            "roc_auc": segment.metrics.get("roc_auc"),
            "confidence": confidence,
        },
        fix=FIX,
        why=WHY,
    )
