"""compare's options as config keys (alpha, bootstrap, seed, id-col, unpaired-ok): read from
the project config as check reads it, the command line winning key by key; bad values refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lossdoctor.cli import cli
from lossdoctor.config import load_config
from lossdoctor.errors import InputError
from tests.comparison.helpers import two_models, write


def compared(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["compare", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def project(tmp_path, monkeypatch):
    y, a, b = two_models(400, 5, gap=0.1)
    order = np.random.default_rng(0).permutation(y.size)
    first = write(tmp_path / "a.parquet", y, a, row_id=np.arange(y.size))
    second = write(tmp_path / "b.parquet", y[order], b[order], row_id=order)
    monkeypatch.chdir(tmp_path)
    return tmp_path, first, second


def configure(root, body: str) -> None:
    (root / "lossdoctor.toml").write_text(body, encoding="utf-8")


def test_compare_reads_alpha_bootstrap_seed_and_id_col_from_the_config(project):
    root, first, second = project
    defaults = compared(first, second, "--no-config", "--id-col", "row_id")
    assert (defaults["alpha"], defaults["bootstrap"], defaults["seed"]) == (0.05, 1000, 0)
    configure(root, 'alpha = 0.01\nbootstrap = 200\nseed = 7\nid-col = "row_id"\n')
    configured = compared(first, second)  # the shuffled rows pair by the configured id
    assert (configured["alpha"], configured["bootstrap"], configured["seed"]) == (0.01, 200, 7)
    assert configured["rows_paired"] == 400
    same = compared(first, second, "--no-config", "--id-col", "row_id", "--bootstrap", "200")
    seeded = compared(
        first, second, "--no-config", "--id-col", "row_id", "--bootstrap", "200", "--seed", "7"
    )
    assert configured["comparison"]["f1"]["ci"] == seeded["comparison"]["f1"]["ci"]
    assert configured["comparison"]["f1"]["ci"] != same["comparison"]["f1"]["ci"]


def test_the_command_line_wins_over_the_config(project):
    root, first, second = project
    configure(root, 'alpha = 0.01\nbootstrap = 200\nseed = 7\nid-col = "row_id"\n')
    said = compared(first, second, "--alpha", "0.2", "--bootstrap", "100", "--seed", "3")
    assert (said["alpha"], said["bootstrap"], said["seed"]) == (0.2, 100, 3)


def test_unpaired_ok_from_the_config(project, tmp_path):
    root, first, _ = project
    y, _, b = two_models(400, 5, gap=0.1)
    fewer = write(tmp_path / "c.parquet", y[:300], b[:300], row_id=np.arange(300))
    configure(root, 'id-col = "row_id"\n')
    refused = CliRunner().invoke(cli, ["compare", first, fewer])
    assert refused.exit_code == 2
    configure(root, 'id-col = "row_id"\nunpaired-ok = true\n')
    allowed = compared(first, fewer)
    assert (allowed["rows_paired"], allowed["rows_unpaired"]) == (300, 100)


def test_check_reads_bootstrap_and_seed_from_the_config(project):
    root, first, _ = project

    def ci(*args):
        result = CliRunner().invoke(cli, ["check", first, "--format", "json", *args])
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.stdout)["metrics_ci"]

    configure(root, "bootstrap = 0\n")
    assert "f1" not in ci() and "roc_auc" in ci()
    configure(root, "seed = 4\n")
    assert ci()["f1"] == ci("--no-config", "--seed", "4")["f1"] != ci("--no-config")["f1"]
    assert ci("--bootstrap", "0")["roc_auc"] and "mcc" not in ci("--bootstrap", "0")


@pytest.mark.parametrize(
    "body, words",
    [
        ("alpha = 1.5", "alpha"),
        ("alpha = true", "alpha"),
        ("bootstrap = -1", "bootstrap"),
        ("bootstrap = 1.5", "bootstrap"),
        ('seed = "x"', "seed"),
        ("id-col = 3", "id-col"),
        ('unpaired-ok = "yes"', "unpaired-ok"),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path, body, words):
    path = tmp_path / "lossdoctor.toml"
    path.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=words):
        load_config(path)


def test_a_bad_alpha_on_the_command_line_is_one_line_and_exit_2(project):
    _, first, second = project
    result = CliRunner().invoke(cli, ["compare", first, second, "--alpha", "2", "--no-config"])
    assert result.exit_code == 2
    assert "alpha" in result.stderr and "Traceback" not in result.output
