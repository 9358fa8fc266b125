"""Every comparison validates against the published schema (and its strict copy, which catches
a key added to the JSON but not to the schema)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import lossdoctor
from lossdoctor.cli import cli
from tests.comparison.helpers import multiclass_models, two_models, write
from tests.test_schema import assert_valid


@pytest.mark.parametrize("k", [2, 3])
def test_a_comparison_validates(tmp_path, k):
    if k == 2:
        y, a, b = two_models(200, 1, gap=0.5)
    else:
        y, a, b = multiclass_models(200, k)
    first, second = write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b)
    one = lossdoctor.compare(first, second, bootstrap=20, gates="roc_auc >= baseline").to_dict()
    assert_valid(one, "comparison")
    several = lossdoctor.compare(first, [second, first], bootstrap=20).to_dict()
    assert_valid(several, "comparison")
    assert len(several["comparison"]) == len(several["candidates"]) == 2


def test_the_command_prints_what_the_api_returns(tmp_path):
    y, a, b = two_models(150, 2)
    first, second = write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b)
    printed = CliRunner().invoke(cli, ["compare", first, second, "--format", "json"])
    assert json.loads(printed.stdout) == lossdoctor.compare(first, second).to_dict()
    schema = CliRunner().invoke(cli, ["schema", "--kind", "comparison"])
    assert json.loads(schema.stdout)["$ref"] == "#/$defs/comparison"
