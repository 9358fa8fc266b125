"""One straight road: predictions -> prepared arrays -> metrics and findings -> report."""

from __future__ import annotations

from lossdoctor.checks import run_checks
from lossdoctor.errors import InputError
from lossdoctor.infer import Options, Prepared, prepare
from lossdoctor.io import Predictions
from lossdoctor.metrics import Metrics, binary_metrics, multiclass_metrics, multilabel_metrics
from lossdoctor.report import FAIL_ON, InputInfo, Report


def diagnose_predictions(
    predictions: Predictions, options: Options, fail_on: str = "error"
) -> Report:
    """Infer what the predictions are, compute every metric, run every check."""
    if fail_on not in FAIL_ON:
        raise InputError(f"unknown --fail-on {fail_on!r}; use one of {', '.join(FAIL_ON)}")
    data = prepare(predictions, options)
    metrics = compute_metrics(data)
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
        findings=tuple(run_checks(data, metrics)),
        metrics=metrics,
        fail_on=fail_on,
    )


def compute_metrics(data: Prepared) -> Metrics:
    if data.task == "binary":
        return binary_metrics(data.y, data.proba, data.options.threshold)
    if data.task == "multiclass":
        return multiclass_metrics(data.y, data.proba)
    return multilabel_metrics(data.y, data.proba, data.options.threshold)
