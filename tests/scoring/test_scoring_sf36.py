"""SF-36: SCORING.md's worked examples and boundary cases for standard (v1) and RAND-36 scoring."""

from __future__ import annotations

import enum
from fractions import Fraction
from types import MappingProxyType

import pytest

from respine_desktop.scoring import (
    SCORING_VERSION,
    label,
    score,
    score_keys,
    score_many,
    score_methods,
)
from respine_desktop.scoring.sf36 import MIN_ANSWERED, SCALE_ITEMS, SCALES

# Best and worst pre-code of every item, in questionnaire order (SCORING.md §1 recode table).
BEST = [1, 1, *[3] * 10, *[2] * 7, 1, 1, 1, 1, 6, 6, 1, 1, 6, 6, 1, 6, 5, 5, 1, 5, 1]
WORST = [5, 5, *[1] * 10, *[1] * 7, 5, 6, 5, 6, 1, 1, 6, 6, 1, 1, 6, 1, 1, 1, 5, 1, 5]


def item(n: int) -> str:
    return f"sf36_{n:02d}"


def answers(codes: list[int | None]) -> dict[str, int | None]:
    return {item(n): code for n, code in enumerate(codes, start=1)}


def only(**codes: int) -> dict[str, int]:
    """Answers with just the given items (keyword n22=1 -> sf36_22 = 1)."""
    return {item(int(k[1:])): v for k, v in codes.items()}


def test_all_best_answers() -> None:
    """Rule: Ware 1994 PCS/MCS check values (SCORING.md §2)."""
    result = score("sf36", answers(BEST))
    assert all(result[s] == 100.0 for s in SCALES)
    assert result["PCS"] == pytest.approx(57.8724398213, abs=5e-11)
    assert result["MCS"] == pytest.approx(62.1365563706, abs=5e-11)


def test_all_worst_answers() -> None:
    result = score("sf36", answers(WORST))
    assert all(result[s] == 0.0 for s in SCALES)
    assert result["PCS"] == pytest.approx(20.1360242084, abs=5e-11)
    assert result["MCS"] == pytest.approx(17.3372735040, abs=5e-11)


def test_rand_best_and_worst_include_health_change() -> None:
    best = score("sf36", answers(BEST), method="rand")
    worst = score("sf36", answers(WORST), method="rand")
    assert best == dict.fromkeys((*SCALES, "HT"), 100.0)
    assert worst == dict.fromkeys((*SCALES, "HT"), 0.0)


def test_keys_labels_and_version() -> None:
    assert tuple(score("sf36", {})) == score_keys("sf36") == (*SCALES, "PCS", "MCS")
    assert tuple(score("sf36", {}, "rand")) == score_keys("sf36", "rand") == (*SCALES, "HT")
    assert score("sf36", {}, "standard") == score("sf36", {})
    assert label("sf36") == "SF-36 v1 standard scoring, US 1990 norms"
    assert label("sf36", "rand") == "RAND 36-Item Health Survey 1.0"
    assert SCORING_VERSION.startswith("respine-scoring ")


def test_rand_energy_example() -> None:
    """Rule: RAND worked example: 23 = 4, 27 = 3, 29 = 3, 31 blank -> (40 + 60 + 40) / 3."""
    result = score("sf36", only(n23=4, n27=3, n29=3), method="rand")
    assert result["VT"] == float(Fraction(140, 3))
    assert round(result["VT"], 2) == 46.67


def test_standard_energy_with_the_same_answers() -> None:
    """Rule: half-scale rule: 3 of 4 VT items (minimum 2), the missing one takes their mean."""
    result = score("sf36", only(n23=4, n27=3, n29=3))
    # Final values 7−4 = 3, 7−3 = 4, 3 -> mean 10/3, raw 40/3, (40/3 − 4) / 20 × 100 = 46.67.
    assert result["VT"] == float(Fraction(140, 3))


@pytest.mark.parametrize(
    ("codes", "bp"),
    [
        # 21 answered and 22 answered: 22 = 1 is worth 6 only when 21 = 1, else 5.
        ({"n21": 1, "n22": 1}, 100),  # 6 + 6 = 12
        ({"n21": 2, "n22": 1}, 84),  # 5.4 + 5 = 10.4
        ({"n21": 2, "n22": 2}, 74),  # 5.4 + 4
        ({"n21": 6, "n22": 5}, 0),  # 1 + 1
        ({"n21": 4, "n22": 3}, 41),  # 3.1 + 3
        # 21 missing: 22 = 1 -> 6.0, 2 -> 4.75, 3 -> 3.5, 4 -> 2.25, 5 -> 1.0 (counted twice).
        ({"n22": 1}, 100),
        ({"n22": 2}, 75),
        ({"n22": 3}, 50),
        ({"n22": 4}, 25),
        ({"n22": 5}, 0),
        # 22 missing, 21 answered: 22 takes 21's final value.
        ({"n21": 1}, 100),
        ({"n21": 2}, 88),  # 2 × 5.4
        ({"n21": 3}, 64),  # 2 × 4.2
        ({"n21": 4}, 42),  # 2 × 3.1
        ({"n21": 5}, 24),  # 2 × 2.2
        ({"n21": 6}, 0),
    ],
)
def test_bodily_pain_item_22_depends_on_item_21(codes: dict[str, int], bp: int) -> None:
    """Rule: SF-36 v1 standard BP (Ware 1993; SCORING.md §2)."""
    assert score("sf36", only(**codes))["BP"] == bp  # exact: computed as a fraction


