"""The engines of one machine: a table already in memory, and a dataset streamed in batches."""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import TypeVar

from lossdoctor.io import Batch, Predictions
from lossdoctor.settings import DEFAULTS

T = TypeVar("T")


class InMemory:
    """One batch: the whole table, read before the diagnosis starts."""

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
    """Batches of a dataset read one after the other; memory holds one batch and the summary.

    `progress(done_rows, all_rows, pass_name)` is told after each batch: a progress bar, or
    nothing. A pass is named by its summary function's `label` attribute, when it has one.
    """

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
        report = None
        if self.progress is not None:
            name = getattr(summarize, "label", f"pass {self.passes}")
            progress = self.progress
            report = lambda rows: progress(rows, self.n_rows, name)  # noqa: E731
        return reduce(merge, map(summarize, self.dataset.batches(report)))
