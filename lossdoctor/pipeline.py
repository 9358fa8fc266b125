"""One straight road: predictions -> prepared arrays -> metrics and findings -> report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from lossdoctor.checks import BY_ID, run_checks
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.errors import InputError
from lossdoctor.gates import Gate, evaluate
from lossdoctor.infer import Options, Prepared, prepare
from lossdoctor.io import Predictions
from lossdoctor.metrics import Metrics, binary_metrics, multiclass_metrics, multilabel_metrics
from lossdoctor.report import FAIL_ON, InputInfo, Report


@dataclass(frozen=True)
class Rules:
    """What a run enforces beyond describing the data: which checks run, how severe their
    findings count, and the metric gates. Check ids are validated where they are read."""

    select: tuple[str, ...] = ()  # run only these checks; empty: every check
    disable: tuple[str, ...] = ()  # never run these
    severity: Mapping[str, Severity] = field(default_factory=dict)  # check id or "gate"
    gates: tuple[Gate, ...] = ()

    def checks(self) -> list[str]:
        """The ids of the checks to run, in registry order."""
        chosen = self.select or tuple(BY_ID)
        return [check for check in BY_ID if check in chosen and check not in self.disable]


def diagnose_predictions(
    predictions: Predictions,
    options: Options,
    fail_on: str = "error",
    rules: Rules | None = None,
) -> Report:
    """Infer what the predictions are, compute every metric, run the checks, then the gates on
    the metrics; the report is built once, with every finding."""
    if fail_on not in FAIL_ON:
        raise InputError(f"unknown --fail-on {fail_on!r}; use one of {', '.join(FAIL_ON)}")
    rules = rules or Rules()
    data = prepare(predictions, options)
    metrics = compute_metrics(data)
    found = [*run_checks(data, metrics, rules.checks()), *evaluate(rules.gates, metrics)]
    return Report(
        input=InputInfo(
            paths=(predictions.source,),
            format=predictions.format,
            rows=data.n_rows,
            rows_used=int(data.usable.sum()),
            label_columns=predictions.label_columns,
            prediction_columns=predictions.prediction_columns,
        ),
        task=data.task,
        n_classes=data.n_classes,
        class_labels=data.class_labels,
        prediction_kind=data.kind,
        kind_source=data.kind_source,
        transform=data.transform,
        threshold=options.threshold,
        findings=_worst_first(found, rules.severity),
        metrics=metrics,
        fail_on=fail_on,
    )


def compute_metrics(data: Prepared) -> Metrics:
    if data.task == "binary":
        return binary_metrics(data.y, data.proba, data.options.threshold)
    if data.task == "multiclass":
        return multiclass_metrics(data.y, data.proba)
    return multilabel_metrics(data.y, data.proba, data.options.threshold)


def _worst_first(
    findings: Iterable[Finding], severity: Mapping[str, Severity]
) -> tuple[Finding, ...]:
    """Severity overrides applied, then worst first; a stable sort keeps the registry order."""
    overridden = [
        replace(f, severity=severity[f.check]) if f.check in severity else f for f in findings
    ]
    return tuple(sorted(overridden, key=lambda f: -f.severity))
