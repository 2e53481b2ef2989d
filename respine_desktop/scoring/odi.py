"""Oswestry Disability Index v2.1a: percent of the maximum over the answered sections."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial

from respine_desktop.scoring import registry
from respine_desktop.scoring._answers import bad_answer, code_tables, plain_code

KEYS: tuple[str, ...] = ("ODI", "answered")
LABEL = "Oswestry Disability Index v2.1a (%)"
SECTIONS = 10
# DECISION (SCORING.md §3): computed when at least 9 of 10 sections are answered.
MIN_SECTIONS = 9
# Upper bounds of the bands, in percent (SCORING.md §3); above the last one: bed-bound.
BANDS: tuple[tuple[float, str], ...] = (
    (20.0, "minimal disability"),
    (40.0, "moderate disability"),
    (60.0, "severe disability"),
    (80.0, "crippled"),
)
TOP_BAND = "bed-bound"


# An accumulator = answered × _ONE + Σ section scores (the sum stays below _ONE): one addition
# per answer on the hot path.
_ONE = 1 << 8


@cache
def _additions() -> Mapping[str, Mapping[int, int]]:
    """Section id -> code -> what answering it adds to the accumulator."""
    return {key: {code: _ONE + code for code in codes} for key, codes in code_tables("odi").items()}


def check_min_sections(min_sections: object) -> None:
    """Refuse a minimum of answered sections that is not a whole number in 1..10."""
    if type(min_sections) is not int or not 1 <= min_sections <= SECTIONS:
        raise ValueError(f"odi: min_sections {min_sections!r} is not an integer in 1..{SECTIONS}")


def score_odi(
    answers: Mapping[str, object], min_sections: int = MIN_SECTIONS
) -> dict[str, float | None]:
    """``{"ODI": percent or None, "answered": sections answered}``.

    ODI = 100 × Σ section scores / (5 × answered), computed from the integer sum in one correctly
    rounded division, so the result is the double nearest to the exact fraction.
    """
    check_min_sections(min_sections)
    additions = _additions()
    acc = 0
    for key, code in answers.items():
        if type(code) is not int:  # bool and float hash like ints: refuse them here
            if code is None:
                continue
            code = plain_code("odi", key, code)
        try:
            acc += additions[key][code]
        except KeyError:
            raise bad_answer("odi", key, code) from None
    answered, total = divmod(acc, _ONE)
    odi = 100 * total / (5 * answered) if answered >= min_sections else None
    return {"ODI": odi, "answered": answered}


def scorer(min_sections: int) -> registry.Scorer:
    """The ODI scorer for a minimum of answered sections (checked now, not at the first row)."""
    check_min_sections(min_sections)
    if min_sections == MIN_SECTIONS:
        return score_odi
    return partial(score_odi, min_sections=min_sections)


registry.register("odi", registry.DEFAULT, score_odi, keys=KEYS, label=LABEL, bind=scorer)


def band(odi: float) -> str:
    """The disability band of an ODI percent (upper bounds inclusive: 20 is minimal)."""
    if not 0.0 <= odi <= 100.0:  # also refuses NaN
        raise ValueError(f"odi: {odi!r} is not a percent in 0..100")
    for upper, name in BANDS:
        if odi <= upper:
            return name
    return TOP_BAND
