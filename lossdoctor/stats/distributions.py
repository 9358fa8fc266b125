"""The normal, Student t and binomial distributions in plain Python floats, no scipy.

Intervals and tests need a handful of quantiles and tail probabilities per report, so each
function takes and returns a float. The tails are computed directly, never as 1 - cdf, so a
p-value of 1e-300 is as precise as one of 0.3: relative errors stay near 1e-15 (the tests
hold them to scipy's within 1e-12).

Sources: the normal quantile is Acklam's rational approximation refined by one Halley step;
the regularized incomplete beta function is the continued fraction of Numerical Recipes
(section 6.4), evaluated by Lentz's method, with its prefactor x^a (1-x)^b / B(a, b) taken
through Stirling's series where a or b is large (DiDonato and Morris, 1992), so that large
degrees of freedom or counts keep their precision. From 1e5 degrees of freedom Student's t is
the normal distribution through Cornish and Fisher's expansion. Binomial tails of more than
1e4 trials keep 1e-10.
"""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_EPS = 2.0**-53
_TINY = 1e-300


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z."""
    return 0.5 * math.erfc(-x / _SQRT2)


def normal_sf(x: float) -> float:
    """P(Z > x), precise in the upper tail."""
    return 0.5 * math.erfc(x / _SQRT2)


def normal_two_sided(z: float) -> float:
    """P(|Z| >= |z|): the two-sided p-value of a z statistic."""
    return math.erfc(abs(z) / _SQRT2)


# Acklam's coefficients: relative error below 1.15e-9 before the Halley step.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)  # fmt: skip
_P_LOW = 0.02425


def _polynomial(coefficients: tuple[float, ...], x: float) -> float:
    value = 0.0
    for c in coefficients:
        value = value * x + c
    return value


def normal_quantile(p: float) -> float:
    """x with P(Z <= x) = p; -inf at 0 and inf at 1."""
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"a probability is within [0, 1], not {p}")
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p > 0.5:
        return -_lower_normal_quantile(1.0 - p)  # exact: Sterbenz
    return _lower_normal_quantile(p)


def _lower_normal_quantile(p: float) -> float:
    """The quantile of p <= 0.5, refined by a Halley step on the relative error of the cdf,
    or on erf near the centre, where p - 1/2 carries the precision."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = _polynomial(_C, q) / (_polynomial(_D, q) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = _polynomial(_A, r) * q / (_polynomial(_B, r) * r + 1.0)
    if p > 0.25:
        # (cdf(x) - p) / pdf(x), with cdf(x) - 1/2 from erf: no cancellation near 0
        u = (0.5 * math.erf(x / _SQRT2) - (p - 0.5)) * math.exp(0.5 * x * x + _LOG_SQRT_2PI)
    else:
        # the same ratio as (cdf(x) / p - 1) * p / pdf(x): no underflow in the far tail
        u = (normal_cdf(x) / p - 1.0) * math.exp(math.log(p) + 0.5 * x * x + _LOG_SQRT_2PI)
    return x - u / (1.0 + 0.5 * x * u)


# ---- the regularized incomplete beta function ------------------------------------------------

# Stirling's series of log Gamma(x) - [(x - 1/2) log x - x + log sqrt(2 pi)], for x >= 10,
# where its seven terms leave an error below 1e-17.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_STIRLING_FROM = 10.0
_MAX_TERMS = 100_000


def _stirling_remainder(x: float) -> float:
    inverse_square = 1.0 / (x * x)
    value = 0.0
    for c in reversed(_STIRLING):
        value = value * inverse_square + c
    return value / x


def _log1pmx(e: float) -> float:
    """log(1 + e) - e, precise for small e (its series)."""
    if abs(e) > 0.25:
        return math.log1p(e) - e
    term, value, k = e, 0.0, 2
    while True:
        term *= -e
        addition = term / k
        value += addition
        if abs(addition) <= _EPS * abs(value):
            return value
        k += 1


def _scaled_log_ratio(a: float, x: float, x0: float, e: float) -> float:
    """a (log(x / x0) - e) where e = x / x0 - 1 is given more precisely than x / x0 - 1."""
    if abs(e) <= 0.25:
        return a * _log1pmx(e)
    return a * (math.log(x / x0) - e)


