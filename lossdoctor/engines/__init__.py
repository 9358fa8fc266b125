"""Where the batches come from and where their summaries are computed and merged.

The pipeline asks an engine for one thing: apply a summary function to every batch of rows and
merge the results. In memory that is one batch; a dataset streams batch by batch on this
machine; `--engine dask` computes partitions on a cluster. The rules never know which.

`open_engine` is the one door to them: the command line and `lossdoctor.diagnose` both open
what they were given through it, and the choice of file or dataset, and of engine, is made
there alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

from lossdoctor.errors import InputError
from lossdoctor.io import Batch, Predictions

if TYPE_CHECKING:
    from lossdoctor.settings import Settings

T = TypeVar("T")
# `progress(done_rows, all_rows, pass_name)`, told after each batch of a streamed pass.
Progress = Callable[[int, int, str], None]


class Engine(Protocol):
    source: str
    format: str
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    weight_column: str  # '' without sample weights
    n_rows: int
    capacity: int | None  # distinct scores a ranking table holds exactly; None: all of them
    # merge(merged so far, next batch's summary), batch by batch in order: never two batches'
    # summaries first (a tree), so a batch's tables may go on the merged tables' grid early.
    merges_in_order: bool
    # Whether a batch is summarised while a core is left free (one table in memory), so that
    # the independent parts of its summary may run at once on two threads.
    spare_core: bool

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T: ...


def with_files(by: tuple[str, ...]) -> tuple[str, ...]:
    """A dataset's batches always say each row's file: its files are surveyed apart."""
    from lossdoctor.io.segments import FILE

    return by if FILE in by else (*by, FILE)


def streams(path: str, settings: Settings) -> bool:
    """Whether `path` opens as a dataset read in batches (a directory or a glob, or anything
    under the dask engine) rather than a file read whole."""
    from lossdoctor.io import is_dataset

    return settings.engine == "dask" or is_dataset(path)


@contextlib.contextmanager
def open_engine(
    source: str | os.PathLike[str] | Predictions,
    settings: Settings,
    progress: Progress | None = None,
    keep_freed_memory: bool = False,
) -> Iterator[Engine]:
    """The engine over `source`: a table already in memory, a file read whole, a dataset
    streamed on this machine (told to `progress`) or summarised on Dask. A cluster the engine
    started is closed on leaving. `keep_freed_memory`: the process is the command's own, so a
    large file read whole, or a large dataset streamed here, may keep its freed memory
    (lossdoctor.heap); a library call leaves its caller's allocator alone."""
    if isinstance(source, Predictions):
        from lossdoctor.engines.local import InMemory

        yield InMemory(source)
        return
    path = os.fspath(source)
    if keep_freed_memory and settings.engine != "dask":  # before any read, on any thread
        from lossdoctor import heap

        heap.keep_freed_memory(path)
    if not streams(path, settings):
        from lossdoctor.engines.local import InMemory
        from lossdoctor.io import read_predictions

        yield InMemory(
            read_predictions(
                path,
                labels_path=settings.labels_path,
                label_cols=settings.label_col,
                pred_cols=settings.pred_col,
                input_format=settings.input_format,
                weight_col=settings.weight_col,
                by=settings.by,
            )
        )
        return
    if settings.labels_path is not None:
        raise InputError(
            f"--labels reads one file; for the dataset {path}, keep the labels in a column "
            "of its files"
        )
    if path == "-":
        raise InputError("stdin (-) is read whole; give a file or a dataset path to stream")
    columns = {
        "label_cols": settings.label_col,
        "pred_cols": settings.pred_col,
        "weight_col": settings.weight_col,
        "partitioning": settings.partitioning,
        "by": with_files(settings.by),
    }
    if settings.engine == "dask":
        from lossdoctor.engines.dask import DaskEngine

        with DaskEngine(
            path,
            scheduler=settings.scheduler,
            timeout=settings.timeout,
            capacity=settings.capacity,
            **columns,
        ) as cluster:
            yield cluster
        return
    from lossdoctor.engines.local import Streaming
    from lossdoctor.io import open_dataset

    yield Streaming(open_dataset(path, **columns), progress, settings.capacity)
