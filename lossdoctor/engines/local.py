"""The engines of one machine: a table already in memory, and a dataset streamed in batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from lossdoctor.io import Batch, Predictions
from lossdoctor.settings import DEFAULTS

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
# Batches summarised at once: the two cores a laptop or a CI runner has at least; more would
# hold more batches in memory for little gain, as reading is one of the two jobs.
WORKERS = 2


class InMemory:
    """One batch: the whole table, read before the diagnosis starts."""

    merges_in_order = True

    def __init__(self, predictions: Predictions, capacity: int | None = None) -> None:
        self.batch = Batch(predictions, 0)
        self.source = predictions.source
        self.format = predictions.format
        self.label_columns = predictions.label_columns
        self.prediction_columns = predictions.prediction_columns
        self.weight_column = predictions.weight_column
        self.n_rows = len(predictions.y_score)
        self.capacity = capacity  # None: the ranking tables hold every score exactly

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T:
        return summarize(self.batch)


class Streaming:
    """Batches of a dataset read in order and summarised WORKERS at a time, on threads; their
    summaries merged in order, so the result is the one of summarising them one by one.

    Reading (pyarrow) and the summaries' numpy work release the GIL: while one batch is
    summarised the next is read and summarised on the other core. Memory holds WORKERS batches,
    read or being summarised, and the merged summary.

    `progress(done_rows, all_rows, pass_name)` is told after each batch is merged: a progress
    bar, or nothing. A pass is named by its summary function's `label` attribute, when it has
    one.
    """

    merges_in_order = True

    def __init__(
        self,
        dataset,
        progress: Callable[[int, int, str], None] | None = None,
        capacity: int | None = DEFAULTS.capacity,
    ) -> None:
        self.dataset = dataset
        self.source = dataset.source
        self.format = dataset.format
        self.label_columns = dataset.label_columns
        self.prediction_columns = dataset.prediction_columns
        self.weight_column = dataset.weight_column
        self.n_rows = dataset.n_rows
        self.progress = progress
        self.capacity = capacity
        self.passes = 0

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T:
        self.passes += 1
        name = getattr(summarize, "label", f"pass {self.passes}")
        from concurrent.futures import ThreadPoolExecutor  # a dataset's cost, not a file's

        merged: T | None = None
        # the rows of each batch, told by the dataset once the batch has been taken
        rows: deque[int] = deque()
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="lossdoctor") as pool:
            running: deque[Future[T]] = deque()
            try:
                for batch in self.dataset.batches(rows.append):
                    running.append(pool.submit(summarize, batch))
                    if len(running) == WORKERS:  # the next batch is read once one is merged
                        merged = self._merged(merged, running.popleft(), merge, rows, name)
                while running:
                    merged = self._merged(merged, running.popleft(), merge, rows, name)
            finally:
                for future in running:  # after an error, what has not started never does
                    future.cancel()
        return merged

    def _merged(
        self, merged: T | None, done: Future[T], merge: Callable, rows: deque[int], name: str
    ) -> T:
        summary = done.result()
        merged = summary if merged is None else merge(merged, summary)
        if self.progress is not None:
            self.progress(rows.popleft(), self.n_rows, name)
        return merged
