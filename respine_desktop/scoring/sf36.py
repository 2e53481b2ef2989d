"""SF-36: standard v1 scoring with PCS/MCS (US 1990 norms), and RAND-36 1.0 scoring.

Every scale is computed in exact rational arithmetic and rounded once to the nearest double. The
hot path never does that arithmetic: each item adds an integer to its scale's accumulator, and the
accumulator (answered count and value sum together) indexes a table of the scale's values
precomputed, once per process, for every reachable accumulator (see `_tables`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from respine_desktop.instruments import load_instrument
from respine_desktop.scoring import registry
from respine_desktop.scoring._answers import bad_answer, plain_code

SCALES: tuple[str, ...] = ("PF", "RP", "RE", "VT", "MH", "SF", "BP", "GH")
STANDARD_KEYS: tuple[str, ...] = (*SCALES, "PCS", "MCS")
RAND_KEYS: tuple[str, ...] = (*SCALES, "HT")
STANDARD_LABEL = "SF-36 v1 standard scoring, US 1990 norms"
RAND_LABEL = "RAND 36-Item Health Survey 1.0"

# Items of each scale, by questionnaire number (SCORING.md §1, step 2).
SCALE_ITEMS: Mapping[str, tuple[int, ...]] = {
    "PF": tuple(range(3, 13)),
    "RP": (13, 14, 15, 16),
    "RE": (17, 18, 19),
    "VT": (23, 27, 29, 31),
    "MH": (24, 25, 26, 28, 30),
    "SF": (20, 32),
    "BP": (21, 22),
    "GH": (1, 33, 34, 35, 36),
}
HEALTH_CHANGE_ITEM = 2  # item 02 belongs to no scale; RAND reports it as HT

# RAND recode, pre-code 1..k -> 0..100, higher = better health (SCORING.md §1, step 1).
RAND_RECODE: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((1, 2, 20, 22, 34, 36), (100, 75, 50, 25, 0)),
    (tuple(range(3, 13)), (0, 50, 100)),
    (tuple(range(13, 20)), (0, 100)),
    ((21, 23, 26, 27, 30), (100, 80, 60, 40, 20, 0)),
    ((24, 25, 28, 29, 31), (0, 20, 40, 60, 80, 100)),
    ((32, 33, 35), (0, 25, 50, 75, 100)),
)

# Standard final item values from pre-codes (SCORING.md §2, Ware 1993); items absent here are
# unchanged. Values are the manual's decimals, read exactly (Fraction of the decimal string).
STANDARD_RECODE: Mapping[int, tuple[str, ...]] = {
    1: ("5.0", "4.4", "3.4", "2.0", "1.0"),
    21: ("6.0", "5.4", "4.2", "3.1", "2.2", "1.0"),
    **{n: ("5", "4", "3", "2", "1") for n in (20, 34, 36)},
    **{n: ("6", "5", "4", "3", "2", "1") for n in (23, 26, 27, 30)},
}
# Item 22 with item 21 answered (22 = 1 is worth 6 when 21 = 1, else 5), and with 21 missing.
ITEM22_WITH_21: tuple[str, ...] = ("5", "4", "3", "2", "1")
ITEM22_WITH_21_AT_BEST = "6"
ITEM22_ALONE: tuple[str, ...] = ("6.0", "4.75", "3.5", "2.25", "1.0")

# Half-scale rule: minimum answered items; (lowest raw sum, range) of the 0–100 transform.
MIN_ANSWERED: Mapping[str, int] = {
    "PF": 5,
    "RP": 2,
    "RE": 2,
    "VT": 2,
    "MH": 3,
    "SF": 1,
    "BP": 1,
    "GH": 3,
}
LOWEST_RANGE: Mapping[str, tuple[int, int]] = {
    "PF": (10, 20),
    "RP": (4, 4),
    "RE": (3, 3),
    "VT": (4, 20),
    "MH": (5, 25),
    "SF": (2, 8),
    "BP": (2, 10),
    "GH": (5, 20),
}

# US 1990 general population: mean, SD, PCS and MCS factor score coefficients (Ware 1994).
NORMS_US_1990: Mapping[str, tuple[str, str, str, str]] = {
    "PF": ("84.52404", "22.89490", "0.42402", "-0.22999"),
    "RP": ("81.19907", "33.79729", "0.35119", "-0.12329"),
    "BP": ("75.49196", "23.55879", "0.31754", "-0.09731"),
    "GH": ("72.21316", "20.16964", "0.24954", "-0.01571"),
    "VT": ("61.05453", "20.86942", "0.02877", "0.23534"),
    "SF": ("83.59753", "22.37642", "-0.00753", "0.26876"),
    "RE": ("81.29467", "33.02717", "-0.19206", "0.43407"),
    "MH": ("74.84212", "18.01189", "-0.22069", "0.48581"),
}


def rand_value(number: int, code: int) -> int:
    """RAND recoded value (0–100) of pre-code `code` of item `number`."""
    for numbers, values in RAND_RECODE:
        if number in numbers:
            return values[code - 1]
    raise ValueError(f"sf36: no item {number}")


def standard_value(number: int, code: int) -> Fraction:
    """Standard final value of pre-code `code` of item `number` (not item 22: see `bodily_pain`)."""
    recode = STANDARD_RECODE.get(number)
    return Fraction(recode[code - 1]) if recode else Fraction(code)


def standard_scale(scale: str, answered: int, total: Fraction) -> Fraction | None:
    """A standard scale (not BP) from the sum of its answered items' final values, or None."""
    if answered < MIN_ANSWERED[scale]:
        return None
    # Each missing item takes the mean of the answered ones: raw = total × items / answered.
    raw = total * len(SCALE_ITEMS[scale]) / answered
    lowest, spread = LOWEST_RANGE[scale]
    return (raw - lowest) / spread * 100


