"""Poisson draws of cells of rows that are a function of integers alone.

The draw of a cell in a replicate is made from the uniform bits of a counter, the cell's place
among the occupied cells and the replicate's number (replicate * occupied + place), in a stream
keyed by the seed: splitmix64's, the counter times its odd constant plus the key, mixed. No
generator carries state from one draw to the next, so the draws are the same whatever the
block of replicates made at once, on any machine and any numpy version; an empty cell draws 0
and takes no counter, so the occupied cells alone draw what all the cells do.
"""

from __future__ import annotations

import numpy as np

from lossdoctor.stats.poisson import SMALL_MEAN, LargeMeans, SmallMeans, uniforms

Seed = int | tuple[int, ...]
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK = 2**64 - 1
# Draws made at once: temporaries of a few hundred kB, and few calls of numpy a draw.
_BLOCK_DRAWS = 1 << 15


def splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of x plus its constant, in place of x (an array of uint64):
    every input bit reaches every output bit."""
    x += np.uint64(_GOLDEN)
    shifted = x >> np.uint64(30)
    x ^= shifted
    x *= _MIX1
    np.right_shift(x, np.uint64(27), out=shifted)
    x ^= shifted
    x *= _MIX2
    np.right_shift(x, np.uint64(31), out=shifted)
    x ^= shifted
    return x


def mixed(x: int) -> int:
    """splitmix64 of one Python integer (below 2**64)."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * int(_MIX1)) & _MASK
    x = ((x ^ (x >> 27)) * int(_MIX2)) & _MASK
    return x ^ (x >> 31)


def stream_key(seed: Seed) -> int:
    """A 64-bit key of a seed or a tuple of seeds (each part mixed in turn)."""
    key = 0
    for part in seed if isinstance(seed, tuple) else (seed,):
        key = mixed(key ^ (int(part) & _MASK))
    return key


class CellDraws:
    """The Poisson(count) draws of some cells (whole counts of rows), replicate by replicate:
    the uniform of stream 0 for a count below poisson.SMALL_MEAN, those of streams 2a and
    2a + 1 for attempt a of a larger one."""

    def __init__(self, counts: np.ndarray, seed: Seed):
        self.counts = np.asarray(counts, dtype=np.float64)
        flat = self.counts.ravel()
        self.occupied = np.flatnonzero(flat)
        means = flat[self.occupied]
        if means.size and not (np.isfinite(means).all() and means.min() > 0):
            raise ValueError("counts to draw must be finite and at least 0")
        small = means < SMALL_MEAN
        if (means[small] != np.floor(means[small])).any():
            raise ValueError(f"counts below {SMALL_MEAN} must be whole numbers of rows")
        self.key = stream_key(seed)
        self.first_keys = self._keys(0, 2)  # of every first attempt
        self.small, self.large = np.flatnonzero(small), np.flatnonzero(~small)
        self.small_means = SmallMeans(means[self.small]) if self.small.size else None
        self.large_means = LargeMeans(means[self.large]) if self.large.size else None
        # a counter times splitmix64's constant: the replicate's part plus the place's
        self.per_replicate = (self.occupied.size * _GOLDEN) & _MASK
        self.small_words = self.small.astype(np.uint64) * np.uint64(_GOLDEN)
        self.large_words = self.large.astype(np.uint64) * np.uint64(_GOLDEN)

    def between(self, start: int, stop: int) -> np.ndarray:
        """The draws of replicates start..stop-1 (float64, replicates by occupied cells), a
        few thousand at a time. A large count's rejected first attempt attempts again at once,
        while its block is in cache; the few rejected twice attempt again at the end, together."""
        drawn = np.empty((stop - start, self.occupied.size))
        large = drawn
        if self.large.size < self.occupied.size:
            large = np.empty((stop - start, self.large.size))
        flat = large.reshape(-1)
        step = max(_BLOCK_DRAWS // max(self.occupied.size, 1), 1)
        rejected = []
        for first in range(start, stop, step):
            last = min(first + step, stop)
            if self.small_means is not None:
                words = self._words(first, last, self.small_words, 1)[0]
                _place(
                    drawn[first - start : last - start], self.small, self.small_means.draw(words)
                )
            if self.large_means is not None:
                u, v = uniforms(self._words(first, last, self.large_words, 2))
                found, accepted = self.large_means.attempt(u, v)
                large[first - start : last - start] = found.reshape(u.shape)
                again = np.flatnonzero(~accepted) + (first - start) * self.large.size
                rejected.append(self._attempt(flat, start, again, 1))
        if rejected:
            positions, attempt = np.concatenate(rejected), 2
            while positions.size:
                positions = self._attempt(flat, start, positions, attempt)
                attempt += 1
            _place(drawn, self.large, large)
        return drawn

    def _words(self, first: int, last: int, places: np.ndarray, streams: int) -> np.ndarray:
        """The bits of replicates first..last-1 at some places' counters in the first streams
        (streams, replicates, places)."""
        replicates = np.arange(first, last, dtype=np.uint64) * np.uint64(self.per_replicate)
        replicates = replicates[None, :] + self.first_keys[:streams, None]
        return splitmix64(replicates[:, :, None] + places)

    def _keys(self, first: int, streams: int) -> np.ndarray:
        """The keys of streams first.. (uint64)."""
        return np.array([mixed(self.key ^ s) for s in range(first, first + streams)], np.uint64)

    def _attempt(self, large: np.ndarray, start: int, positions: np.ndarray, attempt: int):
        """Draw again the large counts at these positions of `large` (flat, replicates from
        `start` by large cells) with the uniforms of this attempt's streams, a few thousand at
        a time: the positions still rejected."""
        width = self.large.size
        keys = self._keys(2 * attempt, 2)[:, None]
        rejected = []
        for part in range(0, positions.size, _BLOCK_DRAWS):
            chosen = positions[part : part + _BLOCK_DRAWS]
            replicates, columns = np.divmod(chosen, width)
            replicates += start
            words = replicates.astype(np.uint64) * np.uint64(self.per_replicate)
            words += self.large_words[columns]
            u, v = uniforms(splitmix64(words + keys))
            found, accepted = self.large_means.attempt(u, v, columns)
            large[chosen[accepted]] = found[accepted]
            rejected.append(chosen[~accepted])
        return np.concatenate(rejected) if rejected else positions


def _place(rows: np.ndarray, places: np.ndarray, found: np.ndarray) -> None:
    """Write the draws of some of the occupied cells (all of them: in place already, or a
    copy)."""
    if places.size < rows.shape[1]:
        rows[:, places] = found
    elif found is not rows:
        rows[...] = found
