"""RESPINE endpoints: change from baseline, responder status (primary endpoint), MCID attainment.

Results are three-valued: True, False, or None (undetermined: missing data, or a relative
criterion against a baseline of 0). Comparisons with thresholds are exact (see `exact`), so a
change that is exactly on a threshold meets it: VAS 100 -> 80 is a 20 mm and 20 % improvement,
ODI 10/45 -> 8/45 (22.22 % -> 17.78 %) exactly a 20 % relative one.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Literal

Measure = Literal["VAS", "ODI", "PCS", "MCS"]
OdiRule = Literal["relative", "points"]

# Lower is better for VAS and ODI (improvement = baseline − follow-up); higher for PCS and MCS.
LOWER_IS_BETTER: dict[str, bool] = {"VAS": True, "ODI": True, "PCS": False, "MCS": False}
# Measures whose values are bounded to 0..100 (checked: an out-of-range value is a bug upstream).
_PERCENT_SCALE = frozenset({"VAS", "ODI"})

# Primary endpoint defaults (SCORING.md §5): VAS ≥ 20 mm and ≥ 20 %, or ODI ≥ 20 % (relative).
VAS_POINTS = 20.0
VAS_PERCENT = 20.0
ODI_RULE: OdiRule = "relative"
ODI_THRESHOLD = 20.0
# MCID defaults: VAS 15 mm or 30 %, ODI 10 points or 30 % (Ostelo 2008); PCS/MCS 5 points.
MCID_VAS_POINTS = 15.0
MCID_VAS_PERCENT = 30.0
MCID_ODI_POINTS = 10.0
MCID_ODI_PERCENT = 30.0
MCID_PCS_POINTS = 5.0
MCID_MCS_POINTS = 5.0

# A double that is the nearest double to a fraction with a denominator up to this is read as that
# fraction: every VAS (tenths of a mm) and ODI (20 × sum / answered) value is one.
_SIMPLEST_DENOMINATOR = 1000
# Below this magnitude a double lies within 2**-44 of the fraction it stands for, far closer than
# 1 / (2 q²) for any q ≤ 1000: by Legendre's theorem that fraction is then one of the double's
# continued-fraction convergents, which `_convergent` finds with integer arithmetic alone.
_CONVERGENT_RANGE = 1024.0


# Scores repeat (ODI takes 51 values per answered count, VAS 1001): a cache spares the exports
# most of the Fraction work when they compare 60,000 visits with their thresholds.
@lru_cache(maxsize=65536)
def exact(value: float) -> Fraction:
    """The rational number a score stands for.

    A score is a double: the value nearest to an exact fraction (ODI 10/45 is 200/9 %, stored as
    22.222222222222221…). When `value` is the double nearest to a fraction whose denominator is at
    most 1000, that fraction is returned; otherwise the double's own exact value. Distinct such
    fractions are at least 1e-6 apart while a double's rounding interval below 1000 is narrower
    than 1e-12, so the fraction is unique: no tolerance is involved.
    """
    if isinstance(value, int):
        return Fraction(value)
    if abs(value) < _CONVERGENT_RANGE:
        simple = _convergent(value)
        return Fraction(value) if simple is None else Fraction(*simple)
    as_is = Fraction(value)
    nearest = as_is.limit_denominator(_SIMPLEST_DENOMINATOR)
    return nearest if float(nearest) == value else as_is


def _convergent(value: float) -> tuple[int, int] | None:
    """(p, q) with q ≤ 1000 and `value` the double nearest to p/q, or None if there is none.

    The same answer as ``Fraction(value).limit_denominator(1000)`` checked by rounding back, for
    |value| < 1024 (see `_CONVERGENT_RANGE`; the fraction nearest a double is unique as `exact`
    says), computed on the exact integer ratio without building a Fraction per step: the
    exports call this for every distinct SF-36 summary score, nearly one per visit.
    """
    n, d = value.as_integer_ratio()
    p0, q0, p1, q1 = 0, 1, 1, 0
    while d:
        a = n // d
        p0, q0, p1, q1 = p1, q1, p0 + a * p1, q0 + a * q1
        if q1 > _SIMPLEST_DENOMINATOR:
            return None
        if p1 / q1 == value:  # int / int is correctly rounded: the double nearest to p1/q1
            return p1, q1
        n, d = d, n - a * d
    return None


def _checked(measure: str, name: str, value: float | None) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{measure} {name}: {value!r} is not a finite number")
    if measure in _PERCENT_SCALE and not 0 <= value <= 100:
        raise ValueError(f"{measure} {name}: {value!r} is outside 0..100")
    return exact(value)


def _measure(measure: str) -> bool:
    try:
        return LOWER_IS_BETTER[measure]
    except KeyError:
        known = ", ".join(LOWER_IS_BETTER)
        raise ValueError(f"unknown measure {measure!r} (known: {known})") from None


# A follow-up visit asks for the same pair several times (change, MCID, responder): cached.
# `typed`, so that True is not taken for 1 (a bool is refused, 1 is not).
@lru_cache(maxsize=256, typed=True)
def _improvement(
    measure: str, baseline: float | None, followup: float | None
) -> tuple[Fraction, Fraction] | None:
    """(improvement, baseline) in exact arithmetic, or None when either value is missing."""
    lower_is_better = _measure(measure)
    b = _checked(measure, "baseline", baseline)
    f = _checked(measure, "follow-up", followup)
    if b is None or f is None:
        return None
    return (b - f if lower_is_better else f - b), b


def change_from_baseline(
    measure: Measure, baseline: float | None, followup: float | None
) -> float | None:
    """Follow-up − baseline (signed, as reported in tables), or None when either is missing."""
    pair = _improvement(measure, baseline, followup)
    if pair is None:
        return None
    improvement, _ = pair
    return float(-improvement if LOWER_IS_BETTER[measure] else improvement)


def improvement(measure: Measure, baseline: float | None, followup: float | None) -> float | None:
    """How much better the follow-up is (positive = better): baseline − follow-up for VAS/ODI,
    follow-up − baseline for PCS/MCS; None when either is missing."""
    pair = _improvement(measure, baseline, followup)
    return None if pair is None else float(pair[0])


def percent_improvement(
    measure: Measure, baseline: float | None, followup: float | None
) -> float | None:
    """Improvement as a percent of the baseline; None when missing or the baseline is 0."""
    pair = _improvement(measure, baseline, followup)
    if pair is None or pair[1] == 0:
        return None
    return float(pair[0] * 100 / pair[1])


def _at_least_points(pair: tuple[Fraction, Fraction] | None, points: float) -> bool | None:
    return None if pair is None else pair[0] >= exact(points)


def _at_least_percent(pair: tuple[Fraction, Fraction] | None, percent: float) -> bool | None:
    # Relative to a baseline of 0 the criterion has no meaning: undetermined.
    if pair is None or pair[1] == 0:
        return None
    improvement, baseline = pair
    return improvement * 100 >= exact(percent) * baseline


def _any(*criteria: bool | None) -> bool | None:
    """Three-valued OR: True if one holds, False if all are evaluable and fail, else None."""
    if True in criteria:
        return True
    return None if None in criteria else False


def _all(*criteria: bool | None) -> bool | None:
    """Three-valued AND: False if one fails, True if all hold, else None."""
    if False in criteria:
        return False
    return None if None in criteria else True


def vas_responder(
    baseline: float | None,
    followup: float | None,
    *,
    points: float = VAS_POINTS,
    percent: float = VAS_PERCENT,
) -> bool | None:
    """The VAS criterion: improvement ≥ `points` mm and ≥ `percent` % of baseline."""
    pair = _improvement("VAS", baseline, followup)
    return _all(_at_least_points(pair, points), _at_least_percent(pair, percent))


def odi_responder(
    baseline: float | None,
    followup: float | None,
    *,
    rule: OdiRule = ODI_RULE,
    threshold: float = ODI_THRESHOLD,
) -> bool | None:
    """The ODI criterion: improvement ≥ `threshold` % of baseline ("relative") or points."""
    pair = _improvement("ODI", baseline, followup)
    if rule == "relative":
        return _at_least_percent(pair, threshold)
    if rule == "points":
        return _at_least_points(pair, threshold)
    raise ValueError(f"odi_rule {rule!r} is not 'relative' or 'points'")


def is_responder(
    vas_baseline: float | None,
    vas_followup: float | None,
    odi_baseline: float | None,
    odi_followup: float | None,
    *,
    odi_rule: OdiRule = ODI_RULE,
    vas_points: float = VAS_POINTS,
    vas_percent: float = VAS_PERCENT,
    odi_threshold: float = ODI_THRESHOLD,
) -> bool | None:
    """RESPINE primary endpoint (SCORING.md §5): responder when the VAS criterion or the ODI
    criterion holds; False when both are evaluable and fail; None (undetermined) otherwise.

    Keyword names match the study configuration's ``[endpoint]`` table.
    """
    return _any(
        vas_responder(vas_baseline, vas_followup, points=vas_points, percent=vas_percent),
        odi_responder(odi_baseline, odi_followup, rule=odi_rule, threshold=odi_threshold),
    )


def mcid_attained(
    measure: Measure,
    baseline: float | None,
    followup: float | None,
    *,
    points: float,
    percent: float | None = None,
) -> bool | None:
    """Improvement ≥ `points`, or (when `percent` is given) ≥ `percent` % of baseline."""
    pair = _improvement(measure, baseline, followup)
    by_points = _at_least_points(pair, points)
    if percent is None:
        return by_points
    return _any(by_points, _at_least_percent(pair, percent))


def vas_mcid(
    baseline: float | None,
    followup: float | None,
    *,
    points: float = MCID_VAS_POINTS,
    percent: float = MCID_VAS_PERCENT,
) -> bool | None:
    """VAS MCID: improvement ≥ 15 mm or ≥ 30 % of baseline (Ostelo 2008) by default."""
    return mcid_attained("VAS", baseline, followup, points=points, percent=percent)


def odi_mcid(
    baseline: float | None,
    followup: float | None,
    *,
    points: float = MCID_ODI_POINTS,
    percent: float = MCID_ODI_PERCENT,
) -> bool | None:
    """ODI MCID: improvement ≥ 10 points or ≥ 30 % of baseline (Ostelo 2008) by default."""
    return mcid_attained("ODI", baseline, followup, points=points, percent=percent)


def pcs_mcid(
    baseline: float | None, followup: float | None, *, points: float = MCID_PCS_POINTS
) -> bool | None:
    """SF-36 PCS MCID: follow-up − baseline ≥ 5 points by default."""
    return mcid_attained("PCS", baseline, followup, points=points)


def mcs_mcid(
    baseline: float | None, followup: float | None, *, points: float = MCID_MCS_POINTS
) -> bool | None:
    """SF-36 MCS MCID: follow-up − baseline ≥ 5 points by default."""
    return mcid_attained("MCS", baseline, followup, points=points)
