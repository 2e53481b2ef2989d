"""The study report's statistical methods, each named where the report uses it.

* Mean ± SD (n) with the 95 % CI of the mean from Student's t (t quantile from scipy.stats).
* A proportion's 95 % CI: Wilson score interval (Wilson 1927), no continuity correction.
* Difference of two independent proportions: Newcombe's hybrid score interval (Newcombe 1998,
  method 10), built from the two Wilson intervals.
* Between-arm test of two proportions: Fisher's exact test, two-sided (scipy.stats).

scipy is imported inside the functions that need it, so importing `reports` (which the console
does) never loads it, nor does the kiosk.
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
    "as non-responder. Computed with Python's math module and scipy.stats (t quantile, Fisher)."
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


def t_quantile(df: int) -> float:
    """Student's t 97.5 % quantile with `df` degrees of freedom."""
    from scipy.stats import t  # lazy: scipy never loads with the kiosk or the console

    return float(t.ppf(0.975, df))


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
    from scipy.stats import fisher_exact  # lazy, see the module docstring

    _, p = fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
    return float(p)
