"""A table in memory is summarised on both cores (its checks' summaries beside its metric
totals, its blocks two at a time, class 1's and class 0's tables at once): the report is the
one of summarising it on one thread, to the last bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lossdoctor
from lossdoctor import pipeline
from lossdoctor.engines.local import InMemory
from lossdoctor.io import from_arrays
from lossdoctor.pipeline import diagnose
from lossdoctor.segments import totals as segment_totals
from lossdoctor.settings import Settings

ROWS = 120_000  # past value_tables.build.THREADED_ROWS, the least that goes on two threads


def rows(case: str, rng: np.random.Generator):
    """Labels, scores and weights of one kind of table, with mislabelled rows to find."""
    if case.startswith("multiclass"):
        k = 5
        y = rng.integers(0, k, ROWS)
        z = rng.normal(0, 1, (ROWS, k))
        z[np.arange(ROWS), y] += 1.5
        proba = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return y, proba.astype(np.float32), None
    y = rng.integers(0, 2, ROWS)
    z = rng.normal(0, 2, ROWS) + 1.5 * y
    scores = {
        "float32": 1 / (1 + np.exp(-z)),
        "float64": 1 / (1 + np.exp(-z)),
        "ties": np.round(1 / (1 + np.exp(-z)), 2),
        "logits": z,
        "weighted": 1 / (1 + np.exp(-z)),
    }[case]
    dtype = np.float64 if case == "float64" else np.float32
    weights = rng.uniform(0.5, 2.0, ROWS) if case == "weighted" else None
    return y, scores.astype(dtype), weights


@pytest.mark.parametrize("case", ["float32", "float64", "ties", "logits", "weighted", "multiclass"])
def test_both_cores_give_the_report_of_one(case, monkeypatch):
    # blocks of 16,384 rows: the survey's and the label issues' blocks go two at a time
    monkeypatch.setattr(pipeline, "BLOCK_ROWS", 1 << 14)
    y, scores, weights = rows(case, np.random.default_rng(3))
    predictions = from_arrays(y, scores, source="x", format="array", sample_weight=weights)
    reports = [
        diagnose(InMemory(predictions, spare_core=spare), Settings()).to_dict()
        for spare in (True, False)
    ]
    assert reports[0] == reports[1]
    assert reports[0]["metrics"]["roc_auc"] is not None


# segments below the batch (store, quantile bins), and one holding it that shares its tables
@pytest.mark.parametrize("by", [("store", "age:4"), ("store", "region")])
def test_segments_summed_beside_the_metrics_give_the_report_of_one_thread(by, monkeypatch):
    monkeypatch.setattr(segment_totals, "BLOCK_ROWS", 1 << 14)  # tables and sums at once too
    rng = np.random.default_rng(5)
    y, scores, _ = rows("float32", rng)
    frame = pd.DataFrame(
        {
            "label": y,
            "proba": scores,
            "store": rng.integers(0, 300, ROWS),
            "age": rng.uniform(18, 90, ROWS),
            "region": "north",
        }
    )
    threaded = lossdoctor.diagnose(frame, by=by).to_dict()
    monkeypatch.setattr(
        pipeline, "at_once", lambda first, second, together=True: (first(), second())
    )
    assert threaded == lossdoctor.diagnose(frame, by=by).to_dict()
    assert len(threaded["segments"]) > 1
