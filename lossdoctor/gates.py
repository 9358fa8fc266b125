"""Metric gates: bounds a team agreed on, such as `roc_auc >= 0.9`, checked after the checks.

A gate is read by a small regular expression, never evaluated as code. A failed gate is a
finding (check `gate`, severity error), so it fails the run exactly like a broken file does.
A gate on a metric the data leaves undefined fails too: CI must not pass what it cannot measure.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.errors import InputError
from lossdoctor.metrics import METRIC_NAMES, Metrics

ID = "gate"
SEVERITY = Severity.ERROR
WHY = (
    "A gate is a bound your team agreed on for a metric. A model below it must not reach the main "
    "branch unnoticed, and a metric that cannot be computed on the data passes no bound."
)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_WORDS = {">=": "at least", ">": "above", "<=": "at most", "<": "below", "==": "exactly"}
# Two-character operators first, so that ">=" is not read as ">" and "=0.9".
_GATE = re.compile(
    r"\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|==|>|<)\s*"
    r"(?P<bound>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
)
FORM = "METRIC OP NUMBER with OP one of >= > <= < ==, e.g. 'roc_auc >= 0.9'"
# `lossdoctor compare` also takes bounds relative to the baseline's value of the metric.
_RELATIVE = re.compile(
    r"\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|==|>|<)\s*baseline\s*"
    r"(?:(?P<sign>[-+])\s*(?P<margin>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?))?\s*"
)


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    bound: float  # relative to the baseline: the margin added to its value
    relative: bool = False

    def __str__(self) -> str:
        if not self.relative:
            return f"{self.metric} {self.op} {_number(self.bound)}"
        if self.bound == 0:
            return f"{self.metric} {self.op} baseline"
        sign = "-" if self.bound < 0 else "+"
        return f"{self.metric} {self.op} baseline {sign} {_number(abs(self.bound))}"


def parse_gate(text: str, relative_ok: bool = False) -> Gate:
    """`roc_auc >= 0.9` -> Gate, and with `relative_ok` `roc_auc >= baseline - 0.005`; an
    InputError that says what is wrong and lists the metrics."""
    match = _GATE.fullmatch(text)
    relative = _RELATIVE.fullmatch(text)
    if relative is not None and not relative_ok:
        raise InputError(f"the gate {text!r} names the baseline: use it with lossdoctor compare")
    if relative is not None:
        match = relative
    if match is None:
        raise InputError(f"cannot read the gate {text!r}; write {FORM}")
    metric = match["metric"]
    if metric not in METRIC_NAMES:
        from difflib import get_close_matches  # for a typo's hint only

        close = get_close_matches(metric, METRIC_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(
            f"unknown metric {metric!r} in the gate {text!r}{hint}; "
            f"metrics: {', '.join(METRIC_NAMES)}"
        )
    if relative is None:
        return Gate(metric, match["op"], float(match["bound"]))
    margin = float(match["margin"] or 0.0)
    return Gate(metric, match["op"], -margin if match["sign"] == "-" else margin, relative=True)


def evaluate(gates: Iterable[Gate], metrics: Metrics) -> list[Finding]:
    """One error finding per gate that fails on these metrics; passing gates say nothing."""
    return [finding for gate in gates if (finding := _failure(gate, metrics)) is not None]


def evaluate_against(gates: Iterable[Gate], baseline: Metrics, candidate: Metrics) -> list[Finding]:
    """The gates of a comparison on the candidate's metrics; a gate naming the baseline is
    bounded by the baseline's value plus its margin (and fails where that is undefined)."""
    found = []
    for gate in gates:
        if not gate.relative:
            finding = _failure(gate, candidate)
        else:
            value = baseline.values.get(gate.metric)
            if value is None:
                finding = _failure(gate, candidate, "undefined for the baseline")
            else:
                finding = _failure(
                    Gate(gate.metric, gate.op, value + gate.bound), candidate, shown=gate
                )
                if finding is not None:
                    finding.evidence["baseline"] = value
        if finding is not None:
            found.append(finding)
    return found


def _failure(
    gate: Gate, metrics: Metrics, unmeasured: str | None = None, shown: Gate | None = None
) -> Finding | None:
    if unmeasured is not None:
        message = f"{gate.metric} is {unmeasured}, so the gate {gate} cannot pass."
        return _finding(gate, message, None, unmeasured)
    value = metrics.values.get(gate.metric)
    reason = None
    if gate.metric not in metrics.values:
        reason = "not computed for this task"
        message = f"{gate.metric} is {reason}, so the gate {gate} cannot pass."
    elif value is None:
        reason = metrics.undefined.get(gate.metric, "undefined for this data")
        message = f"{gate.metric} is undefined here ({reason}), so the gate {gate} cannot pass."
    elif OPERATORS[gate.op](value, gate.bound):
        return None
    else:
        message = (
            f"{gate.metric} is {_shown(value, gate.bound)}; "
            f"the gate requires it to be {_WORDS[gate.op]} {_number(gate.bound)}"
            + (f" ({shown})." if shown is not None else ".")
        )
    return _finding(shown or gate, message, value, reason, gate.bound)


def _finding(
    gate: Gate, message: str, value: float | None, reason: str | None, bound: float | None = None
) -> Finding:
    return Finding(
        check=ID,
        severity=SEVERITY,
        title=f"Gate failed: {gate}",
        message=message,
        evidence={
            "gate": str(gate),
            "metric": gate.metric,
            "operator": gate.op,
            "bound": gate.bound if bound is None else bound,
            "value": value,
            "reason": reason,
        },
        why=WHY,
    )


def _number(x: float) -> str:
    """0.9 as 0.9, but every digit of a bound that needs them."""
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def _shown(value: float, bound: float) -> str:
    """Four digits, unless rounding would make the value look like the bound it missed."""
    short = f"{value:.4g}"
    return repr(float(value)) if float(short) == bound else short
