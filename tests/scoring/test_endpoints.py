"""RESPINE endpoints (SCORING.md §5): responder, change from baseline, MCID; exact boundaries."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respine_desktop.scoring import score
from respine_desktop.scoring.endpoints import (
    change_from_baseline,
    exact,
    improvement,
    is_responder,
    mcid_attained,
    mcs_mcid,
    odi_mcid,
    odi_responder,
    pcs_mcid,
    percent_improvement,
    vas_mcid,
    vas_responder,
)
from respine_desktop.study import load_study


def odi(*codes: int | None) -> float:
    value = score("odi", {f"odi_{n:02d}": c for n, c in enumerate(codes, start=1)})["ODI"]
    assert value is not None
    return value


# ODI 10/45 and 8/45: nine sections answered (22.22 % -> 17.78 %).
ODI_10_OF_45 = odi(2, 2, 2, 1, 1, 1, 1, 0, 0, None)
ODI_8_OF_45 = odi(2, 2, 1, 1, 1, 1, 0, 0, 0, None)


def test_the_odi_boundary_fails_in_plain_floating_point() -> None:
    """Why exact arithmetic: the float ratio falls just short of 20 %."""
    assert (ODI_10_OF_45 - ODI_8_OF_45) / ODI_10_OF_45 < 0.2
    assert exact(ODI_10_OF_45) == Fraction(200, 9)
    assert exact(ODI_8_OF_45) == Fraction(160, 9)


@pytest.mark.req("END-01")
def test_odi_10_of_45_to_8_of_45_is_exactly_a_20_percent_improvement() -> None:
    """Rule: ODI improvement ≥ 20 % of baseline (relative, DECISION) holds at exactly 20 %."""
    assert odi_responder(ODI_10_OF_45, ODI_8_OF_45) is True
    assert is_responder(None, None, ODI_10_OF_45, ODI_8_OF_45) is True
    assert percent_improvement("ODI", ODI_10_OF_45, ODI_8_OF_45) == 20.0


def test_odi_just_short_of_20_percent() -> None:
    """50 % -> 42 %: a 16 % relative improvement (8 points)."""
    assert is_responder(None, None, 50.0, 42.0) is None  # VAS missing: undetermined
    assert is_responder(50, 50, 50.0, 42.0) is False


def test_vas_100_to_80_is_a_responder() -> None:
    """Rule: VAS improvement ≥ 20 mm and ≥ 20 % of baseline: 20 mm and 20 % exactly."""
    assert vas_responder(100, 80) is True
    assert is_responder(100, 80, None, None) is True
    assert is_responder(100.0, 80.0, 40.0, 40.0) is True


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (32.3, 12.3, True),  # 20 mm: 32.3 − 12.3 is 19.999999999999996 in floating point
        (100.0, 80.1, False),  # 19.9 mm
        (25.0, 5.0, True),  # 20 mm, 80 %
        (20.0, 0.0, True),  # 20 mm, 100 %
        (90.0, 71.0, False),  # 19 mm
        (100.1 - 0.1, 80.0, True),  # 100.0 after float noise
        (0.0, 0.0, False),  # no improvement possible: the mm criterion fails
        (50.0, 70.0, False),  # worse
    ],
)
def test_vas_criterion(baseline: float, followup: float, expected: bool) -> None:
    assert vas_responder(baseline, followup) is expected


@pytest.mark.req("END-01")
def test_vas_criterion_needs_both_mm_and_percent() -> None:
    # 100 -> 79: 21 mm but 21 %: both hold. 110 would be invalid; use thresholds instead:
    assert vas_responder(100, 79, points=20, percent=25) is False  # 21 % < 25 %
    assert vas_responder(100, 79, points=25, percent=20) is False  # 21 mm < 25 mm
    assert vas_responder(100, 79, points=21, percent=21) is True


@pytest.mark.parametrize(
    ("vas", "odi_values", "expected"),
    [
        ((100, 80), (40.0, 40.0), True),  # VAS holds, ODI fails
        ((100, 90), (40.0, 30.0), True),  # VAS fails, ODI holds (25 %)
        ((100, 90), (40.0, 40.0), False),  # both evaluable, both fail
        ((100, 80), (None, None), True),  # one criterion suffices
        ((None, 80), (40.0, 30.0), True),
        ((100, 90), (None, 40.0), None),  # VAS fails, ODI undetermined
        ((None, None), (40.0, 40.0), None),
        ((None, None), (None, None), None),
        ((100, 90), (0.0, 0.0), None),  # relative ODI criterion against a baseline of 0
        ((100, 80), (0.0, 0.0), True),
    ],
)
@pytest.mark.req("END-01")
def test_three_valued_responder(
    vas: tuple[float | None, float | None],
    odi_values: tuple[float | None, float | None],
    expected: bool | None,
) -> None:
    """Rule: True if either criterion holds; False if both are evaluable and fail; else None."""
    assert is_responder(*vas, *odi_values) is expected


def test_odi_points_rule() -> None:
    """Rule: DECISION odi_rule = "points": improvement ≥ 20 ODI points."""
    assert is_responder(None, None, 40.0, 20.0, odi_rule="points") is True
    assert is_responder(None, None, 40.0, 22.0, odi_rule="points") is None  # VAS missing
    assert is_responder(50, 50, 40.0, 22.0, odi_rule="points") is False
    assert is_responder(50, 50, 0.0, 0.0, odi_rule="points") is False  # evaluable at 0
    assert is_responder(50, 50, 10.0, 8.0) is True  # relative: the same data is 20 %
    with pytest.raises(ValueError, match="'percent'"):
        is_responder(50, 50, 10.0, 8.0, odi_rule="percent")  # type: ignore[arg-type]


def test_thresholds_come_from_the_study_configuration() -> None:
    ep = load_study().endpoint

    def responder(*values: float) -> bool | None:
        return is_responder(
            *values,
            odi_rule=ep.odi_rule,
            vas_points=ep.vas_points,
            vas_percent=ep.vas_percent,
            odi_threshold=ep.odi_threshold,
        )

    assert responder(100, 80, ODI_10_OF_45, ODI_8_OF_45) is True
    assert responder(100, 81, 40.0, 40.0) is False
    assert is_responder(100, 81, 40.0, 40.0, vas_points=19.0, vas_percent=19.0) is True


def test_change_and_improvement_directions() -> None:
    """Improvement = baseline − follow-up for VAS/ODI, follow-up − baseline for PCS/MCS."""
    assert change_from_baseline("VAS", 60.0, 40.0) == -20.0
    assert improvement("VAS", 60.0, 40.0) == 20.0
    assert change_from_baseline("ODI", 40.0, 50.0) == 10.0
    assert improvement("ODI", 40.0, 50.0) == -10.0
    assert change_from_baseline("PCS", 40.0, 45.5) == 5.5
    assert improvement("MCS", 45.5, 40.0) == -5.5
    assert change_from_baseline("VAS", None, 40.0) is None
    assert improvement("PCS", 40.0, None) is None


def test_change_is_exact_for_stored_values() -> None:
    assert 32.3 - 12.3 != 20.0
    assert improvement("VAS", 32.3, 12.3) == 20.0
    assert change_from_baseline("ODI", ODI_10_OF_45, ODI_8_OF_45) == float(Fraction(-40, 9))


def test_percent_improvement() -> None:
    assert percent_improvement("VAS", 80.0, 60.0) == 25.0
    assert percent_improvement("VAS", 0.0, 0.0) is None  # no baseline to be relative to
    assert percent_improvement("ODI", None, 10.0) is None


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (50.0, 35.0, True),  # 15 mm
        (50.0, 36.0, False),  # 14 mm, 28 %
        (20.0, 14.0, True),  # 6 mm but 30 %
        (20.0, 14.1, False),  # 5.9 mm, 29.5 %
        (16.4, 1.4, True),  # 15 mm exactly, though 16.4 − 1.4 < 15 in floating point
        (0.0, 0.0, None),  # mm fails, % undetermined (baseline 0)
        (None, 10.0, None),
    ],
)
def test_vas_mcid(baseline: float | None, followup: float | None, expected: bool | None) -> None:
    """Rule: VAS MCID 15 mm or 30 % (Ostelo 2008)."""
    assert vas_mcid(baseline, followup) is expected


@pytest.mark.parametrize(
    ("baseline", "followup", "expected"),
    [
        (40.0, 30.0, True),  # 10 points
        (40.0, 32.0, False),  # 8 points, 20 %
        (20.0, 14.0, True),  # 6 points, 30 %
        (float(Fraction(200, 9)), float(Fraction(110, 9)), True),  # exactly 10 points
        (0.0, 0.0, None),
    ],
)
def test_odi_mcid(baseline: float, followup: float, expected: bool | None) -> None:
    """Rule: ODI MCID 10 points or 30 % (Ostelo 2008)."""
    assert odi_mcid(baseline, followup) is expected


def test_summary_score_mcid() -> None:
    """Rule: PCS/MCS MCID 5 points, improvement = follow-up − baseline."""
    assert 32.3 - 27.3 < 5
    assert pcs_mcid(27.3, 32.3) is True  # 5 points exactly, though not in floating point
    assert pcs_mcid(40.0, 44.9) is False
    assert pcs_mcid(45.0, 40.0) is False  # worse
    assert mcs_mcid(30.0, 35.0) is True
    assert mcs_mcid(None, 35.0) is None
    assert mcs_mcid(30.0, 33.0, points=3.0) is True


def test_mcid_thresholds_from_the_study_configuration() -> None:
    m = load_study().mcid
    assert vas_mcid(50.0, 35.0, points=m.vas_points, percent=m.vas_percent) is True
    assert odi_mcid(40.0, 32.0, points=m.odi_points, percent=m.odi_percent) is False
    assert pcs_mcid(40.0, 45.0, points=m.pcs_points) is True
    assert mcs_mcid(40.0, 44.0, points=m.mcs_points) is False
    assert mcid_attained("VAS", 50.0, 35.0, points=20.0) is False


@pytest.mark.parametrize(
    ("measure", "value"),
    [("VAS", 100.1), ("VAS", -1.0), ("ODI", 101.0), ("PCS", float("nan")), ("MCS", True)],
)
def test_bad_values_raise(measure: str, value: float) -> None:
    with pytest.raises(ValueError, match=measure):
        improvement(measure, value, 50.0)  # type: ignore[arg-type]


def test_unknown_measure() -> None:
    with pytest.raises(ValueError, match="'EQ5D'"):
        improvement("EQ5D", 1.0, 2.0)  # type: ignore[arg-type]


def test_exact_reads_the_simplest_fraction_only_when_the_double_is_its_nearest() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(57.87243982132346) == Fraction(57.87243982132346)  # no simple fraction
    assert exact(20) == 20
    assert exact(float(Fraction(1, 3)) + 1e-13) == Fraction(float(Fraction(1, 3)) + 1e-13)


def reference_exact(value: float) -> Fraction:
    """`exact` as first written: the nearest fraction with a denominator ≤ 1000, if the double is
    its nearest double, else the double itself (Fraction.limit_denominator, the slow way)."""
    nearest = Fraction(value).limit_denominator(1000)
    return nearest if float(nearest) == value else Fraction(value)


@given(st.floats(min_value=-2000, max_value=2000, allow_nan=False))
def test_exact_agrees_with_limit_denominator_on_any_double(value: float) -> None:
    exact.cache_clear()
    assert exact(value) == reference_exact(value)


@given(
    st.integers(min_value=-1_100_000, max_value=1_100_000),
    st.integers(min_value=1, max_value=1000),
    st.sampled_from([0.0, 1.0, -1.0, 2.0]),
)
def test_exact_agrees_on_simple_fractions_and_their_neighbours(p: int, q: int, ulps: float) -> None:
    """Near p/q (up to ±2 doubles away) is where the fast path must decide like the slow one."""
    value = p / q
    for _ in range(int(abs(ulps))):
        value = math.nextafter(value, math.copysign(math.inf, ulps))
    exact.cache_clear()
    assert exact(value) == reference_exact(value)
    if ulps == 0:
        assert exact(value) == Fraction(p, q)


def test_a_flag_is_refused_even_after_the_same_number_was_compared() -> None:
    """Improvements are cached per visit; True is not taken for the 1 computed before."""
    assert change_from_baseline("VAS", 1, 0) == -1.0
    with pytest.raises(ValueError, match="True is not a finite number"):
        change_from_baseline("VAS", True, 0)
