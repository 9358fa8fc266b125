"""The bootstrap's Poisson draws of cells: Poisson in distribution (against scipy), a function
of the seed, the cell and the replicate alone (against a pure-Python transcription of the hash
and of numpy's PTRS), the same whatever the block of replicates."""

import math

import numpy as np
import pytest
from scipy import special, stats

from lossdoctor.stats.bootstrap import cell_replicates, replicate_blocks
from lossdoctor.stats.poisson import _small_table, log_factorial

MASK = 2**64 - 1


def splitmix(x: int) -> int:
    """splitmix64's output for state x, written out with Python integers."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def key_of(seed) -> int:
    key = 0
    for part in seed if isinstance(seed, tuple) else (seed,):
        key = splitmix(key ^ part)
    return key


def uniform(key: int, stream: int, counter: int) -> float:
    """The uniform at a counter of a stream: the state is the counter times splitmix64's
    constant plus the stream's key."""
    word = splitmix((counter * 0x9E3779B97F4A7C15 + splitmix(key ^ stream)) & MASK)
    return (word >> 11) / 2.0**53


def small_draw(mean: int, u: float) -> int:
    """The inverse distribution function, from scipy's: the least k with u < P(X <= k)."""
    return int(np.searchsorted(stats.poisson.cdf(np.arange(200), mean), u, side="right"))


def ptrs_draw(mean: float, key: int, counter: int) -> int:
    """numpy's random_poisson_ptrs, line by line, with math.lgamma for log(k!)."""
    slam, loglam = math.sqrt(mean), math.log(mean)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    attempt = 0
    while True:
        u = uniform(key, 2 * attempt, counter) - 0.5
        v = uniform(key, 2 * attempt + 1, counter)
        attempt += 1
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= (
            -mean + k * loglam - math.lgamma(k + 1)
        ):
            return k


def test_draws_depend_on_the_seed_the_cell_and_the_replicate_alone():
    """Checked against the same hash written with Python integers and the distributions of
    scipy: nothing of numpy's generators or version enters the draws."""
    counts = np.array([[1, 0, 4], [63, 0, 64], [2500, 1, 10**6]], dtype=float)
    seed = (7, 3)
    drawn = cell_replicates(counts, 40, seed)
    occupied = np.flatnonzero(counts)
    key = key_of(seed)
    for replicate in range(40):
        for place, cell in enumerate(occupied):
            mean = counts.flat[cell]
            counter = replicate * occupied.size + place
            if mean < 64:
                want = small_draw(int(mean), uniform(key, 0, counter))
            else:
                want = ptrs_draw(mean, key, counter)
            assert drawn[replicate].flat[cell] == want, (replicate, cell)
    assert (drawn[:, counts == 0] == 0).all()


