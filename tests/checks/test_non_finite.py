import numpy as np
import pytest
from sklearn.metrics import log_loss

import lossdoctor
from lossdoctor.checks.base import Severity
from lossdoctor.settings import Settings
from tests.conftest import findings_of

ID = "non-finite-values"


def test_nan_and_inf_predictions_are_an_error_with_rows(healthy_binary):
    y, p = healthy_binary
    p = p.copy()
    p[[3, 10, 50]] = np.nan
    p[20] = np.inf
    [finding] = findings_of(y, p, ID)
    assert finding.severity is Severity.ERROR
    evidence = finding.evidence
    assert evidence["rows"] == 4
    assert evidence["nan_predictions"] == 3 and evidence["inf_predictions"] == 1
    assert evidence["first_rows"] == [3, 10, 20, 50]


def test_metrics_use_the_finite_rows(healthy_binary):
    y, p = healthy_binary
    broken = p.copy()
    broken[[3, 10]] = np.nan
    keep = np.isfinite(broken)
    report = lossdoctor.diagnose(y, broken)
    assert report.metrics.values["log_loss"] == pytest.approx(log_loss(y[keep], p[keep]))
    assert report.input.rows_used == len(y) - 2


def test_nan_labels_count_too(healthy_binary):
    y, p = healthy_binary
    y = y.astype(float)
    y[0] = np.nan
    [finding] = findings_of(y, p, ID)
    assert finding.evidence["non_finite_labels"] == 1


def test_finite_values_are_quiet(healthy_binary):
    assert findings_of(*healthy_binary, ID) == []


def _nullable_int_labels(tmp_path, missing_rows, nan_rows=()):
    """A parquet file as pandas writes it: labels in a nullable Int64 column with NA."""
    import pandas as pd

    from lossdoctor.io import read_predictions
    from tests.helpers import diagnose_predictions

    rows = 80
    labels = pd.array([k % 2 for k in range(rows)], dtype="Int64")
    labels[list(missing_rows)] = pd.NA
    prob = np.linspace(0.05, 0.95, rows)
    prob[list(nan_rows)] = np.nan
    pd.DataFrame({"label": labels, "prob": prob}).to_parquet(tmp_path / "p.parquet")
    report = diagnose_predictions(read_predictions(str(tmp_path / "p.parquet")), Settings())
    return [f for f in report.findings if f.check == ID]


def test_na_in_a_nullable_integer_label_column_is_missing_labels_fixed_at_the_labels(tmp_path):
    [finding] = _nullable_int_labels(tmp_path, missing_rows=[2, 10, 18])
    assert finding.title == "Missing labels"
    assert finding.message.startswith(
        "3 of 80 rows have no label (NaN, None or NA; rows 2, 10, 18)"
    )
    assert "pd.notna(y)" in finding.fix and "isfinite(p)" not in finding.fix
    assert finding.evidence["non_finite_labels"] == 3 and finding.evidence["nan_predictions"] == 0


def test_one_missing_label_is_said_in_the_singular(tmp_path):
    [finding] = _nullable_int_labels(tmp_path, missing_rows=[7])
    assert finding.message.startswith("1 of 80 rows has no label")


def test_nan_predictions_alone_are_not_called_missing_labels(tmp_path):
    [finding] = _nullable_int_labels(tmp_path, missing_rows=[], nan_rows=[4])
    assert finding.title == "NaN or infinite predictions"
    assert finding.message.startswith("1 of 80 rows holds NaN or infinite predictions (rows 4)")
    assert "label" not in finding.fix


def test_missing_labels_and_nan_predictions_are_both_named(tmp_path):
    [finding] = _nullable_int_labels(tmp_path, missing_rows=[2, 10], nan_rows=[4])
    assert finding.title == "Missing labels and NaN or infinite predictions"
    assert "3 of 80 rows (rows 2, 4, 10): 2 without a label, 1 with NaN predictions" in (
        finding.message
    )
    assert "pd.notna(y)" in finding.fix and "isfinite(p)" in finding.fix
