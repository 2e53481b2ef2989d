"""The study report's statistical methods, each named where the report uses it.

* Mean ± SD (n) with the 95 % CI of the mean from Student's t: the quantile is the root of the
  t distribution function, written with the regularised incomplete beta function (continued
  fraction, Numerical Recipes 6.4), found by bisection to machine precision.
* A proportion's 95 % CI: Wilson score interval (Wilson 1927), no continuity correction.
* Difference of two independent proportions: Newcombe's hybrid score interval (Newcombe 1998,
  method 10), built from the two Wilson intervals.
* Between-arm test of two proportions: Fisher's exact test, two-sided: the sum of the
  hypergeometric probabilities of every table with the same margins that is no more likely than
  the observed one (relative tolerance 1e-7, as R's ``fisher.test`` and scipy's ``fisher_exact``).

Pure Python (the math module): no scipy in the application or its frozen build. The tests compare
both functions with scipy (a test-only dependency) over a grid, to 1e-6 or better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile

METHODS = (
    "Means: mean ± SD (n), 95 % CI of the mean from Student's t with n−1 degrees of freedom. "
    "Change from baseline: per subject, follow-up minus baseline (subjects with both), summarised "
    "the same way. Proportions: 95 % CI by the Wilson score interval (no continuity correction). "
    "Between-arm difference of responder rates: first arm minus the other, 95 % CI by Newcombe's "
    "hybrid score method (method 10, from the two Wilson intervals), two-sided Fisher's exact "
    "test. Missing-as-non-responder sensitivity: every subject due at the visit by the cut-off "
    "(window closed or visit done, withdrawn included) in the denominator, without data counted "
    "as non-responder. Computed with Python's math module (t quantile, Fisher's exact test)."
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


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom, t >= 0."""
    return 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(df: int, p: float = 0.975) -> float:
    """Student's t quantile (the 97.5 % one unless told) with `df` >= 1 degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"a quantile's probability must be between 0 and 1, not {p}")
    if p == 0.5:
        return 0.0
    tail = 1.0 - p if p > 0.5 else p
    low, high = 0.0, 1.0
    while t_upper_tail(high, df) > tail:  # bracket the root
        low, high = high, high * 2.0
    for _ in range(200):  # bisection: P(T > t) falls as t grows
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if t_upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
    root = (low + high) / 2.0
    return root if p > 0.5 else -root


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


def _log_hypergeometric(k: int, n1: int, n2: int, m: int) -> float:
    """log P(X = k): k of the m column-one counts fall in row one (rows of n1 and n2)."""
    return _log_choose(n1, k) + _log_choose(n2, m - k) - _log_choose(n1 + n2, m)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided p of Fisher's exact test on [[k1, n1−k1], [k2, n2−k2]] (None if n1 or n2 is 0).

    The sum of the probabilities of the tables with these margins that are no more likely than
    the observed one (within a relative 1e-7, so that ties rounded differently still count).
    """
    if n1 <= 0 or n2 <= 0:
        return None
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"counts out of range: {k1}/{n1}, {k2}/{n2}")
    m = k1 + k2  # the first column's total
    low, high = max(0, m - n2), min(n1, m)
    observed = _log_hypergeometric(k1, n1, n2, m)
    bound = observed + math.log1p(1e-7)
    p = math.fsum(
        math.exp(log_p)
        for k in range(low, high + 1)
        if (log_p := _log_hypergeometric(k, n1, n2, m)) <= bound
    )
    return min(1.0, p)