def bodily_pain(code21: int | None, code22: int | None) -> Fraction | None:
    """Standard BP from the pre-codes of items 21 and 22 (None = unanswered)."""
    if code22 is None:
        if code21 is None:
            return None
        raw = 2 * standard_value(21, code21)  # 22 := 21's final value
    elif code21 is None:
        raw = 2 * Fraction(ITEM22_ALONE[code22 - 1])
    else:
        at_best = code21 == 1 and code22 == 1
        v22 = ITEM22_WITH_21_AT_BEST if at_best else ITEM22_WITH_21[code22 - 1]
        raw = standard_value(21, code21) + Fraction(v22)
    lowest, spread = LOWEST_RANGE["BP"]
    return (raw - lowest) / spread * 100


def summary_terms(scale: str, value: Fraction) -> tuple[Fraction, Fraction]:
    """This scale's share of PCS and of MCS: 10 × z × coefficient, z against US 1990 norms."""
    mean, sd, w_pcs, w_mcs = (Fraction(x) for x in NORMS_US_1990[scale])
    z = (value - mean) / sd
    return 10 * z * Fraction(w_pcs), 10 * z * Fraction(w_mcs)


# --- the precomputed tables -------------------------------------------------------------------

# Each answer adds one integer to its scale's accumulator, which then indexes the scale's values
# precomputed for every reachable accumulator. The integer serves both methods: the standard part
# below _FIELD, the RAND part times _FIELD. A part = answered × _ONE + Σ item values (integers:
# standard values in tenths, as items 01 and 21 have one decimal; the sum stays below _ONE), except
# the standard BP part = _BP_BASE × pre-code of item 21 + pre-code of item 22 (0 = unanswered).
_ONE = 1 << 12
_FIELD = 1 << 16
_TENTHS = 10
_BP_BASE = 8
_SLOT = {scale: slot for slot, scale in enumerate(SCALES)}
_SPARE = len(SCALES)  # the slot of item 02: HT for RAND, ignored by standard scoring

Exact = dict[int, Fraction | None]


@dataclass(frozen=True)
class _Tables:
    """Item lookup (item id -> pre-code -> (slot, addition)) and per-slot value tables."""

    items: Mapping[str, Mapping[int, tuple[int, int]]]
    standard: tuple[dict[int, float | None], ...]  # 8 scales: accumulator -> value
    pcs: tuple[dict[int, float], ...]  # accumulator -> the scale's share of PCS
    mcs: tuple[dict[int, float], ...]
    rand: tuple[dict[int, float | None], ...]  # 8 scales and HT


def _standard_part(number: int, code: int) -> int:
    if number == HEALTH_CHANGE_ITEM:
        return 0
    if number == 21:
        return _BP_BASE * code
    if number == 22:
        return code
    tenths = standard_value(number, code) * _TENTHS
    assert tenths.denominator == 1
    return _ONE + int(tenths)


