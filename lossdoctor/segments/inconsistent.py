"""inconsistent-segments: a file (or a --by segment) saved differently from the others.

Each segment's survey is read as inference reads the whole data's: what its scores are by their
range (probabilities, logits), how its labels are encoded, which classes it holds. A segment
that differs from the rest, where the rest agree, was written by another worker, another
version of the pipeline or another day's export: the one reading the whole data gets (logits
for every row, say) is wrong for some of them, and every number mixes the two.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from lossdoctor.checks.base import Finding, Severity, counted
from lossdoctor.errors import InputError
from lossdoctor.infer import Plan, Survey
from lossdoctor.infer.labels import decide_labels
from lossdoctor.infer.scores import kind_from_range
from lossdoctor.segments.surveys import SegmentSurveys, shown

ID = "inconsistent-segments"
SEVERITY = Severity.ERROR
WHY = (
    "When one file of a dataset holds logits and the others probabilities, or its labels are "
    "-1/+1 where the others' are 0/1, no single reading fits every row: every metric of the "
    "dataset mixes two kinds of numbers."
)
FIX = (
    "re-export the segments named with the code that wrote the others (or convert them), or "
    "diagnose them apart: lossdoctor check FILE"
)
# A segment lacks a class the rest hold only when it should have held this many rows of it:
# the chance of none by sampling alone is then below e**-20.
MIN_EXPECTED_ROWS = 20.0
# Disjoint score ranges are told apart from a segment of one class only among this many.
MIN_SEGMENTS_FOR_RANGES = 3
SHOWN = 10  # segments named in a finding
MIN_ROWS_READ = 100


def check(plan: Plan, surveys: SegmentSurveys) -> list[Finding]:
    """One error per segmentation whose segments disagree, naming them and what differs."""
    found = []
    for by, segments in surveys.items():
        if segments is None or len(segments) < 2:
            continue
        differences = _differences(plan, shown(segments))
        if differences:
            found.append(_finding(plan, by, differences))
    return found


def _differences(plan: Plan, segments: Mapping[Any, Survey]) -> dict[Any, list[str]]:
    """segment -> what differs from the rest, for each segment that differs."""
    differs: dict[Any, list[str]] = {}
    for name, reading in (("scores", _kind), ("labels", _encoding)):
        read = {value: reading(plan, survey) for value, survey in segments.items()}
        rows = Counter()
        for value, said in read.items():
            if said is not None:
                rows[said] += segments[value].finite_rows
        if len(rows) < 2:
            continue
        usual = rows.most_common(1)[0][0]
        held = _values_of([s for v, s in segments.items() if read[v] == usual])
        for value, said in read.items():
            if said is None or said == usual:
                continue
            if name == "labels" and np.isin(segments[value].values, held).all():
                continue  # labels the others hold too (a file of 1s among -1/+1 files)
            differs.setdefault(value, []).append(f"{name} are {said} (the others': {usual})")
    for value, missing in _missing_classes(plan, segments).items():
        shown_classes = ", ".join(str(c) for c in missing[:5])
        differs.setdefault(value, []).append(f"no row of class {shown_classes}")
    if len(segments) >= MIN_SEGMENTS_FOR_RANGES:
        for value in _disjoint_ranges(segments):
            survey = segments[value]
            low, high = _range(survey)
            differs.setdefault(value, []).append(
                f"scores from {low:.4g} to {high:.4g}, apart from all the others'"
            )
    return differs


def _values_of(surveys: list[Survey]) -> np.ndarray:
    return np.unique(np.concatenate([s.values for s in surveys])) if surveys else np.zeros(0)


def _kind(plan: Plan, survey: Survey) -> str | None:
    """What the segment's scores are by their range alone; None where that cannot tell (a
    few logits may all lie in [0, 1]: a segment is read alone from MIN_ROWS_READ rows)."""
    if survey.finite_rows < MIN_ROWS_READ or plan.options.from_logits is not None:
        return None
    low, high = _range(survey)
    try:
        kind = kind_from_range(
            low,
            high,
            task=plan.task,
            score_width=plan.score_width,
            rows=survey.finite_rows,
            from_logits=None,
            declared=None,
            source="",
        )
    except InputError:
        return None
    return None if isinstance(kind, str) else kind[0].value


def _encoding(plan: Plan, survey: Survey) -> str | None:
    """How the segment's labels are encoded, read alone; None where it cannot be read (a
    segment of fewer than MIN_ROWS_READ rows, whose few values say little)."""
    if survey.finite_rows < MIN_ROWS_READ or survey.label_width:
        return None
    options = plan.options
    try:
        labels = decide_labels(
            survey, plan.task, plan.n_classes, options.positive_label, options.classes
        )
    except InputError:
        return None
    return labels.encoding.name


def _range(survey: Survey) -> tuple[float, float]:
    return float(np.min(survey.group_low)), float(np.max(survey.group_high))


def _missing_classes(plan: Plan, segments: Mapping[Any, Survey]) -> dict[Any, list[Any]]:
    """segment -> the label values of a class it holds no row of, though its size and the
    class's share of the rows make that a near certainty not to happen by chance."""
    whole = plan.survey
    if whole.label_width or not whole.finite_rows:
        return {}
    usable = plan.labels.usable_values
    classes = whole.values if usable is None else whole.values[usable]
    counts = whole.counts if usable is None else whole.counts[usable]
    share = counts / max(float(counts.sum()), 1.0)
    missing: dict[Any, list[Any]] = {}
    for value, survey in segments.items():
        absent = ~np.isin(classes, survey.values)
        expected = survey.finite_rows * share
        lacking = classes[absent & (expected >= MIN_EXPECTED_ROWS)]
        if lacking.size:
            missing[value] = [_plain(c) for c in lacking]
    return missing


