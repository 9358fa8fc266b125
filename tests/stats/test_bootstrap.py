"""The Poisson bootstrap: weights that do not depend on how the rows are split."""

import subprocess
import sys

import numpy as np
import pytest

from lossdoctor.stats.bootstrap import _randbits, percentile_interval, poisson_weights


def test_weights_are_the_same_whatever_the_batches():
    rows = np.arange(20_000, dtype=np.int64)
    whole = poisson_weights(rows, replicate=7, seed=3)
    for size in (1, 999, 4096, 6_667):
        batches = [poisson_weights(rows[i : i + size], 7, 3) for i in range(0, rows.size, size)]
        np.testing.assert_array_equal(np.concatenate(batches), whole)
    shuffled = np.random.default_rng(0).permutation(rows)
    np.testing.assert_array_equal(poisson_weights(shuffled, 7, 3), whole[shuffled])


def test_weights_are_poisson_one():
    weights = poisson_weights(np.arange(2_000_000), replicate=0, seed=0).astype(np.float64)
    assert weights.mean() == pytest.approx(1.0, abs=0.003)
    assert weights.var() == pytest.approx(1.0, abs=0.006)
    shares = np.bincount(weights.astype(int), minlength=4)[:4] / weights.size
    np.testing.assert_allclose(shares, np.exp(-1) / np.array([1, 1, 2, 6]), atol=0.002)


def test_replicates_and_seeds_are_independent():
    rows = np.arange(200_000)
    a, b = (poisson_weights(rows, r, 0).astype(float) for r in (0, 1))
    c = poisson_weights(rows, 0, 1).astype(float)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.01


def test_percentile_interval_is_numpys_percentiles():
    values = np.random.default_rng(2).normal(size=999)
    assert percentile_interval(values, 0.9) == tuple(np.percentile(values, [5, 95]))


@pytest.mark.parametrize("size", [1, 2, 3, 40, 999, 1000, 1001])
@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0])
def test_percentile_interval_is_bit_for_bit_numpys_percentiles(size, confidence):
    rng = np.random.default_rng(size)
    for values in (rng.normal(size=size), rng.integers(0, 4, size) / 3.0, np.full(size, 0.1)):
        values = values.copy()
        tail = 50.0 * (1.0 - confidence)
        want = tuple(float(v) for v in np.percentile(values, [tail, 100.0 - tail]))
        assert percentile_interval(values, confidence) == want
        values[1::7] = np.nan  # left out, as numpy's nanpercentile does
        want = tuple(float(v) for v in np.nanpercentile(values, [tail, 100.0 - tail]))
        assert percentile_interval(values, confidence) == want


def test_numpy_random_imported_for_the_draws_leaves_secrets_and_unseeded_generators_alone():
    """The draws import numpy.random without `secrets` (hmac, OpenSSL); afterwards `secrets`
    is the standard library's and an unseeded generator still takes fresh entropy."""
    code = (
        "import sys, numpy as np\n"
        "from lossdoctor.stats.bootstrap import cell_replicates\n"
        "drawn = cell_replicates(np.array([[3.0, 1.0], [2.0, 4.0]]), 5, 0)\n"
        "loaded = sorted({'secrets', 'hmac', '_hashlib'} & set(sys.modules))\n"
        "import secrets\n"
        "a, b = np.random.default_rng().random(), np.random.default_rng().random()\n"
        "print(loaded, secrets.token_hex(4) != secrets.token_hex(4), a != b, drawn.sum())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    generator = np.random.Generator(np.random.PCG64(0))
    want = generator.poisson(np.broadcast_to([3.0, 1.0, 2.0, 4.0], (5, 4))).sum()
    assert out.stdout.split() == ["[]", "True", "True", f"{float(want)}"]


@pytest.mark.parametrize("bits", [0, 1, 7, 8, 9, 64, 128, 1000])
def test_the_stand_in_randbits_gives_k_bits(bits):
    drawn = [_randbits(bits) for _ in range(200)]
    assert all(0 <= value < 2**bits for value in drawn)
    if bits >= 8:
        assert max(drawn).bit_length() == bits  # the top bit is drawn too
    if bits >= 64:
        assert len(set(drawn)) == 200