def _standard_exact(scale: str, part: int) -> Fraction | None:
    if scale == "BP":
        return bodily_pain(part // _BP_BASE or None, part % _BP_BASE or None)
    return standard_scale(scale, part // _ONE, Fraction(part % _ONE, _TENTHS))


def _rand_exact(part: int) -> Fraction | None:
    return Fraction(part % _ONE, part // _ONE) if part else None


def _reachable(additions: list[list[int]]) -> set[int]:
    """Every accumulator value that answering any subset of the items can produce."""
    keys = {0}
    for adds in additions:
        keys |= {key + add for key in keys for add in adds}
    return keys


def _rounded(table: Exact) -> dict[int, float | None]:
    return {key: None if value is None else float(value) for key, value in table.items()}


def _shares(scale: str, table: Exact, which: int) -> dict[int, float]:
    return {k: float(summary_terms(scale, v)[which]) for k, v in table.items() if v is not None}


@cache
def _tables() -> _Tables:
    """Build the lookups once per process, checking the instrument's codes against the rules."""
    slot_of = {n: _SLOT[scale] for scale, numbers in SCALE_ITEMS.items() for n in numbers}
    items: dict[str, dict[int, tuple[int, int]]] = {}
    additions: list[list[list[int]]] = [[] for _ in range(_SPARE + 1)]
    for item in load_instrument("sf36").items:
        number = int(item.id.removeprefix("sf36_"))
        size = next(len(values) for numbers, values in RAND_RECODE if number in numbers)
        if item.codes != tuple(range(1, size + 1)):
            raise RuntimeError(f"sf36.json: {item.id} has codes {item.codes}, not 1..{size}")
        slot = slot_of.get(number, _SPARE)
        adds = {
            code: _standard_part(number, code) + _FIELD * (_ONE + rand_value(number, code))
            for code in item.codes
        }
        items[item.id] = {code: (slot, add) for code, add in adds.items()}
        additions[slot].append(list(adds.values()))
    for slot_adds in additions:  # a scale's standard part must stay below the RAND part
        assert sum(max(add % _FIELD for add in item) for item in slot_adds) < _FIELD
    keys = [_reachable(slot_adds) for slot_adds in additions]
    exact = [
        {key: _standard_exact(scale, key % _FIELD) for key in keys[slot]}
        for slot, scale in enumerate(SCALES)
    ]
    return _Tables(
        items=items,
        standard=tuple(map(_rounded, exact)),
        pcs=tuple(_shares(scale, table, 0) for scale, table in zip(SCALES, exact, strict=True)),
        mcs=tuple(_shares(scale, table, 1) for scale, table in zip(SCALES, exact, strict=True)),
        rand=tuple(_rounded({key: _rand_exact(key // _FIELD) for key in k}) for k in keys),
    )


def _accumulate(tables: _Tables, answers: Mapping[str, object]) -> list[int]:
    """One accumulator per scale slot; validates every answer (the hot loop: keep it minimal)."""
    items = tables.items
    acc = [0] * (_SPARE + 1)
    for key, code in answers.items():
        if type(code) is not int:  # bool and float hash like ints: refuse them here
            if code is None:
                continue
            code = plain_code("sf36", key, code)
        try:
            slot, add = items[key][code]
        except KeyError:
            raise bad_answer("sf36", key, code) from None
        acc[slot] += add
    return acc


def _standard(tables: _Tables, acc: list[int]) -> dict[str, float | None]:
    values = list(map(dict.__getitem__, tables.standard, acc))  # 8: map stops at the shorter
    if None in values:  # PCS/MCS need all eight scales
        values += (None, None)
    else:
        # fsum: the shares' exact sum rounded once, the same on every platform and Python.
        values.append(50.0 + math.fsum(map(dict.__getitem__, tables.pcs, acc)))
        values.append(50.0 + math.fsum(map(dict.__getitem__, tables.mcs, acc)))
    return dict(zip(STANDARD_KEYS, values, strict=False))


def _rand(tables: _Tables, acc: list[int]) -> dict[str, float | None]:
    return dict(zip(RAND_KEYS, map(dict.__getitem__, tables.rand, acc), strict=False))


def score_standard(answers: Mapping[str, object]) -> dict[str, float | None]:
    """The 8 standard scales (0–100, half-scale rule) and PCS/MCS, or None where missing."""
    tables = _tables()
    return _standard(tables, _accumulate(tables, answers))


def score_rand(answers: Mapping[str, object]) -> dict[str, float | None]:
    """The 8 RAND-36 scales (mean of the answered recoded items, no minimum) and HT (item 02)."""
    tables = _tables()
    return _rand(tables, _accumulate(tables, answers))


def score_both(
    answers: Mapping[str, object],
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """(standard, RAND) from one pass over the answers."""
    tables = _tables()
    acc = _accumulate(tables, answers)
    return _standard(tables, acc), _rand(tables, acc)


def _every(answers: Mapping[str, object]) -> dict[str, dict[str, float | None]]:
    standard, rand = score_both(answers)
    return {"standard": standard, "rand": rand}


registry.register("sf36", "standard", score_standard, keys=STANDARD_KEYS, label=STANDARD_LABEL)
registry.register("sf36", "rand", score_rand, keys=RAND_KEYS, label=RAND_LABEL)
registry.register_every("sf36", _every)