@pytest.mark.parametrize("mean", [1, 2, 3, 9, 10, 30, 63])
def test_small_tables_are_scipys_distribution_to_rounding(mean):
    """A draw k takes the uniforms between the (k-1)-th and k-th thresholds: its mass."""
    guide, steps = _small_table(mean)
    masses = np.diff(np.r_[0.0, steps.astype(float)]) / 2.0**53
    want = stats.poisson.pmf(np.arange(steps.size), mean)
    np.testing.assert_allclose(masses, want, rtol=1e-9, atol=2e-16)
    assert stats.poisson.sf(steps.size - 2, mean) < 1e-15  # the tail, in the last draw
    # the guide's draw of each bucket is that of both ends of it
    width = 2 ** (53 - 12)
    for bucket in np.flatnonzero(guide != 255)[:: max(guide.size // 200, 1)]:
        for u in (bucket * width, (bucket + 1) * width - 1):
            assert np.searchsorted(steps, np.uint64(u), side="right") == guide[bucket]


@pytest.mark.parametrize("mean", [1, 3, 9, 30, 63, 64, 100, 9.5e3, 1e6])
def test_draws_are_poisson_in_distribution(mean):
    """A chi-square test of 200,000 draws against scipy's pmf (the cells of expected counts
    below 20 merged into their neighbours), their mean and variance."""
    drawn = cell_replicates(np.full(500, mean), 400, seed=int(mean)).ravel()
    low, high = stats.poisson.ppf([1e-5, 1 - 1e-5], mean)
    values = np.arange(low, high + 1)
    expected = stats.poisson.pmf(values, mean)
    expected[0], expected[-1] = stats.poisson.cdf(low, mean), stats.poisson.sf(high - 1, mean)
    observed = np.bincount((np.clip(drawn, low, high) - low).astype(int), minlength=values.size)
    # coarser cells of at least 20 expected draws each
    groups = np.floor(np.cumsum(expected) * drawn.size / max(20.0, drawn.size / 200))
    observed, expected = (np.bincount(groups.astype(int), weights=x) for x in (observed, expected))
    observed, expected = observed[expected > 0], expected[expected > 0]
    expected *= drawn.size / expected.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    assert (drawn == np.floor(drawn)).all() and drawn.min() >= 0
    standard_error = math.sqrt(mean / drawn.size)
    assert abs(drawn.mean() - mean) < 5 * standard_error
    assert drawn.var() == pytest.approx(mean, rel=5 * math.sqrt(2 / drawn.size) + 1e-3)


def test_a_mean_drawn_alone_or_beside_others_is_the_same():
    """The draw of a cell reads its place among the occupied cells, not the other means."""
    counts = np.array([3.0, 0.0, 500.0, 1.0, 0.0, 70.0])
    drawn = cell_replicates(counts, 300, 5)
    assert (drawn[:, [1, 4]] == 0).all()
    occupied = counts[counts > 0]
    np.testing.assert_array_equal(cell_replicates(occupied, 300, 5), drawn[:, counts > 0])


def test_the_same_replicates_whatever_the_blocks_or_their_number():
    counts = np.array([[1.0, 2.0, 0.0], [64.0, 5000.0, 9.0]])
    whole = cell_replicates(counts, 257, (3, 1, 2))
    assert whole.shape == (257, 2, 3)
    for block in (1, 7, 64, 256, 1000):
        blocks = list(replicate_blocks(counts, 257, (3, 1, 2), block))
        assert [b.shape[0] for b in blocks[:-1]] == [block] * (len(blocks) - 1)
        np.testing.assert_array_equal(np.concatenate(blocks), whole)
    np.testing.assert_array_equal(cell_replicates(counts, 40, (3, 1, 2)), whole[:40])


def test_seeds_and_tuples_of_seeds_give_independent_streams():
    counts = np.full(2000, 1.0)
    base = cell_replicates(counts, 50, 0).ravel()
    np.testing.assert_array_equal(cell_replicates(counts, 50, 0).ravel(), base)
    others = [cell_replicates(counts, 50, seed).ravel() for seed in (1, (0, 3), (0, 4), (3, 0))]
    for other in others:
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.01
    assert abs(np.corrcoef(others[1], others[2])[0, 1]) < 0.01
    # neighbouring cells and replicates are as independent
    drawn = cell_replicates(np.full(400, 200.0), 500, 9)
    assert abs(np.corrcoef(drawn[:, :-1].ravel(), drawn[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(drawn[:-1].ravel(), drawn[1:].ravel())[0, 1]) < 0.01


def test_an_empty_table_or_no_replicates_draw_nothing():
    assert cell_replicates(np.zeros((2, 2)), 5, 0).tolist() == np.zeros((5, 2, 2)).tolist()
    assert cell_replicates(np.ones(3), 0, 0).shape == (0, 3)


@pytest.mark.parametrize("counts", [[1.5, 2.0], [-1.0, 3.0], [np.nan, 1.0]])
def test_counts_that_are_not_whole_numbers_of_rows_are_refused(counts):
    with pytest.raises(ValueError, match="counts"):
        cell_replicates(np.array(counts), 3, 0)


def test_log_factorial_is_scipys_gammaln():
    k = np.r_[np.arange(0, 300), 1e3, 12_345, 1e6, 3e9]
    np.testing.assert_allclose(log_factorial(k.astype(float)), special.gammaln(k + 1), rtol=1e-15)
