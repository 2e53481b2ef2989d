"""The study report's statistical methods, each named where the report uses it.

* Mean ± SD (n) with the 95 % CI of the mean from Student's t (`t_quantile`: the t distribution
  function through the regularised incomplete beta function, evaluated by its continued fraction,
  Numerical Recipes 3rd ed. §6.4, and inverted by bisection to full double precision).
* A proportion's 95 % CI: Wilson score interval (Wilson 1927), no continuity correction.
* Difference of two independent proportions: Newcombe's hybrid score interval (Newcombe 1998,
  method 10), built from the two Wilson intervals.
* Between-arm test of two proportions: Fisher's exact test, two-sided: the sum of the
  hypergeometric probabilities (from log-gamma) of every table with the same margins no more
  probable than the one observed, with R's and scipy's relative tolerance of 1e-7 for ties.

Both are our own code on Python's math module, checked against scipy.stats over a grid of inputs
in the tests (scipy is a test-only dependency: it added 73 MB to the frozen build for these two
functions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile

METHODS = (
    "Means: mean ± SD (n), 95 % CI of the mean from Student's t with n−1 degrees of freedom. "
    "Change from baseline: per subject, follow-up minus baseline (subjects with both), summarised "
    "the same way. Proportions: 95 % CI by the Wilson score interval (no continuity correction). "
    "Between-arm difference of responder rates: first arm minus the other, 95 % CI by Newcombe's "
    "hybrid score method (method 10, from the two Wilson intervals), two-sided Fisher's exact "
    "test. Missing-as-non-responder sensitivity: every subject due at the visit by the cut-off "
    "(window closed or visit done, withdrawn included) in the denominator, without data counted "
    "as non-responder. Computed with Python's math module (t quantile by inverting the t "
    "distribution function; Fisher's p from hypergeometric log-probabilities), checked against "
    "scipy.stats."
)


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class MeanCI:
    """n, mean, sample SD and the t-based 95 % CI of the mean (None where undefined)."""

    n: int
    mean: float | None
    sd: float | None
    ci: Interval | None


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h


def _beta_regularised(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _t_upper_tail(t: float, df: int) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom, t >= 0."""
    return 0.5 * _beta_regularised(df / 2.0, 0.5, df / (df + t * t))


@cache
def t_quantile(df: int, p: float = 0.975) -> float:
    """Student's t `p` quantile (p > 0.5) with `df` >= 1 degrees of freedom."""
    if df < 1 or not 0.5 < p < 1.0:
        raise ValueError(f"t quantile needs df >= 1 and 0.5 < p < 1, not df={df}, p={p}")
    tail = 1.0 - p
    high = 1.0
    while _t_upper_tail(high, df) > tail:
        high *= 2.0
    low = 0.0
    while True:  # bisection down to adjacent doubles
        middle = (low + high) / 2.0
        if middle in (low, high):
            return high
        if _t_upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle


def mean_ci(n: int, mean: float | None, sd: float | None) -> MeanCI:
    """The 95 % CI of a mean from n, mean and SD (None below 2 values)."""
    if n < 2 or mean is None or sd is None:
        return MeanCI(n, mean, sd, None)
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, Interval(mean - half, mean + half))


def wilson(k: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval of k/n (None for n = 0)."""
    if n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int) -> Interval | None:
    """Newcombe's hybrid score CI of p1 − p2 (method 10; None if a denominator is 0)."""
    w1, w2 = wilson(k1, n1), wilson(k2, n2)
    if w1 is None or w2 is None:
        return None
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Interval(low, high)


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided p of Fisher's exact test on [[k1, n1−k1], [k2, n2−k2]] (None if n1 or n2 is 0)."""
    if n1 <= 0 or n2 <= 0:
        return None
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"Fisher's test needs 0 <= k <= n, not {k1}/{n1} and {k2}/{n2}")
    successes = k1 + k2
    log_total = _log_comb(n1 + n2, successes)

    def log_p(x: int) -> float:  # the hypergeometric probability of x successes in the first arm
        return _log_comb(n1, x) + _log_comb(n2, successes - x) - log_total

    # Tables no more probable than the observed one, with R's and scipy's relative tolerance
    # (1e-7) so that tables of equal probability are not split by rounding.
    threshold = log_p(k1) + math.log1p(1e-7)
    tables = range(max(0, successes - n2), min(n1, successes) + 1)
    return min(1.0, math.fsum(math.exp(lp) for lp in map(log_p, tables) if lp <= threshold))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
