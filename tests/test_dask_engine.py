"""--engine dask on an in-process cluster: the same rows, numbered as the local reader numbers
them, whatever the partitioning; and bad input is one InputError line."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from lossdoctor.engines import cluster as dask_cluster  # noqa: E402
from lossdoctor.engines import dask as dask_engine  # noqa: E402
from lossdoctor.engines.dask import DaskEngine  # noqa: E402
from lossdoctor.errors import InputError  # noqa: E402
from lossdoctor.io import Batch, open_dataset  # noqa: E402
from tests.conftest import bounded_process, refused, run_bounded  # noqa: E402

# dask's Parquet reader on pandas 3 (its own deprecations, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

N_FILES = 12  # part-10 sorts before part-2 as a path, after it in dask's natural order
ROW_GROUP = 16


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """Files of 20..97 rows in row groups of 16, with columns the engine must not read."""
    root = tmp_path_factory.mktemp("flat")
    rng = np.random.default_rng(0)
    for i in range(N_FILES):
        n = 20 + 7 * i
        scores = rng.random((n, 3), dtype=np.float32)
        table = pa.table(
            {
                "id": np.arange(n),
                "label": rng.integers(0, 3, n),
                "prob": pa.FixedSizeListArray.from_arrays(pa.array(scores.ravel()), 3),
                "note": ["x"] * n,
            }
        )
        pq.write_table(table, root / f"part-{i}.parquet", row_group_size=ROW_GROUP)
    (root / "_SUCCESS").write_bytes(b"")
    (root / ".part-0.parquet.crc").write_bytes(b"\0")
    return root


@pytest.fixture(scope="module")
def hive(tmp_path_factory):
    root = tmp_path_factory.mktemp("hive")
    n = 90
    table = pa.table(
        {
            "label": np.arange(n) % 2,
            "score": np.linspace(0, 1, n),
            "split": ["train", "test", "valid"] * 30,
        }
    )
    pq.write_to_dataset(table, root, partition_cols=["split"])
    return root


def _rows(batch: Batch) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    predictions = batch.predictions
    return {batch.first_row: (predictions.y_true, predictions.y_score)}


def _union(a: dict, b: dict) -> dict:
    assert not a.keys() & b.keys()
    return a | b


def _tile(pieces: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The batches in row order, checking that each starts where the one before it ended."""
    end = 0
    for first_row in sorted(pieces):
        assert first_row == end
        end += len(pieces[first_row][0])
    ordered = [pieces[first_row] for first_row in sorted(pieces)]
    return np.concatenate([t for t, _ in ordered]), np.concatenate([s for _, s in ordered])


def _local(path: str, **options) -> tuple[np.ndarray, np.ndarray]:
    """The rows as the local reader returns them."""
    batches = list(open_dataset(path, **options).batches())
    return _tile({b.first_row: (b.predictions.y_true, b.predictions.y_score) for b in batches})


def _assert_same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def _first_rows(engine: DaskEngine) -> list[int]:
    return engine.map_reduce(lambda b: [b.first_row], lambda a, b: sorted(a + b))


def _sorted_files(root) -> list[str]:
    return sorted((str(p) for p in root.glob("part-*.parquet")), key=lambda p: p.split(os.sep))


@pytest.mark.parametrize("rows_per_partition", [1 << 20, 2 * ROW_GROUP])
def test_rows_and_first_rows_match_the_local_reader(
    flat, dask_scheduler, monkeypatch, rows_per_partition
):
    monkeypatch.setattr(dask_engine, "ROWS_PER_PARTITION", rows_per_partition)
    with DaskEngine(str(flat), scheduler=dask_scheduler) as engine:
        assert engine.label_columns == ("label",)
        assert engine.prediction_columns == ("prob",)
        assert engine.format == open_dataset(str(flat)).format
        got = _tile(engine.map_reduce(_rows, _union))
        again = _tile(engine.map_reduce(_rows, _union))
    _assert_same(got, _local(str(flat)))
    _assert_same(again, got)
    assert got[1].shape == (sum(20 + 7 * i for i in range(N_FILES)), 3)


