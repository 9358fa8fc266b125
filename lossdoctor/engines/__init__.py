"""Where the batches come from and where their summaries are computed and merged.

The pipeline asks an engine for one thing: apply a summary function to every batch of rows and
merge the results. In memory that is one batch; a dataset streams batch by batch on this
machine; `--engine dask` computes partitions on a cluster. The rules never know which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from lossdoctor.io import Batch

T = TypeVar("T")


class Engine(Protocol):
    source: str
    format: str
    label_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    n_rows: int

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T: ...
