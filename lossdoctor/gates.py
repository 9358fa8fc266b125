"""Metric gates: bounds a team agreed on, such as `roc_auc >= 0.9`, checked after the checks.

A gate is read by a small regular expression, never evaluated as code. A failed gate is a
finding (check `gate`, severity error), so it fails the run exactly like a broken file does.
A gate on a metric the data leaves undefined fails too: CI must not pass what it cannot measure.
"""

from __future__ import annotations

import difflib
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


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {_number(self.bound)}"


def parse_gate(text: str) -> Gate:
    """`roc_auc >= 0.9` -> Gate; an InputError that says what is wrong and lists the metrics."""
    match = _GATE.fullmatch(text)
    if match is None:
        raise InputError(f"cannot read the gate {text!r}; write {FORM}")
    metric = match["metric"]
    if metric not in METRIC_NAMES:
        close = difflib.get_close_matches(metric, METRIC_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(
            f"unknown metric {metric!r} in the gate {text!r}{hint}; "
            f"metrics: {', '.join(METRIC_NAMES)}"
        )
    return Gate(metric, match["op"], float(match["bound"]))


def evaluate(gates: Iterable[Gate], metrics: Metrics) -> list[Finding]:
    """One error finding per gate that fails on these metrics; passing gates say nothing."""
    return [finding for gate in gates if (finding := _failure(gate, metrics)) is not None]


def _failure(gate: Gate, metrics: Metrics) -> Finding | None:
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
            f"the gate requires it to be {_WORDS[gate.op]} {_number(gate.bound)}."
        )
    return Finding(
        check=ID,
        severity=SEVERITY,
        title=f"Gate failed: {gate}",
        message=message,
        evidence={
            "gate": str(gate),
            "metric": gate.metric,
            "operator": gate.op,
            "bound": gate.bound,
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
