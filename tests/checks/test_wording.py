"""Counts agree with their words in every finding: "1 row looks", "2 rows look"."""

import numpy as np

import lossdoctor
from lossdoctor.checks.base import counted


def findings(p: np.ndarray) -> dict[str, str]:
    y = np.array([0, 1] * 50)
    report = lossdoctor.diagnose(y, p)
    return {f.check: f"{f.title} | {f.message}" for f in report.findings}


def clean() -> np.ndarray:
    return np.where(np.array([0, 1] * 50) == 1, 0.7, 0.3)


def test_counted_agrees_with_the_count():
    assert counted(1, "row looks", "rows look") == "1 row looks"
    assert [counted(n, "row", "rows") for n in (0, 2, 1234)] == ["0 rows", "2 rows", "1,234 rows"]


def test_one_row_at_zero_and_one_mislabelled_row_are_singular():
    p = clean()
    p[1] = 0.0  # a true 1 given probability 0
    found = findings(p)
    assert (
        "1 row gives its true class a probability of exactly 0" in found["probability-saturation"]
    )
    assert found["label-issues"].startswith("1 row looks mislabelled | ")
    assert "the label of 1 row (" in found["label-issues"]
    assert found["label-issues"].endswith("the worst is row 1.")


def test_two_rows_are_plural():
    p = clean()
    p[[1, 3]] = 0.0
    found = findings(p)
    assert (
        "2 rows give their true class a probability of exactly 0" in found["probability-saturation"]
    )
    assert found["label-issues"].startswith("2 rows look mislabelled | ")
    assert found["label-issues"].endswith("the worst are rows 1, 3.")
