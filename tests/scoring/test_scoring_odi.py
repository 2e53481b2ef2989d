"""ODI v2.1a: percent of the maximum over the answered sections, minimum answered (DECISION)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from respine_desktop.scoring import label, score, score_keys, score_methods
from respine_desktop.scoring.odi import band


def sections(*codes: int | None) -> dict[str, int | None]:
    return {f"odi_{n:02d}": code for n, code in enumerate(codes, start=1)}


def test_worked_example_all_sections() -> None:
    """Rule: 16 of 50 -> 32 % (Fairbank & Pynsent 2000)."""
    assert score("odi", sections(2, 2, 2, 2, 2, 2, 1, 1, 1, 1)) == {"ODI": 32.0, "answered": 10}


def test_worked_example_one_section_missing() -> None:
    """Rule: 16 of 45 -> 35.56 %, kept unrounded (the double nearest 320/9)."""
    result = score("odi", sections(2, 2, 2, 2, 2, 2, 1, 1, 2, None))
    assert result == {"ODI": float(Fraction(1600, 45)), "answered": 9}
    assert round(result["ODI"] or 0, 2) == 35.56


def test_missing_key_is_the_same_as_none() -> None:
    codes = sections(2, 2, 2, 2, 2, 2, 1, 1, 2, None)
    del codes["odi_10"]
    assert score("odi", codes)["ODI"] == float(Fraction(320, 9))


def test_extremes() -> None:
    assert score("odi", sections(*[0] * 10))["ODI"] == 0.0
    assert score("odi", sections(*[5] * 10))["ODI"] == 100.0
    assert score("odi", sections(*[5] * 9, None))["ODI"] == 100.0


@pytest.mark.req("SCO-02")
def test_below_the_minimum_is_missing_but_counts_the_answers() -> None:
    """Rule: DECISION odi_min_sections = 9 by default."""
    assert score("odi", sections(1, 1, 1, 1, 1, 1, 1, 1)) == {"ODI": None, "answered": 8}
    assert score("odi", {}) == {"ODI": None, "answered": 0}


def test_minimum_is_configurable() -> None:
    codes = sections(1, 1, 1, 1, 1, 1, 1, 2)  # 9 of 40
    assert score("odi", codes, min_sections=8)["ODI"] == 22.5
    assert score("odi", codes, min_sections=1)["ODI"] == 22.5
    assert score("odi", sections(*[3] * 10), min_sections=10)["ODI"] == 60.0
    assert score("odi", sections(*[3] * 9), min_sections=10)["ODI"] is None


@pytest.mark.parametrize("minimum", [0, 11, -1, True, 9.0, "9"])
def test_bad_minimum(minimum: object) -> None:
    with pytest.raises(ValueError, match="min_sections"):
        score("odi", {}, min_sections=minimum)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("odi_01", 6, "6"),
        ("odi_01", -1, "-1"),
        ("odi_02", 2.0, "2.0"),
        ("odi_03", True, "True"),
        ("odi_03", False, "False"),  # False == 0, but a bool is not a code
        ("odi_04", "3", "'3'"),
        ("odi_11", 1, "'odi_11'"),
        ("sf36_01", 1, "'sf36_01'"),
    ],
)
def test_bad_input_raises_naming_item_and_value(key: str, value: object, shown: str) -> None:
    with pytest.raises(ValueError) as caught:
        score("odi", {**sections(*[1] * 10), key: value})
    assert key in str(caught.value) and shown in str(caught.value)


def test_odi_has_no_methods() -> None:
    with pytest.raises(ValueError, match="rand"):
        score("odi", {}, method="rand")


def test_keys_and_label() -> None:
    assert score_keys("odi") == ("ODI", "answered")
    assert "Oswestry" in label("odi")


@pytest.mark.parametrize(
    ("odi", "name"),
    [
        (0.0, "minimal disability"),
        (20.0, "minimal disability"),
        (float(Fraction(200, 9)), "moderate disability"),
        (40.0, "moderate disability"),
        (42.0, "severe disability"),
        (60.0, "severe disability"),
        (62.0, "crippled"),
        (80.0, "crippled"),
        (82.0, "bed-bound"),
        (100.0, "bed-bound"),
    ],
)
def test_bands(odi: float, name: str) -> None:
    """Rule: 0–20 minimal, 21–40 moderate, 41–60 severe, 61–80 crippled, 81–100 bed-bound."""
    assert band(odi) == name


@pytest.mark.parametrize("odi", [-0.1, 100.1, float("nan")])
def test_band_refuses_a_non_percent(odi: float) -> None:
    with pytest.raises(ValueError):
        band(odi)


def test_score_methods_has_one_default_method() -> None:
    codes = sections(*[1] * 8)
    assert score_methods("odi", codes, min_sections=8) == {"default": {"ODI": 20.0, "answered": 8}}
    assert score_methods("vas", {"vas_pain": 5}) == {"default": {"VAS": 5.0}}
