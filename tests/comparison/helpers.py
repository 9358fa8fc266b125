"""Files of paired predictions for the comparison tests."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def write(path: Path, y, scores, **extra) -> str:
    """A Parquet file of labels (`label`) and scores (`score`; several: `prob_0`, ...)."""
    scores = np.asarray(scores)
    columns = {"label": np.asarray(y)}
    if scores.ndim == 1:
        columns["score"] = scores
    else:
        columns.update({f"prob_{k}": scores[:, k] for k in range(scores.shape[1])})
    columns.update({name: np.asarray(values) for name, values in extra.items()})
    pq.write_table(pa.table(columns), path)
    return str(path)


def write_dataset(directory: Path, y, scores, cuts: list[int]) -> str:
    """The same rows as `write`, cut into several files at the given row numbers."""
    directory.mkdir()
    bounds = [0, *cuts, len(y)]
    for i, (start, stop) in enumerate(pairwise(bounds)):
        write(directory / f"part-{i:02d}.parquet", y[start:stop], np.asarray(scores)[start:stop])
    return str(directory)


def two_models(n: int, seed: int = 0, gap: float = 0.3, ties: int | None = None):
    """Labels and two binary models' probabilities (the second weaker by `gap`); rounded to
    `ties` decimals to make ties."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    first = 1 / (1 + np.exp(-(1.5 * (2 * y - 1) + rng.normal(size=n))))
    second = 1 / (1 + np.exp(-((1.5 - gap) * (2 * y - 1) + rng.normal(size=n))))
    if ties is not None:
        first, second = np.round(first, ties), np.round(second, ties)
    return y, first, second


def multiclass_models(n: int, k: int, seed: int = 0):
    """Labels 0..k-1 and two models' softmax probabilities, the second noisier."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    out = []
    for noise in (1.0, 1.6):
        logits = rng.normal(scale=noise, size=(n, k))
        logits[np.arange(n), y] += 1.5
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        out.append(proba / proba.sum(axis=1, keepdims=True))
    return y, out[0], out[1]


def assert_same_comparison(got: dict, want: dict) -> None:
    """Two comparisons' JSON of the same rows (in memory, streamed, on Dask) agree to 1e-9."""
    assert got["rows_paired"] == want["rows_paired"]
    assert got["comparison"].keys() == want["comparison"].keys()
    for name, row in want["comparison"].items():
        other = got["comparison"][name]
        for key in ("baseline", "candidate", "difference", "p_value"):
            assert other[key] == pytest.approx(row[key], rel=1e-9, abs=1e-12), (name, key)
        assert other["ci"] == pytest.approx(row["ci"], rel=1e-9, abs=1e-12), name
