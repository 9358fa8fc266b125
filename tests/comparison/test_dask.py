"""compare --engine dask: the same rows of two Parquet datasets, whose files end at different
rows, paired by order on the cluster, compare as the files in memory do; a pairing dask cannot
make is one clear line and exit code 2."""

from __future__ import annotations

import pytest

import lossdoctor
from lossdoctor.comparison import Pairing, compare_paths
from lossdoctor.settings import Settings
from tests.comparison.helpers import (
    assert_same_comparison,
    multiclass_models,
    two_models,
    write,
    write_dataset,
)
from tests.comparison.test_pairing import one_line_error, run

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

# dask's Parquet reader on pandas 3 (its own deprecations, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


def on_dask(first: str, second: str, scheduler: str, **pairing) -> dict:
    settings = Settings(engine="dask", scheduler=scheduler)
    return compare_paths(first, [second], settings, Pairing(replicates=30, **pairing)).to_dict()


@pytest.mark.parametrize("k", [2, 3])
def test_dask_compares_as_in_memory(tmp_path, k, dask_scheduler):
    if k == 2:
        y, a, b = two_models(700, 8, gap=0.3, ties=2)
    else:
        y, a, b = multiclass_models(700, k, seed=8)
    in_memory = lossdoctor.compare(
        write(tmp_path / "a.parquet", y, a), write(tmp_path / "b.parquet", y, b), bootstrap=30
    ).to_dict()
    # partitions that end apart, one of a single row: the candidate's rows are cut to match
    first = write_dataset(tmp_path / "a", y, a, [100, 450, 451])
    second = write_dataset(tmp_path / "b", y, b, [300, 600])
    on_cluster = on_dask(first, second, dask_scheduler)
    assert on_cluster["rows_paired"] == len(y)
    assert "roc_auc" in on_cluster["comparison"]
    assert_same_comparison(on_cluster, in_memory)
    assert on_cluster["baseline"]["metrics"] == pytest.approx(in_memory["baseline"]["metrics"])


def test_dask_refuses_different_lengths_and_labels(tmp_path, dask_scheduler):
    y, a, b = two_models(400, 9)
    first = write_dataset(tmp_path / "a", y, a, [150])
    with pytest.raises(lossdoctor.InputError, match=r"has 400 rows but .* has 399"):
        on_dask(first, write_dataset(tmp_path / "short", y[1:], b[1:], [200]), dask_scheduler)
    flipped = y.copy()
    flipped[[7, 320]] = 1 - flipped[[7, 320]]
    shuffled = write_dataset(tmp_path / "b", flipped, b, [200])
    with pytest.raises(
        lossdoctor.InputError, match="2 rows have different labels, the first at row 7"
    ):
        on_dask(first, shuffled, dask_scheduler)


def test_dask_with_an_id_column_is_one_line_saying_what_to_do(tmp_path):
    y, a, b = two_models(100, 1)
    first = write_dataset(tmp_path / "a", y, a, [50])
    second = write_dataset(tmp_path / "b", y, b, [50])
    one_line_error(
        run(first, second, "--engine", "dask", "--id-col", "label"), "--id-col", "row order"
    )


def test_the_scheduler_needs_the_dask_engine(tmp_path):
    y, a, b = two_models(100, 1)
    result = run(
        write(tmp_path / "a.parquet", y, a),
        write(tmp_path / "b.parquet", y, b),
        "--scheduler",
        "tcp://127.0.0.1:8786",
    )
    assert result.exit_code == 2
    assert "--scheduler needs --engine dask" in result.output
