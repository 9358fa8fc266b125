"""Prediction columns found by what the file holds, when no column name says which they are:
columns named by the classes (`DataFrame(model.predict_proba(X), columns=model.classes_)`
saved beside its labels), or the one numeric column besides the labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossdoctor.io.columns import _LABELS, NoColumnFound, _pick, by_class_names, resolve_columns
from lossdoctor.io.sources import _Loader

# Past this many other columns the file is a wide table, not labels and predictions: no guess.
MAX_COLUMNS_LOOKED_AT = 16
# How the prediction columns were chosen, when not by their names or --pred-col.
BY_NAME, BY_CLASS_NAMES, BY_ELIMINATION = "", "class names", "elimination"


def choose_columns(
    names: list[str],
    load: _Loader,
    label_cols: Sequence[str],
    pred_cols: Sequence[str],
    source: str,
) -> tuple[list[str], list[str], str]:
    """The label and prediction columns, and how the predictions were chosen."""
    try:
        labels, preds = resolve_columns(names, label_cols, pred_cols, source=source)
        return labels, preds, BY_NAME
    except NoColumnFound as missing:
        if missing.noun != "prediction":
            raise
        labels = _pick(names, _LABELS, label_cols, source)
        others = [n for n in names if n not in labels]
        if len(labels) != 1 or not 1 <= len(others) <= MAX_COLUMNS_LOOKED_AT:
            raise
        columns = load([*labels, *others])
        named = by_class_names(others, _distinct_text(columns[labels[0]]))
        if named:
            return labels, named, BY_CLASS_NAMES
        numeric = [n for n in others if _numeric(columns[n])]
        if len(numeric) == 1:
            return labels, numeric, BY_ELIMINATION
        raise


def _distinct_text(labels: np.ndarray) -> set[str]:
    """The labels' distinct values as column names spell them: 1, not 1.0."""
    values = np.unique(np.asarray(labels)) if np.asarray(labels).dtype != object else labels
    text = set()
    for value in np.asarray(values).tolist():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text.add(str(value).strip())
    return text


def _numeric(column: np.ndarray) -> bool:
    column = np.asarray(column)
    return column.dtype.kind in "iuf" and column.ndim in (1, 2)
