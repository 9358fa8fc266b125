"""What a paired comparison needs of each batch, in summaries that merge.

The first pass holds, for the rows both models could score: the pairs where only one model is
right (McNemar), the moments of the per-row differences of log loss and squared error (paired t),
each model's exact value table per class (the AUCs, and the placements DeLong's test reads), and
the rows by true class and both models' predicted classes, from which the bootstrap draws. The
second pass, given the merged tables, sums the squared differences of the two models'
placements: DeLong's paired variance, per class and for the macro average of several classes.
In memory the first pass sums them too: the sorts that make its tables place every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial, reduce
from typing import NamedTuple

import numpy as np

from lossdoctor.infer import Plan, Prepared
from lossdoctor.infer.decisions import Task
from lossdoctor.losses import (
    BLOCK_ROWS,
    log_softmax_losses,
    logit_losses,
    multiclass_brier_rows,
    row_losses,
    true_class_probability,
)
from lossdoctor.pipeline import logits_of
from lossdoctor.stats.bootstrap import poisson_weights
from lossdoctor.stats.means import Moments
from lossdoctor.threads import at_once
from lossdoctor.value_tables import ValueTable, dense, grid_bits, merge, tabulate
from lossdoctor.value_tables.build import THREADED_ROWS

from .cells import JointCells, scored_cells
from .labels import LabelCells, cell_classes, cell_codes
from .pairing import PairedBatch, label_differences
from .placements import (
    PlacementSums,
    Ranked,
    entry_placements,
    macro_term,
    moved_placements,
    placed_rows,
    placement,
    placement_sums,
    ranked_classes,
)

# Bootstrap weights drawn at once (replicates x rows): temporaries of a few megabytes.
_BOOTSTRAP_CELLS = 1 << 20
# Weighted rows draw each replicate's joint confusion of K**3 cells (float64, held whole): past
# this many replicates x cells (64 MB), their F1, MCC and balanced accuracy go untested.
WEIGHTED_CELLS = 1 << 23


@dataclass(frozen=True)
class Sides:
    """The two plans, and the settings of the comparison."""

    baseline: Plan
    candidate: Plan
    threshold: float
    replicates: int
    seed: int
    # distinct scores the value tables hold exactly (None: all, in memory); past it, a grid
    capacity: int | None = None

    @property
    def tables_capacity(self) -> int | None:
        """Each per-class table's share, so that memory stays bounded whatever the classes."""
        n_tables = 1 if self.baseline.task == Task.BINARY else self.baseline.n_classes
        return None if self.capacity is None else max(self.capacity // n_tables, 1)

    @property
    def bits(self) -> int:
        n_tables = 1 if self.baseline.task == Task.BINARY else self.baseline.n_classes
        return grid_bits(n_tables)


@dataclass(frozen=True)
class PairedSummary:
    rows: int  # paired rows both models score
    mismatches: int  # rows whose labels differ between the files
    first_mismatch: int  # the row number of the first of them; -1 when none
    only_baseline: int  # rows only the baseline predicts right
    only_candidate: int
    loss: Moments  # per-row log loss, candidate - baseline
    brier: Moments  # per-row squared error, candidate - baseline
    tables: tuple[tuple[ValueTable, ValueTable], ...]  # per class (binary: 1): both models'
    # rows by true class, the baseline's and the candidate's predicted class; the bootstrap
    # draws its replicates from these counts (stats.bootstrap.cell_replicates)
    joint: LabelCells
    # With sample weights only, whose sums no count gives: each replicate's summed Poisson
    # weights times the sample weights, by joint cell (replicates, K, K, K; None past
    # WEIGHTED_CELLS), and its sums of weights, of weighted loss and squared-error differences
    # and of the weights each model predicts right (replicates, 5)
    confusions: np.ndarray | None = None
    totals: np.ndarray | None = None
    # In memory (one batch, exact tables): DeLong's sums, read from the sorts that made the
    # tables; a merge drops them (a batch's tables are not all rows'), and a second pass sums
    placements: PlacementSums | None = None
    # Without sample weights: the rows by both models' scores and hits (the paired bootstrap
    # of average precision and ECE); None for no rows, or weighted ones
    scored: JointCells | None = None

    def merge(self, other: PairedSummary, capacity: int | None = None) -> PairedSummary:
        firsts = [r for r in (self.first_mismatch, other.first_mismatch) if r >= 0]
        return PairedSummary(
            self.rows + other.rows,
            self.mismatches + other.mismatches,
            min(firsts, default=-1),
            self.only_baseline + other.only_baseline,
            self.only_candidate + other.only_candidate,
            self.loss.merge(other.loss),
            self.brier.merge(other.brier),
            tuple(
                (merge(a0, b0, capacity), merge(a1, b1, capacity))
                for (a0, a1), (b0, b1) in zip(self.tables, other.tables, strict=True)
            ),
            self.joint.merge(other.joint),
            _summed(self.confusions, other.confusions),
            _summed(self.totals, other.totals),
            scored=_merged(self.scored, other.scored),
        )


def _merged(a: JointCells | None, b: JointCells | None) -> JointCells | None:
    return b if a is None else a if b is None else a.merge(b)


def summarize_pair(sides: Sides, pair: PairedBatch) -> PairedSummary:
    """The first pass over one paired batch."""
    differ = label_differences(pair.baseline.predictions.y_true, pair.candidate.predictions.y_true)
    wrong = np.flatnonzero(differ)
    first_mismatch = pair.baseline.first_row + int(wrong[0]) if wrong.size else -1
    a, b = _common_rows(
        sides.baseline.prepare(pair.baseline), sides.candidate.prepare(pair.candidate)
    )
    if sides.capacity is None and a.weights is None:
        # in memory: the tables and DeLong's sums from sorts, beside the row by row sums
        (tables, placements), rows = at_once(
            partial(_sorted_sums, sides, a, b),
            partial(_row_sums, sides, a, b),
            len(a.y) >= THREADED_ROWS,
        )
    else:
        placements = None
        tables = tuple(
            (_tabulate(sides, ranked_a, is_hit), _tabulate(sides, ranked_b, is_hit))
            for ranked_a, ranked_b, is_hit in ranked_classes(sides.baseline, sides.candidate, a, b)
        )
        rows = _row_sums(sides, a, b)
    only_baseline, only_candidate = rows.joint.discordant()
    return PairedSummary(
        rows=len(a.y),
        mismatches=int(wrong.size),
        first_mismatch=first_mismatch,
        only_baseline=only_baseline,
        only_candidate=only_candidate,
        loss=rows.loss,
        brier=rows.brier,
        tables=tables,
        joint=rows.joint,
        confusions=rows.confusions,
        totals=rows.totals,
        placements=placements,
        scored=rows.scored,
    )


class _RowSums(NamedTuple):
    joint: LabelCells
    loss: Moments
    brier: Moments
    confusions: np.ndarray | None
    totals: np.ndarray | None
    scored: JointCells | None


def _row_sums(sides: Sides, a: Prepared, b: Prepared) -> _RowSums:
    """The row by row quantities, a block at a time: temporaries of a few megabytes."""
    joint = LabelCells.empty(sides.baseline.n_classes)
    loss = brier = Moments(0.0, 0.0, 0.0)
    confusions = totals = scored = None
    for x, y in zip(a.blocks(BLOCK_ROWS), b.blocks(BLOCK_ROWS), strict=True):
        losses = row_loss(sides.candidate, y) - row_loss(sides.baseline, x)
        squares = row_brier(sides.candidate, y) - row_brier(sides.baseline, x)
        cells = _cells(sides, x, y)
        joint = joint.merge(LabelCells.of(sides.baseline.n_classes, cells))
        loss, brier = loss.merge(Moments.of(losses)), brier.merge(Moments.of(squares))
        if x.weights is not None:
            drawn, drawn_totals = _weighted_bootstrap(sides, x, cells, losses, squares)
            confusions = _summed(confusions, drawn)
            totals = _summed(totals, drawn_totals)
        elif scored is None or not scored.overflow:  # past the capacity: no more counting
            part = scored_cells(sides.baseline.task, x, y)
            scored = part if scored is None else scored.merge(part)
    return _RowSums(joint, loss, brier, confusions, totals, scored)


def _common_rows(a: Prepared, b: Prepared) -> tuple[Prepared, Prepared]:
    """The rows both models could score (a row neither file can use is left by both)."""
    if a.rows is None and b.rows is None and len(a.y) == len(b.y):
        return a, b
    rows_a = a.row_numbers(np.arange(len(a.y)))
    rows_b = b.row_numbers(np.arange(len(b.y)))
    _, keep_a, keep_b = np.intersect1d(rows_a, rows_b, assume_unique=True, return_indices=True)
    return _take(a, keep_a), _take(b, keep_b)


def _take(prepared: Prepared, index: np.ndarray) -> Prepared:
    weights = prepared.weights
    return Prepared(
        prepared.scores[index],
        prepared.labels[index],
        prepared.y[index],
        prepared.proba[index],
        prepared.row_numbers(index),
        prepared.first_row,
        None if weights is None else weights[index],
    )


def _predicted(plan: Plan, proba: np.ndarray, threshold: float) -> np.ndarray:
    """Each row's predicted class as the report counts it: p >= threshold, or the argmax."""
    if plan.task == Task.BINARY:
        return (proba >= proba.dtype.type(threshold)).astype(np.intp)
    return np.argmax(proba, axis=1)


def _tabulate(sides: Sides, ranked: Ranked, is_hit: np.ndarray) -> ValueTable:
    return tabulate(ranked.scores, is_hit, sides.tables_capacity, sides.bits, ranked.squash)


def row_loss(plan: Plan, prepared: Prepared) -> np.ndarray:
    """Each row's log loss as the report sums it (from logits when the scores are logits)."""
    logits = logits_of(plan, prepared)
    if plan.task == Task.BINARY:
        if logits is not None:
            return logit_losses(prepared.y.astype(bool), logits)
        return row_losses(true_class_probability(prepared.y, prepared.proba))
    if logits is not None:
        return log_softmax_losses(prepared.y, logits)
    return row_losses(true_class_probability(prepared.y, prepared.proba))


def row_brier(plan: Plan, prepared: Prepared) -> np.ndarray:
    """Each row's share of the Brier score: (y - p)^2, or over K classes the sum of squares."""
    if plan.task == Task.BINARY:
        return np.square(prepared.y - prepared.proba.astype(np.float64))
    true_class = true_class_probability(prepared.y, prepared.proba)
    squares = multiclass_brier_rows(prepared.proba, true_class)
    return squares / 2 if plan.n_classes == 2 else squares


def _summed(first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
    """Sums that a batch without them (no rows, or no weighted cells) leaves as None."""
    if first is None or second is None:
        return second if first is None else first
    return first + second


def _cells(sides: Sides, a: Prepared, b: Prepared) -> np.ndarray:
    """Each row's joint cell: true class, the baseline's and the candidate's predicted class."""
    return cell_codes(
        sides.baseline.n_classes,
        a.y,
        _predicted(sides.baseline, a.proba, sides.threshold),
        _predicted(sides.candidate, b.proba, sides.threshold),
    )


def _weighted_bootstrap(
    sides: Sides, a: Prepared, cells: np.ndarray, loss: np.ndarray, brier: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Every replicate's weighted joint confusion and totals, from each row's Poisson weight
    (a hash of its row number): sums of sample weights are not counts, so each row draws."""
    k = sides.baseline.n_classes
    rows = a.row_numbers(np.arange(len(a.y)))
    confusions = None
    if sides.replicates * k**3 <= WEIGHTED_CELLS:
        confusions = np.zeros((sides.replicates, k**3))
    totals = np.zeros((sides.replicates, 5))
    true, first, second = cell_classes(k, cells)
    per_row = np.stack([np.ones(len(a.y)), loss, brier, first == true, second == true], axis=1)
    per_row *= a.weights[:, None]
    replicates = np.arange(sides.replicates)[:, None]
    offsets = replicates * k**3
    block = max(_BOOTSTRAP_CELLS // max(sides.replicates, 1), 64)
    for start in range(0, len(rows), block):
        part = slice(start, start + block)
        weights = poisson_weights(rows[part], replicates, sides.seed).astype(np.float64)
        totals += weights @ per_row[part]
        if confusions is None:
            continue
        weights *= per_row[part, 0]
        cells_of = (offsets + cells[part]).ravel()
        confusions += np.bincount(cells_of, weights.ravel(), minlength=confusions.size).reshape(
            confusions.shape
        )
    if confusions is not None:
        confusions = confusions.reshape(sides.replicates, k, k, k)
    return confusions, totals


def placement_pass(sides: Sides, tables: tuple[tuple[ValueTable, ValueTable], ...]):
    """The second pass's summary function, given the merged tables: each row found in them."""
    tables = tuple((dense(first), dense(second)) for first, second in tables)
    placements = [tuple(map(entry_placements, both)) for both in tables]
    terms = [macro_term(len(tables) > 1, first, second) for first, second in tables]
    n_terms = sum(term is not None for term in terms)

    def summarize_block(a: Prepared, b: Prepared) -> PlacementSums:
        classes = zip(
            tables,
            placements,
            ranked_classes(sides.baseline, sides.candidate, a, b),
            terms,
            strict=True,
        )
        return placement_sums(
            (
                (
                    placement(second, at_b, ranked_b, is_hit)
                    - placement(first, at_a, ranked_a, is_hit),
                    is_hit,
                    term,
                )
                for (first, second), (at_a, at_b), (ranked_a, ranked_b, is_hit), term in classes
            ),
            n_terms,
        )

    def summarize(pair: PairedBatch) -> PlacementSums:
        a, b = _common_rows(
            sides.baseline.prepare(pair.baseline), sides.candidate.prepare(pair.candidate)
        )
        blocks = zip(a.blocks(BLOCK_ROWS), b.blocks(BLOCK_ROWS), strict=True)
        return reduce(PlacementSums.merge, (summarize_block(x, y) for x, y in blocks))

    summarize.label = "second pass: each row's place for DeLong's test"
    return summarize


def _sorted_sums(
    sides: Sides, a: Prepared, b: Prepared
) -> tuple[tuple[tuple[ValueTable, ValueTable], ...], PlacementSums]:
    """In memory: both models' exact tables per class from one sort each, and the placement
    sums read from the same sorts."""
    classes = list(ranked_classes(sides.baseline, sides.candidate, a, b))
    several = len(classes) > 1
    counts = [(int(np.count_nonzero(is_hit)), is_hit.size) for _, _, is_hit in classes]
    n_terms = sum(several and hits >= 2 and n - hits >= 2 for hits, n in counts)
    tables = []

    def each_class():
        for ranked_a, ranked_b, is_hit in classes:
            first, second = at_once(
                partial(placed_rows, ranked_a, is_hit, sides.bits),
                partial(placed_rows, ranked_b, is_hit, sides.bits),
                is_hit.size >= THREADED_ROWS,
            )
            moved = moved_placements(first, second, is_hit)
            tables.append((first.table, second.table))
            del first, second
            yield moved, is_hit, macro_term(several, *tables[-1])

    sums = placement_sums(each_class(), n_terms)
    return tuple(tables), sums
