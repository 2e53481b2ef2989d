"""Pain VAS: 0–100 mm, stored at the instrument's 0.1 mm precision; bad values raise."""

from __future__ import annotations

import pytest

from respine_desktop.scoring import label, score, score_keys


def test_value_is_the_mark_in_mm() -> None:
    assert score("vas", {"vas_pain": 37.5}) == {"VAS": 37.5}
    assert score("vas", {"vas_pain": 80}) == {"VAS": 80.0}
    assert isinstance(score("vas", {"vas_pain": 80})["VAS"], float)


def test_both_ends_are_valid() -> None:
    """Rule: the patient can tap the exact ends of the line (SCORING.md §4)."""
    assert score("vas", {"vas_pain": 0})["VAS"] == 0.0
    assert score("vas", {"vas_pain": 100.0})["VAS"] == 100.0


def test_unanswered() -> None:
    assert score("vas", {}) == {"VAS": None}
    assert score("vas", {"vas_pain": None}) == {"VAS": None}


def test_every_stored_value_scores_as_itself() -> None:
    """The 1001 values a kiosk stores (0.0 … 100.0) come back unchanged."""
    for tenths in range(1001):
        value = tenths / 10
        assert score("vas", {"vas_pain": value})["VAS"] == value


def test_a_value_finer_than_the_instruments_precision_is_refused() -> None:
    """Rule: the instrument stores 0.1 mm; a finer value is an error, never silently rounded
    (80.04 rounded to 80.0 would turn a 19.96 mm improvement from 100 into a responder)."""
    for value in (55.55, 12.34, 99.96, 0.04, 1 / 3, 80.04):
        with pytest.raises(ValueError, match=r"vas_pain.*finer than the step 0\.1"):
            score("vas", {"vas_pain": value})


def test_binary_float_noise_is_not_a_finer_value() -> None:
    assert score("vas", {"vas_pain": 70.000000000001})["VAS"] == 70.0
    assert score("vas", {"vas_pain": 0.1 + 0.2})["VAS"] == 0.3


@pytest.mark.parametrize(
    "value", [-0.1, 100.1, 101, -1, float("nan"), float("inf"), True, False, "50", [50]]
)
def test_bad_values_raise_naming_item_and_value(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        score("vas", {"vas_pain": value})
    assert "vas_pain" in str(caught.value) and repr(value) in str(caught.value)


def test_unknown_item() -> None:
    with pytest.raises(ValueError, match=r"'vas_back'.*50"):
        score("vas", {"vas_back": 50})


def test_keys_label_and_dispatch_errors() -> None:
    assert score_keys("vas") == ("VAS",)
    assert "VAS" in label("vas")
    with pytest.raises(ValueError, match="standard"):
        score("vas", {}, method="standard")
    with pytest.raises(ValueError, match="'eq5d'"):
        score("eq5d", {})
