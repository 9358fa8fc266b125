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