def _disjoint_ranges(segments: Mapping[Any, Survey]) -> list[Any]:
    """Segments of MIN_ROWS_READ rows or more whose scores lie wholly above or below every
    other segment's."""
    held = [(v, *_range(s)) for v, s in segments.items() if s.finite_rows]
    if len(held) < 2:
        return []
    lows = np.array([h[1] for h in held])
    highs = np.array([h[2] for h in held])
    # the lowest low and highest high of the others: the second extreme where one holds the first
    low_order, high_order = np.argsort(lows, kind="stable"), np.argsort(-highs, kind="stable")
    apart = []
    for i, (value, low, high) in enumerate(held):
        if segments[value].finite_rows < MIN_ROWS_READ:
            continue  # a few rows may lie anywhere
        rest_low = lows[low_order[1] if low_order[0] == i else low_order[0]]
        rest_high = highs[high_order[1] if high_order[0] == i else high_order[0]]
        if high < rest_low or low > rest_high:
            apart.append(value)
    return apart


def _finding(plan: Plan, by: str, differences: dict[Any, list[str]]) -> Finding:
    named = list(differences.items())
    listed = "; ".join(f"{_shown(v)}: {', '.join(d)}" for v, d in named[:SHOWN])
    read_apart = any(d.startswith(("scores are", "labels are")) for _, ds in named for d in ds)
    consequence = (
        f"The whole data was read as one ({plan.kind.value} scores, {plan.encoding.name} "
        "labels): that reading is wrong for some rows, and every number mixes them."
        if read_apart
        else "Rows were cut or filtered differently there: every number of the whole data "
        "mixes them."
    )
    more = f"; and {len(named) - SHOWN} more" if len(named) > SHOWN else ""
    where = ("file", "files") if by == "file" else (f"segment of {by}", f"segments of {by}")
    return Finding(
        check=ID,
        severity=SEVERITY,
        title=f"{counted(len(named), *where)} saved differently from the rest",
        message=f"{listed}{more}. {consequence}",
        evidence={
            "by": by,
            "segments": {str(_shown(v)): d for v, d in named},
            "read_as": {"scores": plan.kind.value, "labels": plan.encoding.name},
            "min_expected_rows": MIN_EXPECTED_ROWS,
        },
        fix=FIX,
        why=WHY,
    )


def _shown(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "null"
    return value


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