def test_bodily_pain_missing_when_both_items_missing() -> None:
    result = score("sf36", only(n1=1))
    assert result["BP"] is None
    assert result["PCS"] is None and result["MCS"] is None


def test_rand_bodily_pain_ignores_the_dependency() -> None:
    """Rule: RAND recodes 21 and 22 on their own: 21 = 2 -> 80, 22 = 1 -> 100, mean 90."""
    assert score("sf36", only(n21=2, n22=1), method="rand")["BP"] == 90.0
    assert score("sf36", only(n21=2, n22=1))["BP"] == 84.0


def test_general_health_differs_between_rand_and_standard() -> None:
    """Rule: item 01 is 5.0/4.4/3.4/2.0/1.0 in standard scoring, 100/75/50/25/0 in RAND."""
    codes = only(n1=2, n33=5, n34=1, n35=5, n36=1)  # all best but item 1
    assert score("sf36", codes, method="rand")["GH"] == 95.0
    assert score("sf36", codes)["GH"] == 97.0  # (24.4 − 5) / 20 × 100


@pytest.mark.parametrize("scale", [s for s in SCALES if s != "BP"])
def test_half_scale_rule(scale: str) -> None:
    """Rule: a scale is scored when at least its minimum of items is answered (PF 5/10, RP 2/4,
    RE 2/3, VT 2/4, MH 3/5, SF 1/2, GH 3/5), missing items taking the answered items' mean."""
    numbers = SCALE_ITEMS[scale]
    minimum = MIN_ANSWERED[scale]
    best = {item(n): BEST[n - 1] for n in numbers[:minimum]}
    assert score("sf36", best)[scale] == 100.0
    worst = {item(n): WORST[n - 1] for n in numbers[:minimum]}
    assert score("sf36", worst)[scale] == 0.0
    fewer = {item(n): BEST[n - 1] for n in numbers[: minimum - 1]}
    assert score("sf36", fewer)[scale] is None
    # RAND sets no minimum: one answered item is enough.
    assert score("sf36", {item(numbers[0]): BEST[numbers[0] - 1]}, "rand")[scale] == 100.0


def test_half_scale_rule_imputes_the_mean() -> None:
    """Rule: PF 5 of 10 answered (1, 2, 3, 3, 3): mean 2.4, raw 24, (24 − 10) / 20 × 100 = 70."""
    codes = dict(zip([item(n) for n in range(3, 8)], [1, 2, 3, 3, 3], strict=True))
    assert score("sf36", codes)["PF"] == 70.0


def test_pf_with_four_answers_is_missing_and_rand_still_scores_it() -> None:
    codes = {item(n): 2 for n in range(3, 7)}
    assert score("sf36", codes)["PF"] is None
    assert score("sf36", codes, method="rand")["PF"] == 50.0


def test_health_change_is_item_2_recoded_and_in_no_scale() -> None:
    for code, ht in zip(range(1, 6), (100.0, 75.0, 50.0, 25.0, 0.0), strict=True):
        rand = score("sf36", only(n2=code), method="rand")
        assert rand["HT"] == ht
        assert all(rand[s] is None for s in SCALES)
        assert all(v is None for v in score("sf36", only(n2=code)).values())


def test_empty_and_all_none_answers() -> None:
    assert all(v is None for v in score("sf36", {}).values())
    assert score("sf36", answers([None] * 36)) == score("sf36", {})
    assert all(v is None for v in score("sf36", {}, method="rand").values())


def test_any_mapping_and_any_key_order() -> None:
    forward = answers(BEST[:20] + [None] * 16)
    backward = dict(reversed(forward.items()))
    assert score("sf36", MappingProxyType(forward)) == score("sf36", backward)


def test_int_subclass_codes_are_scored_as_their_value() -> None:
    class Code(enum.IntEnum):
        YES = 1
        NO = 2

    assert score("sf36", {item(13): Code.NO})["RP"] is None  # 1 of 4: below the minimum
    assert score("sf36", {item(13): Code.NO}, "rand")["RP"] == 100.0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (item(3), 4, "4"),  # out of range (1..3)
        (item(3), 0, "0"),
        (item(21), 7, "7"),
        (item(1), -1, "-1"),
        (item(13), True, "True"),  # a bool is not a code, though True == 1
        (item(13), 1.0, "1.0"),  # a float where an integer code is expected
        (item(13), "1", "'1'"),
        (item(13), [1], "[1]"),
        ("sf36_37", 1, "'sf36_37'"),  # unknown item
        ("odi_01", 1, "'odi_01'"),
    ],
)
def test_bad_input_raises_naming_item_and_value(key: str, value: object, message: str) -> None:
    for method in ("standard", "rand"):
        with pytest.raises(ValueError, match="sf36") as caught:
            score("sf36", {**answers(BEST), key: value}, method=method)
        assert key in str(caught.value) and message in str(caught.value)


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="'norms'"):
        score("sf36", {}, method="norms")


def test_score_many_is_score_per_row() -> None:
    rows = [answers(BEST), answers(WORST), {}]
    assert list(score_many("sf36", rows)) == [score("sf36", r) for r in rows]
    assert list(score_many("sf36", rows, "rand")) == [score("sf36", r, "rand") for r in rows]


def test_score_methods_gives_both_sets_from_one_pass() -> None:
    for codes in (answers(BEST), answers(WORST), only(n21=2, n22=1, n1=3), {}):
        assert score_methods("sf36", codes) == {
            "standard": score("sf36", codes),
            "rand": score("sf36", codes, method="rand"),
        }
    with pytest.raises(ValueError, match="sf36_03"):
        score_methods("sf36", {item(3): 9})
