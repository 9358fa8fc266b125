"""Summaries several checks read, so each is computed once per batch whoever needs it.

RowLosses: the cross-entropy of every row under each clipping constant a framework uses
(saturation, loss-reconciliation). ClassRows: the rows of each class (class-imbalance,
label-issues). KerasAsGiven: the loss a framework prints when it takes scores that are not
probabilities for probabilities (logits-vs-probabilities, loss-reconciliation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoctor.checks.summaries import Summary
from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import NOT_PROBABILITIES, Task
from lossdoctor.losses import KERAS_EPSILON, keras_loss_sum, row_losses, weighted_sum

# Clipping constants the cross-entropy is recomputed under: each framework prints another.
FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
FLOAT64_EPSILON = float(np.finfo(np.float64).eps)
EPSILONS = {"unclipped": 0.0, "keras": KERAS_EPSILON, "float32": FLOAT32_EPSILON}
FLOAT64 = "float64"
EPSILONS[FLOAT64] = FLOAT64_EPSILON
# Per-row losses (clipped at float64 eps, at most 36.04) binned to find the worst 1 % share.
LOSS_BINS = 4096
LOSS_CEILING = -float(np.log(FLOAT64_EPSILON))


@dataclass(frozen=True)
class RowLosses(Summary):
    """The cross-entropy of the true-class probabilities under each clipping constant."""

    cells: int | float  # cells of the cross-entropy (rows; multi-label: rows x labels)
    sums: dict[str, float]  # EPSILONS name -> sum of -log(clip(q, eps, 1 - eps))
    true_class_zero: int  # cells whose true class (or true value) has probability exactly 0
    bins: np.ndarray  # counts of per-cell losses (float64 eps) in LOSS_BINS bins
    bin_sums: np.ndarray

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> RowLosses:
        q, weights = batch.true_class, batch.weights
        # a cell weighs its row's weight
        cell_weights = None if weights is None else np.repeat(weights, q.size // max(len(q), 1))
        losses = row_losses(q, 0.0).ravel()
        true_class_zero = int(np.count_nonzero(np.isinf(losses)))
        scratch = np.empty_like(losses)
        # every clip but float64 eps's is read off the unclipped losses, which are then
        # clipped in place: two batch-sized arrays in all, where each clip would be one more
        sums = _clipped_sums(losses, q.dtype, cell_weights, scratch)
        np.clip(losses, *_loss_range(q.dtype, FLOAT64_EPSILON), out=losses)
        sums[FLOAT64] = weighted_sum(losses, cell_weights)
        scaled = np.multiply(losses, LOSS_BINS / LOSS_CEILING, out=scratch)
        # float64 -> int32 is vectorised where float64 -> int64 is not: ten times faster.
        narrow = scaled.astype(np.int32)
        np.minimum(narrow, LOSS_BINS - 1, out=narrow)
        # as bincount counts them, cast once for both counts, into the spent scratch
        bins = scratch.view(np.intp)
        np.copyto(bins, narrow)
        del narrow
        return cls(
            cells=q.size if weights is None else float(cell_weights.sum()),
            sums={name: sums[name] for name in EPSILONS},
            true_class_zero=true_class_zero,
            bins=np.bincount(bins, cell_weights, minlength=LOSS_BINS),
            bin_sums=np.bincount(
                bins, losses if weights is None else losses * cell_weights, minlength=LOSS_BINS
            ),
        )

    def mean(self, epsilon: str) -> float:
        """The cross-entropy clipped at EPSILONS[epsilon]."""
        return self.sums[epsilon] / self.cells

    def worst_share(self, share: float) -> float:
        """The share of the loss (clipped at float64 eps) carried by the worst `share` of cells.

        Read off the binned losses: whole bins from the top, then the cut bin at its mean.
        """
        total = float(self.bin_sums.sum())
        if total == 0:
            return 0.0
        k = max(1, int(np.ceil(share * self.cells)))
        counts, sums = self.bins[::-1], self.bin_sums[::-1]
        above = np.cumsum(counts)
        cut = int(np.searchsorted(above, k))
        before = int(above[cut - 1]) if cut else 0
        partial = (k - before) * sums[cut] / counts[cut] if counts[cut] else 0.0
        return float((sums[:cut].sum() + partial) / total)


def _clipped_sums(
    unclipped: np.ndarray, dtype: np.dtype, weights: np.ndarray | None, scratch: np.ndarray
) -> dict[str, float]:
    """The summed losses under each of EPSILONS but float64 eps, from the unclipped ones:
    each clip is written into `scratch`, whose values are spent. Unclipped losses are at
    least -0.0 (q at most 1): their sum is the sum of their clip at 0.0 but for the sign of a
    zero, which adding 0.0 makes positive."""
    sums = {}
    for name, eps in EPSILONS.items():
        if name == FLOAT64:
            continue
        if eps == 0 and weights is None:
            sums[name] = float(np.sum(unclipped)) + 0.0
            continue
        clipped = np.clip(unclipped, *_loss_range(dtype, eps), out=scratch)
        sums[name] = weighted_sum(clipped, weights)
    return sums


def _loss_range(dtype: np.dtype, eps: float) -> tuple[float, float]:
    """The per-row losses `row_losses(q, eps)` clips to: -log of q's own clip, rounded as q is.

    Clipping -log(q) there gives row_losses' values exactly, from one logarithm for all eps.
    """
    if eps == 0:
        return 0.0, np.inf
    as_dtype = dtype.type if dtype.type(eps) != 0 else np.float64
    low, high = float(as_dtype(eps)), float(as_dtype(1 - eps))
    return -np.log(high), -np.log(low)


@dataclass(frozen=True)
class ClassRows(Summary):
    """The rows of each class (sums of weights when weighted); none kept for multi-label."""

    rows: np.ndarray

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> ClassRows:
        if plan.task == Task.MULTILABEL:
            dtype = np.int64 if batch.weights is None else np.float64
            return cls(np.zeros(plan.n_classes, dtype=dtype))
        if plan.n_classes == 2 and batch.weights is None:  # a count: no copy of y as indices
            positives = np.count_nonzero(batch.y)
            return cls(np.array([len(batch.y) - positives, positives], dtype=np.intp))
        return cls(np.bincount(batch.y, batch.weights, minlength=plan.n_classes))


@dataclass(frozen=True)
class KerasAsGiven(Summary):
    """The scores as given taken for probabilities and Keras-clipped: what a framework prints
    with from_logits=False; zero unless the scores are not probabilities."""

    loss_sum: float
    cells: int | float

    @classmethod
    def summarize(cls, plan: Plan, batch: Prepared) -> KerasAsGiven:
        if plan.kind not in NOT_PROBABILITIES:
            return cls(0.0, 0)
        return cls(*keras_loss_sum(batch.y, positive_scores(plan, batch), weights=batch.weights))

    @property
    def loss(self) -> float:
        return self.loss_sum / self.cells


def positive_scores(plan: Plan, batch: Prepared) -> np.ndarray:
    """The scores as given, as P(class 1) for a binary task saved as two columns."""
    scores = batch.scores
    return scores[:, 1] if plan.task == Task.BINARY and scores.ndim == 2 else scores
