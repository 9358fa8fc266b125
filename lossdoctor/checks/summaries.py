"""What a check reads of the rows: summaries that merge, each computed once per batch.

A summary is a frozen dataclass of counts and sums over a batch of usable rows, built by its
`summarize(plan, batch)`. Two batches' summaries merge into the summary of both: a field adds
(a dict key by key) unless its metadata is LOWEST or HIGHEST. A file in memory is one
batch; a dataset streams batch by batch; a cluster merges partitions: the checks read the merged
summaries, so the rules are the same at every size.

A check names the summaries it reads in `SUMMARIES`: its own, defined in its module, and any of
the shared ones (lossdoctor.checks.shared) that several checks read. The pipeline computes the
summaries the selected checks name, each once per batch, and a check reads `s[Kind]`.

With sample weights every sum over rows, and every count a check divides into a share, is a sum
of the rows' weights (a cell weighs its row's): integer weights give what the rows repeated
would give. Counts that only say whether any row is so (saturated cells) stay counts of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from lossdoctor.infer import Plan, Prepared

MERGE = "merge"
S = TypeVar("S", bound="Summary")


def _add(a: Any, b: Any) -> Any:
    return {k: a[k] + b[k] for k in a} if isinstance(a, dict) else a + b


def _lowest(a: Any, b: Any) -> Any:
    return np.minimum(a, b) if isinstance(a, np.ndarray) else min(a, b)


def _highest(a: Any, b: Any) -> Any:
    return np.maximum(a, b) if isinstance(a, np.ndarray) else max(a, b)


# A field declared `field(metadata=LOWEST)` merges to the lower of the two batches' values (a
# minimum over rows), `field(metadata=HIGHEST)` to the higher.
LOWEST = {MERGE: _lowest}
HIGHEST = {MERGE: _highest}


class Summary:
    """Base of every summary (a frozen dataclass): fields merge as they declare."""

    @classmethod
    def summarize(cls: type[S], plan: Plan, batch: Prepared) -> S:
        raise NotImplementedError

    def merge(self: S, other: S) -> S:
        """The summary of both batches' rows."""
        merged = {
            f.name: f.metadata.get(MERGE, _add)(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)  # type: ignore[arg-type]
        }
        return replace(self, **merged)  # type: ignore[type-var]


Summaries = Mapping[type, Summary]


def needed_by(checks: Iterable[Any]) -> tuple[type[Summary], ...]:
    """The summaries the checks read, each once, in the order the checks name them."""
    return tuple(dict.fromkeys(kind for check in checks for kind in check.SUMMARIES))


def summarize_all(kinds: Iterable[type[Summary]], plan: Plan, batch: Prepared) -> dict:
    """Each summary of one batch."""
    return {kind: kind.summarize(plan, batch) for kind in kinds}


def merge_all(a: Mapping[type, Summary], b: Mapping[type, Summary]) -> dict:
    """Two batches' summaries merged, kind by kind."""
    return {kind: summary.merge(b[kind]) for kind, summary in a.items()}