def _log_prefactor(a: float, b: float, x: float, y: float) -> float:
    """log(x^a y^b / B(a, b)), y = 1 - x given as precisely as x.

    Where a or b is large, the powers and the beta function are each huge and nearly cancel
    around the mean x0 = a / (a + b). Writing x = x0 (1 + e1), y = y0 (1 + e2) and the
    gamma functions by Stirling, what is left is a (log1p(e1) - e1) + b (log1p(e2) - e2)
    (a e1 + b e2 = 0) and small terms: no cancellation.
    """
    if max(a, b) < _STIRLING_FROM:
        return (
            a * math.log(x)
            + b * math.log(y)
            - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
        )
    total = a + b
    # x - x0 = y0 - y, from the smaller of x and y, which carries more of its digits
    shift = (x * total - a) / total if x <= y else (b - y * total) / total
    e1, e2 = shift * total / a, -shift * total / b
    powers = _scaled_log_ratio(a, x, a / total, e1) + _scaled_log_ratio(b, y, b / total, e2)
    if min(a, b) >= _STIRLING_FROM:
        correction = _stirling_remainder(total) - _stirling_remainder(a) - _stirling_remainder(b)
        return powers + 0.5 * math.log(a * b / total) - _LOG_SQRT_2PI + correction
    # One small: log Gamma(total) - log Gamma(big) by Stirling, log Gamma(small) as it is.
    big, small = max(a, b), min(a, b)
    return (
        powers
        - 0.5 * math.log1p(small / big)
        + small * math.log(small)
        - small
        + _stirling_remainder(total)
        - _stirling_remainder(big)
        - math.lgamma(small)
    )


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), by Lentz's method;
    it converges fast for x < (a + 1) / (a + b + 2)."""
    total, a_plus, a_minus = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - total * x / a_plus
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a_minus + m2) * (a + m2)),
            -(a + m) * (total + m) * x / ((a + m2) * (a_plus + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = d * c
            h *= step
        if abs(step - 1.0) <= _EPS:
            return h
    raise ArithmeticError(f"the incomplete beta fraction did not converge (a={a}, b={b})")


def beta_tails(a: float, b: float, x: float, y: float) -> tuple[float, float]:
    """(I_x(a, b), 1 - I_x(a, b)): the regularized incomplete beta function and its
    complement, y = 1 - x given as precisely as x. The side the continued fraction converges
    for is computed, the other is 1 less it (then at least about 1/2: no digits lost)."""
    if x <= 0.0:
        return 0.0, 1.0
    if y <= 0.0:
        return 1.0, 0.0
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(_log_prefactor(a, b, x, y)) * _continued_fraction(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(_log_prefactor(b, a, y, x)) * _continued_fraction(b, a, y) / b
    return 1.0 - upper, upper


# ---- Student's t -----------------------------------------------------------------------------


def _t_tails(t: float, df: float) -> tuple[float, float]:
    """(P(T > |t|), P(0 < T < |t|)): the tail and the central part of a half."""
    if df >= _EXPANSION_FROM and 12 * math.log(abs(t) + 1) < _EXPANSION_REACH + 5 * math.log(df):
        z = _normal_equivalent(abs(t), df)
        return normal_sf(z), 0.5 * math.erf(z / _SQRT2)
    r = abs(t) / math.sqrt(df)
    x, y = 1.0 / (1.0 + r * r), r * r / (1.0 + r * r)
    tail, centre = beta_tails(0.5 * df, 0.5, x, y)
    return 0.5 * tail, 0.5 * centre


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom."""
    tail, centre = _t_tails(t, df)
    return tail if t >= 0 else 0.5 + centre


def t_cdf(t: float, df: float) -> float:
    """P(T <= t)."""
    return t_sf(-t, df)


