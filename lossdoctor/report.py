"""The report: the one object every renderer reads, and its JSON form."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.metrics import Metrics
from lossdoctor.settings import FAIL_ON
from lossdoctor.stats import Interval

# Bumped on any incompatible change of to_dict(): a key removed, renamed or retyped, or a new
# value of an enum in schema/report.schema.json. A new key or check id keeps it (README).
SCHEMA_VERSION = 1
# How a Report shows itself ("rich": a renderable; "text/html": a notebook's HTML; "text/plain":
# the terminal report as text), filled in by lossdoctor.render when the package is imported:
# the model never imports a renderer.
VIEWS: dict[str, Callable[[Report], Any]] = {}


@dataclass(frozen=True)
class InputInfo:
    """Where the rows came from and which columns were read."""

    paths: tuple[str, ...]
    format: str
    rows: int
    rows_used: int
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    unit: str = "rows"  # what a row is: "tokens" for token classification (N, T, K) outputs
    weight_column: str = ""  # the sample weights' column; '' when rows are not weighted
    weight_used: float = 0.0  # the usable rows' summed weights


@dataclass(frozen=True)
class Report:
    """A diagnosis of one set of predictions: findings first, then the numbers."""

    input: InputInfo
    task: str
    n_classes: int
    class_labels: tuple
    class_order: str  # why class i is the class it is: one of infer.CLASS_ORDERS
    prediction_kind: str
    kind_source: str
    transform: str
    threshold: float
    findings: tuple[Finding, ...]
    metrics: Metrics
    fail_on: str  # one of settings.FAIL_ON
    confidence: float  # the level of metrics_ci
    # the confidence interval of each metric that has one (lossdoctor.stats.intervals), and
    # for those read off a grid, how far each end can be from the exact scores'
    metrics_ci: Mapping[str, Interval] = field(default_factory=dict)
    metrics_ci_error_bound: Mapping[str, float] = field(default_factory=dict)
    # --by: every segment (lossdoctor.segments.Segment), each --by's worst first
    segments: tuple[Any, ...] = ()
    segments_shown: int = 20  # --top: the segments of each --by the renderers show

    @property
    def exit_code(self) -> int:
        """0 when no finding reaches --fail-on, 1 otherwise (2 is for input errors, never here)."""
        level = FAIL_ON[self.fail_on]
        failed = level is not None and any(f.severity >= level for f in self.findings)
        return int(failed)

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def _weights(self) -> dict[str, Any]:
        """Only weighted reports say so: an unweighted report stays as it was."""
        if not self.input.weight_column:
            return {}
        return {"weight_column": self.input.weight_column, "weight_used": self.input.weight_used}

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: plain types only, None (null) for undefined or non-finite numbers."""
        metrics = self.metrics
        labels = [_plain(label) for label in self.class_labels]
        report = {
            "schema_version": SCHEMA_VERSION,
            "input": {
                "paths": list(self.input.paths),
                "format": self.input.format,
                "rows": self.input.rows,
                "rows_used": self.input.rows_used,
                "label_columns": list(self.input.label_columns),
                "prediction_columns": list(self.input.prediction_columns),
                "unit": self.input.unit,
                **self._weights(),
            },
            "task": self.task,
            "n_classes": self.n_classes,
            "class_order": self.class_order,
            "prediction_kind": self.prediction_kind,
            "prediction_kind_source": self.kind_source,
            "transform": self.transform,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": dict(metrics.values),
            "undefined_metrics": dict(metrics.undefined),
            "metrics_error_bound": dict(metrics.error_bound),
            "metric_notes": dict(metrics.notes),
            "metrics_ci": {name: list(ends) for name, ends in self.metrics_ci.items()},
            "metrics_ci_level": self.confidence,
            "metrics_ci_error_bound": dict(self.metrics_ci_error_bound),
            "per_class": [
                {"label": labels[c.index], **_fields(c, exclude=("index",))}
                for c in metrics.per_class
            ],
            "threshold": self.threshold,
            "confusion_matrix": {"labels": labels, "matrix": metrics.confusion.tolist()},
            "calibration": _fields(metrics.calibration),
            "histogram": _fields(metrics.histogram),
            "exit_code": self.exit_code,
        }
        if self.task == "binary":
            report["thresholds"] = [_fields(row) for row in metrics.thresholds]
        if self.segments:
            report["segments"] = [segment.to_dict() for segment in self.segments]
        return _plain(report)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __rich__(self):
        return VIEWS["rich"](self)

    def _repr_html_(self) -> str:
        """The HTML report (--format html), with its charts, for a notebook."""
        return VIEWS["text/html"](self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """Notebooks show the HTML report; plain text is the terminal report."""
        return {"text/plain": VIEWS["text/plain"](self), "text/html": self._repr_html_()}


@dataclass(frozen=True)
class FailedInput:
    """A path that could not be diagnosed, in a run over several: its error takes the place of
    its report, so outputs keep one entry per path, in order."""

    path: str
    message: str  # one line, as printed on stderr
    exit_code: int = 2

    def _weights(self) -> dict[str, Any]:
        """Only weighted reports say so: an unweighted report stays as it was."""
        if not self.input.weight_column:
            return {}
        return {"weight_column": self.input.weight_column, "weight_used": self.input.weight_used}

    def to_dict(self) -> dict[str, Any]:
        """What --format json prints for it: the same object as a single bad input."""
        return error_object(self.message, self.exit_code, self.path)


def error_object(message: str, exit_code: int, path: str | None = None) -> dict[str, Any]:
    """The JSON printed in place of a report: for a path that could not be diagnosed, or for a
    run that ended before any (usage, internal error: no path)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "path": path,
        "error": message,
        "exit_code": exit_code,
    }


# `lossdoctor schema --kind`: every output, or one kind of object in it.
SCHEMA_KINDS = ("any", "report", "error", "comparison")


def json_schema(kind: str = "any") -> str:
    """The JSON Schema of what --format json prints, shipped in the package: `lossdoctor schema`.
    "any" is the file as shipped; "report" and "error" point its root at that definition."""
    from importlib.resources import files

    text = (files("lossdoctor") / "schema" / "report.schema.json").read_text(encoding="utf-8")
    if kind == "any":
        return text
    schema = json.loads(text)
    title = {
        "report": "lossdoctor report",
        "error": "lossdoctor error",
        "comparison": "lossdoctor comparison",
    }[kind]
    defs = schema["$defs"]
    one = {"$schema": schema["$schema"], "title": title, "$ref": f"#/$defs/{kind}", "$defs": defs}
    return json.dumps(one, indent=2, ensure_ascii=False) + "\n"


def _fields(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k not in exclude}


def _plain(value: Any) -> Any:
    """numpy scalars to Python, NaN and infinities to None, recursively: strict JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
