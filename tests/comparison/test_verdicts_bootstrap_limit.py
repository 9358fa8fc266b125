"""The paired bootstrap of the label metrics stops where the joint cells outgrow the draws."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lossdoctor.cli import cli
from lossdoctor.comparison.verdicts import PAIRED_DRAWS


@pytest.mark.parametrize("classes", [20, 21])
def test_label_metrics_are_tested_while_their_joint_cells_fit_the_draws(tmp_path, classes):
    """K**3 joint cells a replicate: 20 classes fit at 1000 replicates, 21 do not."""
    rng = np.random.default_rng(5)
    n = 1500
    y = np.arange(n) % classes
    paths = []
    for name in ("a", "b"):
        p = rng.dirichlet(np.ones(classes), n)
        p[np.arange(n), y] += 1.0
        p /= p.sum(axis=1, keepdims=True)
        frame = pd.DataFrame({"label": y, **{f"prob_{k}": p[:, k] for k in range(classes)}})
        paths.append(str(tmp_path / f"{name}.parquet"))
        frame.to_parquet(paths[-1])
    result = CliRunner().invoke(cli, ["compare", *paths, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    compared = json.loads(result.output)["comparison"]
    label_metrics = {"balanced_accuracy", "f1_macro", "mcc"}
    assert (classes**3 * 1000 <= PAIRED_DRAWS) == (classes == 20)
    if classes == 20:
        assert label_metrics <= set(compared)
    else:
        assert label_metrics.isdisjoint(compared)
    assert "accuracy" in compared  # McNemar's, whatever the classes
