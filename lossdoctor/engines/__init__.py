"""Where the batches come from and where their summaries are computed and merged.

The pipeline asks an engine for one thing: apply a summary function to every batch of rows and
merge the results. In memory that is one batch; a dataset streams batch by batch on this
machine; `--engine dask` computes partitions on a cluster. The rules never know which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from lossdoctor.io import Batch

T = TypeVar("T")


class Engine(Protocol):
    source: str
    format: str
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    weight_column: str  # '' without sample weights
    n_rows: int

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T: ...


ENGINES = ("local", "dask")
# How long the dask engine waits while its cluster has no worker (none yet, or the last one
# died) before it gives up: long enough for a worker to (re)start, short enough for CI.
DASK_TIMEOUT = 120.0


@contextlib.contextmanager
def dataset_engine(
    path: str,
    *,
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    weight_col: str | None = None,
    partitioning: str | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    timeout: float = DASK_TIMEOUT,
    progress: Callable[[int, int, str], None] | None = None,
) -> Iterator[Engine]:
    """The engine that streams a dataset (a directory or glob) on this machine, or summarises
    it on Dask; a local cluster it started is closed on leaving."""
    from lossdoctor.errors import InputError

    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise InputError("a scheduler needs the dask engine (--engine dask)")
    columns = {
        "label_cols": label_cols,
        "pred_cols": pred_cols,
        "weight_col": weight_col,
        "partitioning": partitioning,
    }
    if engine == "dask":
        from lossdoctor.engines.dask import DaskEngine

        with DaskEngine(path, scheduler=scheduler, timeout=timeout, **columns) as cluster:
            yield cluster
        return
    from lossdoctor.engines.local import Streaming
    from lossdoctor.io import open_dataset

    yield Streaming(open_dataset(path, **columns), progress)
