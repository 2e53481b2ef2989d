"""How numbers and flags are displayed in reports: rounding once, half away from zero.

Scores are kept at full precision everywhere (SCORING.md); they are rounded only here, for
display, by the exact decimal value of the double, half away from zero, so 42.5 mm shows as 43
(Python's ``format`` would round it to even, 42). Missing values show as an en dash.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MISSING = "\u2013"  # en dash (in the PDF base fonts' WinAnsi encoding)

# Display decimals per measure: every score to 0.1 (the VAS too: its responder and MCID rules are
# applied to 0.1 mm, so a value shown beside a threshold must show that precision).
DECIMALS: dict[str, int] = {}
DEFAULT_DECIMALS = 1
# Means, SDs and rates always get one decimal, whatever the measure.
STAT_DECIMALS = 1


def decimals(measure: str) -> int:
    """How many decimals `measure` is displayed with."""
    return DECIMALS.get(measure, DEFAULT_DECIMALS)


def number(value: float | None, places: int = DEFAULT_DECIMALS) -> str:
    """`value` rounded half away from zero to `places` decimals; ``–`` when missing."""
    if value is None:
        return MISSING
    quantum = Decimal(1).scaleb(-places)
    text = str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]  # no "-0.0"
    return text


def score(measure: str, value: float | None) -> str:
    """A score as displayed in tables (one decimal, the VAS too)."""
    return number(value, decimals(measure))


def signed(measure: str, value: float | None) -> str:
    """A change, with its sign: ``+3.5``, ``-12``, ``0``."""
    text = score(measure, value)
    if value is None or text.startswith("-") or Decimal(text) == 0:
        return text
    return "+" + text


def percent(value: float | None) -> str:
    """A percentage with one decimal and a ``%`` sign."""
    return MISSING if value is None else number(value, STAT_DECIMALS) + " %"


def flag(value: bool | None, *, yes: str = "yes", no: str = "no") -> str:
    """A three-valued result: yes / no / undetermined."""
    if value is None:
        return "undetermined"
    return yes if value else no


def mean_sd(mean: float | None, sd: float | None) -> str:
    """``mean ± SD`` with one decimal (the mean alone when there is no SD, n < 2)."""
    if mean is None:
        return MISSING
    if sd is None:
        return number(mean, STAT_DECIMALS)
    return f"{number(mean, STAT_DECIMALS)} \u00b1 {number(sd, STAT_DECIMALS)}"


def rate(numerator: int, denominator: int) -> str:
    """``n/N (p %)``, or ``0/0`` with no percentage."""
    if denominator == 0:
        return f"{numerator}/0"
    return f"{numerator}/{denominator} ({number(100 * numerator / denominator, STAT_DECIMALS)} %)"


def ci(low: float | None, high: float | None, places: int = STAT_DECIMALS, scale: float = 1) -> str:
    """A 95 % confidence interval ``low to high`` (``–`` when undefined)."""
    if low is None or high is None:
        return MISSING
    return f"{number(low * scale, places)} to {number(high * scale, places)}"


def rate_ci(numerator: int, denominator: int, low: float | None, high: float | None) -> str:
    """``n/N (p %; 95 % CI low–high %)``."""
    if denominator == 0:
        return f"{numerator}/0"
    return f"{rate(numerator, denominator)[:-1]}; CI {ci(low, high, scale=100)} %)"


def p_value(p: float) -> str:
    """A p-value: three decimals, ``< 0.001`` below."""
    return "< 0.001" if p < 0.001 else number(p, 3)
