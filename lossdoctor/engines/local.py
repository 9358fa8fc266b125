"""The engines of one machine: a table already in memory, and a dataset streamed in batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import count
from threading import Lock
from typing import TypeVar

from lossdoctor.io import Batch, Predictions
from lossdoctor.settings import DEFAULTS

T = TypeVar("T")
# Batches summarised at once: the two cores a laptop or a CI runner has at least; more would
# hold more batches in memory for little gain, as reading is one of the two jobs.
WORKERS = 2


class InMemory:
    """One batch: the whole table, read before the diagnosis starts."""

    merges_in_order = True

    def __init__(
        self, predictions: Predictions, capacity: int | None = None, spare_core: bool = True
    ) -> None:
        """`spare_core`: nothing else runs beside the diagnosis (the one batch is summarised
        on the calling thread)."""
        self.batch = Batch(predictions, 0)
        self.spare_core = spare_core
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

    Each worker reads its next batch itself (one at a time: the dataset is read in order) and
    summarises it; the calling thread merges. Reading (pyarrow) and the summaries' numpy work
    release the GIL, so a worker that finishes a batch starts on the next at once, instead of
    idling while the calling thread merges one and reads another. Memory holds WORKERS batches,
    read, being summarised or summarised and waiting for an earlier one, and the merged summary.

    `progress(done_rows, all_rows, pass_name)` is told after each batch is merged: a progress
    bar, or nothing. A pass is named by its summary function's `label` attribute, when it has
    one.
    """

    merges_in_order = True
    spare_core = False  # both cores summarise batches

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
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        # the rows of each batch, told by the dataset once the next batch has been taken
        rows: deque[int] = deque()
        batches = self.dataset.batches(rows.append)
        taking = Lock()
        places = count()

        def summarize_next() -> tuple[int, T] | None:
            """The next batch's place in the dataset and its summary; None past the last."""
            with taking:
                batch = next(batches, None)
                place = next(places)
            return None if batch is None else (place, summarize(batch))

        merged: T | None = None
        waiting: dict[int, T] = {}  # summaries of batches after one still being summarised
        merges = told = 0
        read_all = False
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="lossdoctor") as pool:
            running: set[Future] = set()

            def start() -> None:
                """A worker for each batch fewer than WORKERS that memory holds."""
                while not read_all and len(running) + len(waiting) < WORKERS:
                    running.add(pool.submit(summarize_next))

            try:
                start()
                while running:
                    done = wait(running, return_when=FIRST_COMPLETED).done
                    running -= done
                    for future in done:
                        result = future.result()
                        read_all = read_all or result is None
                        if result is not None:
                            waiting[result[0]] = result[1]
                    start()  # before the merges: the workers need not wait for them
                    while merges in waiting:
                        summary = waiting.pop(merges)
                        merged = summary if merged is None else merge(merged, summary)
                        merges += 1
                        told = self._told(told, merges, rows, name)
                    start()
            finally:
                for future in running:  # after an error, what has not started never does
                    future.cancel()
        self._told(told, merges, rows, name)  # the last batch's rows, told once all are read
        return merged

    def _told(self, told: int, merges: int, rows: deque[int], name: str) -> int:
        """Progress told for the merged batches whose rows the dataset has told; how many."""
        while told < merges and rows:
            told += 1
            done_rows = rows.popleft()
            if self.progress is not None:
                self.progress(done_rows, self.n_rows, name)
        return told
