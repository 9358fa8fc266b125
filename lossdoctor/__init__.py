"""lossdoctor: a doctor for saved classification predictions.

>>> import lossdoctor
>>> report = lossdoctor.diagnose(y_true, y_pred)   # numpy, pandas or lists
>>> report = lossdoctor.diagnose("preds/")         # a file, or a dataset streamed in batches
>>> report.findings, report.metrics.values, report.to_dict()
>>> lossdoctor.compare("baseline.parquet", "candidate.parquet").to_dict()   # paired tests
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

import lossdoctor.render  # noqa: F401  (gives Report its rich and notebook views)
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.config import check_ids, gates_of, parse_classes
from lossdoctor.engines import open_engine
from lossdoctor.errors import InputError
from lossdoctor.io import CategoricalLabels, from_arrays, from_columns
from lossdoctor.pipeline import diagnose as diagnose_engine
from lossdoctor.report import Report
from lossdoctor.settings import DEFAULTS, Settings

__version__ = "0.1.0"
__all__ = ["Finding", "InputError", "Report", "Settings", "Severity", "compare", "diagnose"]


def diagnose(
    y_true: Any,
    y_pred: Any = None,
    *,
    task: str | None = None,
    from_logits: bool | None = None,
    threshold: float = DEFAULTS.threshold,
    confidence: float = DEFAULTS.confidence,
    bootstrap: int = DEFAULTS.bootstrap,
    seed: int = DEFAULTS.seed,
    loss: str | None = None,
    reported_accuracy: float | None = None,
    reported_loss: float | None = None,
    positive_label: str | None = None,
    classes: str | Sequence[Any] = (),
    fail_on: str = DEFAULTS.fail_on,
    label_col: str | Sequence[str] = (),
    pred_col: str | Sequence[str] = (),
    weight_col: str | None = None,
    sample_weight: Any = None,
    gates: str | Sequence[str] = (),
    select: str | Sequence[str] = (),
    disable: str | Sequence[str] = (),
    engine: str = DEFAULTS.engine,
    scheduler: str | None = None,
    partitioning: str | None = None,
    timeout: float = DEFAULTS.timeout,
    by: str | Sequence[str] = (),
    top: int = DEFAULTS.top,
    min_segment_rows: int = DEFAULTS.min_segment_rows,
    segment_gates: str | Sequence[str] = (),
) -> Report:
    """Diagnose predictions: the same inference, checks and metrics as the CLI.

    `y_true` and `y_pred` are arrays, lists, pandas Series or DataFrames (one column per class);
    or pass a single DataFrame as `y_true` and its columns are found by the CLI's naming rules;
    or a path as `y_true`: a file, or a directory or glob of Parquet files streamed in batches
    (`engine="dask"`, `scheduler`, `timeout` and `partitioning="hive"` as `lossdoctor check`
    takes them).
    `gates` ("roc_auc >= 0.9"), `select` and `disable` (check ids) act as on the command line;
    `classes` is the class order (as scikit-learn's `labels=`, or `model.classes_`).
    `confidence` is the level of the intervals in `Report.metrics_ci`; those of F1, MCC,
    balanced accuracy, average precision and ECE come from `bootstrap` Poisson replicates
    drawn from `seed` (0 replicates: none).
    `by` segments the rows (a column, a hive key, "file", or "age:5" for quantile bins), each
    segment in `Report.segments`; `segment_gates` hold for every segment of
    `min_segment_rows` rows or more; `top` segments per `by` are shown.
    Sample weights: `weight_col` names their column (else one named sample_weight, weight or
    weights is used); with arrays, `sample_weight` as scikit-learn's metrics take it.
    """
    settings = Settings(
        task=task,
        from_logits=from_logits,
        threshold=threshold,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=seed,
        loss=loss,
        reported_accuracy=reported_accuracy,
        reported_loss=reported_loss,
        positive_label=positive_label,
        classes=_classes(classes),
        fail_on=fail_on,
        select=check_ids(list(_patterns(select)), "select"),
        disable=check_ids(list(_patterns(disable)), "disable"),
        gates=gates_of(list(_patterns(gates)), "gates"),
        label_col=_patterns(label_col),
        pred_col=_patterns(pred_col),
        weight_col=weight_col,
        engine=engine,
        scheduler=scheduler,
        partitioning=partitioning,
        timeout=timeout,
        by=_patterns(by),
        top=top,
        min_segment_rows=min_segment_rows,
        segment_gates=gates_of(list(_patterns(segment_gates)), "segment_gates"),
    )
    with open_engine(_source(y_true, y_pred, sample_weight, settings), settings) as opened:
        return diagnose_engine(opened, settings)


def _source(y_true: Any, y_pred: Any, sample_weight: Any, settings: Settings):
    """A path as it is; arrays or a DataFrame as the table they make."""
    if isinstance(y_true, (str, os.PathLike)) and y_pred is None:
        return y_true
    if y_pred is not None and settings.by:
        raise InputError("by names columns of a table: pass one DataFrame, or a file")
    if y_pred is not None:
        return from_arrays(
            _numpy(y_true),
            _numpy(y_pred),
            source="<array>",
            format="array",
            sample_weight=None if sample_weight is None else _numpy(sample_weight),
        )
    if not hasattr(y_true, "columns"):
        raise InputError("pass y_true and y_pred, or a single DataFrame with named columns")
    columns = {str(name): _numpy(y_true[name]) for name in y_true.columns}
    return from_columns(
        columns,
        source="<dataframe>",
        format="dataframe",
        label_cols=settings.label_col,
        pred_cols=settings.pred_col,
        weight_col=settings.weight_col,
        by=settings.by,
    )


def compare(
    baseline: Any,
    candidate: Any,
    *,
    id_col: str | None = None,
    unpaired_ok: bool = False,
    alpha: float = DEFAULTS.alpha,
    bootstrap: int = DEFAULTS.bootstrap,
    seed: int = DEFAULTS.seed,
    confidence: float = DEFAULTS.confidence,
    threshold: float = DEFAULTS.threshold,
    task: str | None = None,
    label_col: str | Sequence[str] = (),
    pred_col: str | Sequence[str] = (),
    weight_col: str | None = None,
    gates: str | Sequence[str] = (),
    fail_on: str = DEFAULTS.fail_on,
    engine: str = DEFAULTS.engine,
):
    """Compare a candidate's predictions (or a list of candidates') with a baseline's on the same
    rows, as `lossdoctor compare` does: each diagnosed as `check` would, then a paired test per
    metric. Each is a path (a file or a dataset) or a pandas DataFrame whose columns are found
    by the CLI's naming rules. Returns a Comparison (`.pairs`, `.findings`, `.exit_code`,
    `.to_dict()`). `gates` may name the baseline: "roc_auc >= baseline - 0.005".
    """
    from lossdoctor.comparison import Pairing, compare_paths
    from lossdoctor.gates import parse_gate

    candidates = list(candidate) if isinstance(candidate, (list, tuple)) else [candidate]
    if not candidates:
        raise InputError("give at least one candidate to compare with the baseline")
    names = ["<candidate>"]
    if len(candidates) > 1:
        names = [f"<candidate {i}>" for i in range(1, len(candidates) + 1)]
    settings = Settings(
        task=task,
        threshold=threshold,
        confidence=confidence,
        fail_on=fail_on,
        gates=tuple(parse_gate(g, relative_ok=True) for g in _patterns(gates)),
        label_col=_patterns(label_col),
        pred_col=_patterns(pred_col),
        weight_col=weight_col,
        engine=engine,
    )
    return compare_paths(
        _compared(baseline, "<baseline>"),
        [_compared(c, name) for c, name in zip(candidates, names, strict=True)],
        settings,
        Pairing(id_col, unpaired_ok, alpha, bootstrap, seed),
    )


def _compared(data: Any, name: str):
    """A path as it is; a DataFrame as its columns, named for the report."""
    from lossdoctor.comparison import Frame

    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    if not hasattr(data, "columns"):
        raise InputError("compare takes paths, or DataFrames with named columns")
    return Frame(name, {str(column): _numpy(data[column]) for column in data.columns})


def _numpy(values: Any) -> np.ndarray:
    """pandas objects without importing pandas; anything else through np.asarray. A categorical
    of text keeps its categories' order: category i is class i."""
    categories = getattr(getattr(values, "cat", None), "categories", None)
    if categories is not None and categories.dtype.kind in "OUS":
        text = values.to_numpy(dtype=object, na_value="").astype(str)  # missing: '', as Arrow's
        return CategoricalLabels.of(text, (tuple(str(c) for c in categories),))
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _classes(classes: str | Sequence[Any]) -> tuple[str, ...]:
    """ "A,B,C", or a sequence such as `model.classes_`; () to infer the order."""
    if isinstance(classes, str):
        return parse_classes(classes, "classes")
    return parse_classes(list(classes), "classes") if len(classes) else ()


def _patterns(names: str | Sequence[str]) -> tuple[str, ...]:
    """One column name or several: a plain string is one name, not its characters."""
    return (names,) if isinstance(names, str) else tuple(names)
