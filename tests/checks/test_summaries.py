"""Each check reads the summaries it names, computed once per batch: --select one check computes
only that check's summaries, and every summary merges as its fields declare."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pytest
from click.testing import CliRunner

import lossdoctor
from lossdoctor.checks import BY_ID, REGISTRY, label_issues
from lossdoctor.checks.summaries import HIGHEST, LOWEST, Summary, needed_by
from lossdoctor.cli import cli

by_check = pytest.mark.parametrize("check", REGISTRY, ids=lambda check: check.ID)
EVERY_SUMMARY = needed_by(REGISTRY)


@pytest.fixture
def calls(monkeypatch) -> list[type]:
    """The summary kinds summarised, one entry per batch (block) and kind."""
    seen: list[type] = []
    for kind in (*EVERY_SUMMARY, label_issues.Issues):
        original = kind.__dict__.get("summarize")

        def counted(cls, plan, batch, _original=original, _kind=kind):
            seen.append(_kind)
            return _original.__func__(cls, plan, batch)

        if original is not None:
            monkeypatch.setattr(kind, "summarize", classmethod(counted))
    return seen


@by_check
def test_a_check_declares_frozen_summaries_that_merge(check):
    assert isinstance(check.SUMMARIES, tuple)
    for kind in check.SUMMARIES:
        assert issubclass(kind, Summary) and dataclasses.is_dataclass(kind)
        assert kind.__dataclass_params__.frozen
        assert "summarize" in kind.__dict__, f"{kind.__name__} does not say how it summarises"


@by_check
def test_select_one_check_computes_only_its_summaries(check, calls, tmp_path):
    rng = np.random.default_rng(3)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < p).astype(int)
    report = lossdoctor.diagnose(y, p, select=[check.ID], reported_loss=0.5)
    assert set(calls) == set(check.SUMMARIES)
    # once per batch: one batch in memory
    assert len(calls) == len(check.SUMMARIES)
    assert {f.check for f in report.findings} <= {check.ID}


def test_every_check_computes_each_shared_summary_once_per_batch(calls):
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < p).astype(int)
    lossdoctor.diagnose(y, p)
    assert sorted(calls, key=str) == sorted(EVERY_SUMMARY, key=str)


def test_a_disabled_check_leaves_its_summary_uncomputed(calls, tmp_path):
    path = tmp_path / "preds.csv"
    path.write_text("label,prob\n" + "".join(f"{i % 2},{0.2 + 0.6 * (i % 2)}\n" for i in range(40)))
    saturation = BY_ID["probability-saturation"]
    (own,) = [kind for kind in saturation.SUMMARIES if kind.__module__ == saturation.__name__]
    result = CliRunner().invoke(
        cli, ["check", str(path), "--no-config", "--disable", saturation.ID]
    )
    assert result.exit_code in (0, 1), result.output
    assert own not in calls and calls


@dataclass(frozen=True)
class _Span(Summary):
    low: np.ndarray = field(metadata=LOWEST)
    high: float = field(metadata=HIGHEST)
    count: int = 0
    by_name: dict = field(default_factory=dict)


def test_fields_merge_as_declared_minimum_maximum_and_sums():
    a = _Span(np.array([1.0, 5.0]), 2.0, 3, {"x": 1.0})
    b = _Span(np.array([2.0, 4.0]), 7.0, 4, {"x": 0.5})
    merged = a.merge(b)
    np.testing.assert_array_equal(merged.low, [1.0, 4.0])
    assert merged.high == 7.0 and type(merged.high) is float
    assert merged.count == 7 and merged.by_name == {"x": 1.5}