def t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|): the two-sided p-value of a t statistic."""
    return 2.0 * _t_tails(t, df)[0]


def _t_log_pdf(t: float, df: float) -> float:
    return (
        math.lgamma(0.5 * (df + 1))
        - math.lgamma(0.5 * df)
        - 0.5 * math.log(df * math.pi)
        - 0.5 * (df + 1) * math.log1p(t * t / df)
    )


def t_quantile(p: float, df: float) -> float:
    """t with P(T <= t) = p."""
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"a probability is within [0, 1], not {p}")
    if p == 0.5:
        return 0.0
    if p > 0.5:
        return _upper_t_quantile(1.0 - p, df)  # 1 - p is exact: Sterbenz
    return -_upper_t_quantile(p, df)


# From this many degrees of freedom t is the normal quantile corrected by Cornish and Fisher's
# expansion in 1 / df (Abramowitz and Stegun 26.7.5), and t's tails are the normal tails of
# the z it solves for; the continued fraction would take thousands of terms there and lose
# digits.
_EXPANSION_FROM = 1e5
# The first term left out is about 7e-5 z^12 / df^5: the tails take the expansion while that
# is below 1e-13 (|z| < 22 at df = 1e5, any z of a double's tail from df = 1e6).
_EXPANSION_REACH = math.log(1e-13 / 7e-5)
_EXPANSION = (
    (1 / 4, (1, 0, 1, 0)),
    (1 / 96, (5, 0, 16, 0, 3, 0)),
    (1 / 384, (3, 0, 19, 0, 17, 0, -15, 0)),
    (1 / 92160, (79, 0, 776, 0, 1482, 0, -1920, 0, -945, 0)),
)


def _t_quantile_expansion(z: float, df: float) -> float:
    t, power = z, 1.0
    for scale, coefficients in _EXPANSION:
        power /= df
        t += scale * _polynomial(coefficients, z) * power
    return t


def _normal_equivalent(t: float, df: float) -> float:
    """z >= 0 whose normal tail is t's: the expansion above solved for z by Newton's method
    (its derivative is 1 within 1 / df)."""
    z = t
    for _ in range(50):
        step = _t_quantile_expansion(z, df) - t
        slope = 1.0 + (3 * z * z + 1) / (4 * df)
        z -= step / slope
        if abs(step) <= _EPS * max(t, 1e-300):
            break
    return z


def _upper_t_quantile(q: float, df: float) -> float:
    """t >= 0 with P(T > t) = q <= 1/2, by Newton's method kept within a bracket.

    Near the centre on P(0 < T < t) = 1/2 - q; in the tail on log P(T > t) against log t,
    nearly linear there for any df. The normal quantile is a lower bound: t's tails are
    heavier.
    """
    if q == 0.0:
        return math.inf
    if df >= _EXPANSION_FROM:
        return _t_quantile_expansion(-normal_quantile(q), df)
    if q >= 0.25:  # t <= 1 for any df >= 1
        target, low, high = 0.5 - q, 0.0, max(1.0, -normal_quantile(q) * 2)
        t = min(max(-normal_quantile(q), low), high)
        for _ in range(200):
            excess = _t_tails(t, df)[1] - target
            if excess > 0:
                high = t
            else:
                low = t
            step = excess / math.exp(_t_log_pdf(t, df))
            proposal = t - step
            if not low < proposal < high:
                proposal = 0.5 * (low + high)
            if abs(proposal - t) <= 2 * _EPS * proposal or high - low <= 2 * _EPS * high:
                return proposal
            t = proposal
        return t
    log_q = math.log(q)
    low = math.log(-normal_quantile(q))
    high = low + 1.0
    while _t_tails(math.exp(high), df)[0] > q:
        low, high = high, high + 2 * (high - low)
    u = high
    for _ in range(200):
        t = math.exp(u)
        tail = _t_tails(t, df)[0]
        if tail > q:
            low = u
        else:
            high = u
        proposal = 0.5 * (low + high)
        if tail > 0:  # Newton's step, where it stays within the bracket
            slope = -t * math.exp(_t_log_pdf(t, df)) / tail
            newton = u - (math.log(tail) - log_q) / slope
            if low < newton < high:
                proposal = newton
        if abs(proposal - u) <= 2 * _EPS or high - low <= 2 * _EPS:
            return math.exp(proposal)
        u = proposal
    return math.exp(u)


# ---- the binomial distribution ---------------------------------------------------------------


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p): I_{1-p}(n - k, k + 1)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return beta_tails(n - k, k + 1.0, 1.0 - p, p)[0]


# ---- two-sided critical values ---------------------------------------------------------------


def normal_critical(confidence: float) -> float:
    """z with P(|Z| <= z) = confidence, from the tail (1 - confidence) / 2, which keeps the
    digits 1/2 + confidence / 2 would round away near confidence 1."""
    return -normal_quantile(0.5 * (1.0 - confidence))


def t_critical(confidence: float, df: float) -> float:
    """t with P(|T| <= t) = confidence for df degrees of freedom."""
    return -t_quantile(0.5 * (1.0 - confidence), df)