def test_a_partition_per_file_starts_at_the_cumulative_file_row_count(flat, dask_scheduler):
    counts = [pq.read_metadata(f).num_rows for f in _sorted_files(flat)]
    with DaskEngine(str(flat), scheduler=dask_scheduler) as engine:
        assert _first_rows(engine) == np.cumsum([0, *counts[:-1]]).tolist()
        assert engine.n_rows == sum(counts)


def test_a_partition_per_row_group_starts_at_the_cumulative_row_group_count(
    flat, dask_scheduler, monkeypatch
):
    monkeypatch.setattr(dask_engine, "ROWS_PER_PARTITION", ROW_GROUP)
    groups = []
    for f in _sorted_files(flat):
        meta = pq.read_metadata(f)
        groups += [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    with DaskEngine(str(flat), scheduler=dask_scheduler) as engine:
        assert _first_rows(engine) == np.cumsum([0, *groups[:-1]]).tolist()


def test_counts_and_sums_equal_a_pyarrow_loop(flat, dask_scheduler):
    def summarize(batch: Batch) -> tuple[int, float]:
        return len(batch.predictions.y_score), float(batch.predictions.y_score.sum())

    with DaskEngine(str(flat), scheduler=dask_scheduler) as engine:
        n, total = engine.map_reduce(summarize, lambda a, b: (a[0] + b[0], a[1] + b[1]))
    tables = [pq.read_table(f, columns=["prob"]) for f in _sorted_files(flat)]
    want = np.concatenate([t.column("prob").combine_chunks().flatten() for t in tables])
    assert n == len(want) // 3
    assert total == pytest.approx(float(want.sum(dtype=np.float64)), rel=1e-6)


def test_a_glob_reads_the_matching_files_only(flat, dask_scheduler):
    pattern = str(flat / "part-1*.parquet")  # part-1, part-10, part-11
    with DaskEngine(pattern, scheduler=dask_scheduler) as engine:
        got = _tile(engine.map_reduce(_rows, _union))
        assert engine.n_rows == 27 + 90 + 97
    _assert_same(got, _local(pattern))


def test_symlinks_to_directories_are_not_followed_and_do_not_stop_the_run(tmp_path, dask_scheduler):
    """fsspec lists a link to a directory as a file; it is skipped, as a loop must be."""
    (tmp_path / "real").mkdir()
    table = pa.table({"label": np.arange(40) % 2, "prob": np.linspace(0, 1, 40)})
    pq.write_table(table, tmp_path / "real" / "part-0.parquet")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "up").symlink_to(tmp_path, target_is_directory=True)
    with DaskEngine(str(tmp_path), scheduler=dask_scheduler) as engine:
        assert engine.n_rows == 40


def test_hive_keys_are_columns_only_when_asked_for(hive, dask_scheduler):
    with DaskEngine(
        str(hive), partitioning="hive", label_cols=["split"], scheduler=dask_scheduler
    ) as e:
        assert e.label_columns == ("split",)
        got = _tile(e.map_reduce(_rows, _union))
    _assert_same(got, _local(str(hive), partitioning="hive", label_cols=["split"]))
    assert set(got[0]) == {"train", "test", "valid"}

    with pytest.raises(InputError, match="--label-col 'split' matches no column"):
        DaskEngine(str(hive), label_cols=["split"], scheduler=dask_scheduler)
    with DaskEngine(str(hive), scheduler=dask_scheduler) as engine:
        _assert_same(_tile(engine.map_reduce(_rows, _union)), _local(str(hive)))


def test_without_a_scheduler_a_local_cluster_runs_until_close(flat):
    engine = DaskEngine(str(flat / "part-3.parquet"))
    assert engine.map_reduce(lambda b: len(b.predictions.y_true), lambda a, b: a + b) == 41
    engine.close()
    assert engine._cluster.local.status.name == "closed"


def _one_line_error(path: str, match: str, scheduler: str, **options) -> None:
    with pytest.raises(InputError, match=match) as error:
        DaskEngine(path, scheduler=scheduler, **options)
    assert "\n" not in str(error.value)


