"""The best one-to-one matching of rows to columns of a square table (the assignment problem).

Kuhn and Munkres' Hungarian method in the shortest-augmenting-path form of Jonker and Volgenant
(1987): rows are added one at a time, each along the cheapest path of alternating columns found
with dual potentials, so the whole costs O(K^3) and the step over the columns is one numpy
operation. A table whose best column in every row is free (a confusion matrix heavy on its
diagonal, or on a permutation of it) takes one step per row: O(K^2).
"""

from __future__ import annotations

import numpy as np


def best_assignment(score: np.ndarray) -> np.ndarray:
    """The column of each row that maximises the total score; a permutation of 0..K-1.

    The same optimum as scipy.optimize.linear_sum_assignment(score, maximize=True) (when
    several assignments tie, either may be returned).
    """
    n = score.shape[0]
    cost = np.asarray(score, dtype=np.float64)
    cost = cost.max(initial=0.0) - cost  # maximising the score is minimising this, all >= 0
    row_potential = np.zeros(n + 1)
    column_potential = np.zeros(n + 1)
    owner = np.zeros(n + 1, dtype=np.intp)  # row (1-based) holding each column; 0: free
    came_from = np.zeros(n + 1, dtype=np.intp)
    for row in range(1, n + 1):
        owner[0] = row  # column 0 is a virtual start, held by the row being added
        column = 0
        slack = np.full(n + 1, np.inf)
        visited = np.zeros(n + 1, dtype=bool)
        while owner[column]:
            visited[column] = True
            held_by = owner[column]
            reduced = cost[held_by - 1] - row_potential[held_by] - column_potential[1:]
            open_ = ~visited[1:]
            better = open_ & (reduced < slack[1:])
            slack[1:][better] = reduced[better]
            came_from[1:][better] = column
            candidates = np.where(open_, slack[1:], np.inf)
            nearest = int(np.argmin(candidates)) + 1
            step = candidates[nearest - 1]
            row_potential[owner[visited]] += step
            column_potential[visited] -= step
            slack[~visited] -= step
            column = nearest
        while column:  # flip the path: each column on it passes to the row before it
            previous = came_from[column]
            owner[column] = owner[previous]
            column = previous
    assignment = np.empty(n, dtype=np.intp)
    assignment[owner[1:] - 1] = np.arange(n)
    return assignment
