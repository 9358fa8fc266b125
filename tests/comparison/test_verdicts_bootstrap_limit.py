"""The paired bootstrap of the label metrics stops where the occurring joint cells outgrow
the draws, whatever the number of classes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lossdoctor.cli import cli
from lossdoctor.comparison import verdicts


def compared(tmp_path, classes: int, n: int = 1500) -> dict:
    rng = np.random.default_rng(5)
    y = np.arange(n) % classes
    paths = []
    for name in ("a", "b"):
        p = rng.dirichlet(np.ones(classes), n)
        p[np.arange(n), y] += 1.0
        p /= p.sum(axis=1, keepdims=True)
        frame = pd.DataFrame({"label": y, **{f"prob_{k}": p[:, k] for k in range(classes)}})
        paths.append(str(tmp_path / f"{name}.parquet"))
        frame.to_parquet(paths[-1])
    result = CliRunner().invoke(cli, ["compare", *paths, "--format", "json", "--bootstrap", "200"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)["comparison"]


LABEL_METRICS = {"balanced_accuracy", "f1_macro", "mcc"}


def test_many_classes_are_tested_while_their_occurring_cells_fit_the_draws(tmp_path):
    """60 classes are 216,000 cells, of which a few hundred occur."""
    assert verdicts.PAIRED_DRAWS < 60**3 * 200
    assert set(compared(tmp_path, 60)) >= LABEL_METRICS


@pytest.mark.parametrize("draws", [200 * 7, 200 * 8**3])
def test_label_metrics_go_untested_past_the_draws(tmp_path, monkeypatch, draws):
    """8 classes: at least 8 cells occur (each class's rows both models get right)."""
    monkeypatch.setattr(verdicts, "PAIRED_DRAWS", draws)
    tested = compared(tmp_path, 8)
    if draws >= 200 * 8**3:
        assert set(tested) >= LABEL_METRICS
    else:
        assert LABEL_METRICS.isdisjoint(tested)
    assert "accuracy" in tested  # McNemar's, whatever the cells


def weighted_replicates(y, a, b, weights, replicates: int, seed: int, metric, **options):
    """The metric's difference under each replicate's Poisson weights times the sample weights,
    computed by scikit-learn row by row."""
    from lossdoctor.stats.bootstrap import poisson_weights

    rows = np.arange(len(y))
    found = []
    for r in range(replicates):
        w = weights * poisson_weights(rows, r, seed)
        found.append(
            metric(y, b.argmax(axis=1), sample_weight=w, **options)
            - metric(y, a.argmax(axis=1), sample_weight=w, **options)
        )
    return np.percentile(found, [2.5, 97.5])


@pytest.mark.parametrize("held", [True, False])
def test_weighted_label_metrics_go_untested_past_the_held_cells(tmp_path, monkeypatch, held):
    """Weighted rows hold each replicate's K**3 joint confusion: past WEIGHTED_CELLS F1, MCC and
    balanced accuracy go untested (a hundred classes would hold 8 GB), accuracy never does."""
    from sklearn.metrics import accuracy_score, f1_score

    import lossdoctor
    from lossdoctor.comparison import summary
    from tests.comparison.helpers import multiclass_models, write

    y, a, b = multiclass_models(300, 4, seed=2)
    weights = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    if not held:
        monkeypatch.setattr(summary, "WEIGHTED_CELLS", 40 * 4**3 - 1)
    paths = [
        write(tmp_path / f"{name}.parquet", y, p, sample_weight=weights)
        for name, p in (("a", a), ("b", b))
    ]
    result = lossdoctor.compare(*paths, bootstrap=40, seed=3).to_dict()["comparison"]
    assert result["accuracy"]["ci"] == pytest.approx(
        weighted_replicates(y, a, b, weights, 40, 3, accuracy_score), rel=1e-9, abs=1e-12
    )
    if held:
        assert result["f1_macro"]["ci"] == pytest.approx(
            weighted_replicates(y, a, b, weights, 40, 3, f1_score, average="macro"),
            rel=1e-9,
            abs=1e-12,
        )
    else:
        assert LABEL_METRICS.isdisjoint(result)