def test_a_missing_path_is_one_line(tmp_path, dask_scheduler):
    _one_line_error(str(tmp_path / "nope"), "no such file or directory", dask_scheduler)
    _one_line_error(str(tmp_path / "*.parquet"), "no file matches", dask_scheduler)


def test_a_directory_without_parquet_is_one_line(tmp_path, dask_scheduler):
    (tmp_path / "_SUCCESS").write_bytes(b"")
    _one_line_error(str(tmp_path), "holds no Parquet files", dask_scheduler)
    (tmp_path / "preds.csv").write_text("label,prob\n1,0.5\n")
    _one_line_error(str(tmp_path), r"not Parquet \(.*preds.csv\)", dask_scheduler)


def test_an_unreadable_file_is_named(flat, tmp_path, dask_scheduler):
    pq.write_table(pq.read_table(flat / "part-0.parquet"), tmp_path / "a.parquet")
    (tmp_path / "b.parquet").write_bytes(b"PAR1 but not really")
    _one_line_error(str(tmp_path), r"cannot read .*b\.parquet as parquet", dask_scheduler)


def test_wrong_columns_are_one_line(flat, tmp_path, dask_scheduler):
    _one_line_error(str(flat), "--pred-col 'x' matches no column", dask_scheduler, pred_cols=["x"])
    pq.write_table(pa.table({"label": [0, 1], "prob": [0.2, 0.9]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"label": [0, 1], "score": [0.2, 0.9]}), tmp_path / "b.parquet")
    _one_line_error(str(tmp_path), r"b\.parquet has no column 'prob'", dask_scheduler)
    _one_line_error(str(flat), "unknown partitioning 'dir'", dask_scheduler, partitioning="dir")


def test_an_unreachable_scheduler_is_one_line(flat, monkeypatch):
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", "0.2s")
    _one_line_error(str(flat), "cannot reach the Dask scheduler", "tcp://127.0.0.1:1")


def test_without_dask_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError, match=r"pip install 'lossdoctor\[dask\]'"):
        DaskEngine("predictions.parquet")


def test_dask_is_imported_only_when_an_engine_is_made():
    code = (
        "import sys, lossdoctor.engines.dask; "
        "assert not {'dask', 'distributed'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- a cluster without workers, or whose only worker dies: a bounded wait, then exit 2 ---------


@pytest.fixture
def scheduler_alone():
    """A scheduler in this process, with no worker, that other processes reach over TCP."""
    import logging

    with distributed.LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


@pytest.mark.slow
def test_a_cluster_without_workers_is_given_up_after_the_timeout(flat, scheduler_alone):
    address = scheduler_alone.scheduler_address
    result = run_bounded(
        flat,
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--timeout",
        "2",
        memory=4 << 30,
        timeout=60,
    )
    refused(result, f"the Dask cluster at {address} has had no worker for 2 s", "--timeout")


@pytest.mark.slow
def test_a_cluster_whose_only_worker_dies_mid_run_is_given_up(tmp_path, scheduler_alone):
    import time

    for i in range(300):  # a partition each: seconds of work for one thread
        table = pa.table({"label": np.arange(50) % 2, "prob": np.linspace(0.01, 0.99, 50)})
        pq.write_table(table, tmp_path / f"part-{i:03d}.parquet")
    address = scheduler_alone.scheduler_address
    scheduler = scheduler_alone.scheduler
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
         "--nthreads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not scheduler.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler.workers, "the worker did not start"
        run = bounded_process(
            tmp_path, "--engine", "dask", "--scheduler", address, "--timeout", "2", memory=4 << 30
        )
        while not scheduler.tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.kill()
        refused(run.finish(timeout=60), "has had no worker for 2 s")
    finally:
        worker.kill()
        worker.wait()


def test_a_worker_that_keeps_dying_on_a_task_is_one_line(flat, dask_scheduler):
    def dies(batch):
        raise distributed.KilledWorker("summarize", SimpleNamespace(address="tcp://w"), 3)

    with (
        DaskEngine(str(flat), scheduler=dask_scheduler) as engine,
        pytest.raises(InputError, match="Dask workers died running a task of") as e,
    ):
        engine.map_reduce(dies, lambda a, b: a)
    assert "\n" not in str(e.value)
