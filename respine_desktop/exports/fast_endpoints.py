"""`visit_values.endpoint_values` in integer arithmetic, for the CSV export's hot loop.

The endpoints compare scores with thresholds exactly (`scoring.endpoints`): each score is read as
the rational number it stands for (`endpoints.exact`) and the comparisons are made on fractions.
Python's `Fraction` normalises every intermediate result (a gcd per operation), which made the
endpoints about a sixth of the CSV export's time at 10,000 subjects. Here the same rationals are
kept as (numerator, denominator) pairs with positive denominators and compared by
cross-multiplication; a change from baseline is ``numerator / denominator`` of Python integers,
which is correctly rounded, as ``float(Fraction)`` is: every result is the same value.

Values the scoring module refuses (a bool, a non-finite number, a VAS or ODI outside 0..100) go
to `endpoint_values`, which raises its own error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from respine_desktop.exports.visit_values import (
    ENDPOINT_NAMES,
    RESPONDER,
    EndpointValue,
    ScoreValue,
    endpoint_values,
)
from respine_desktop.scoring.endpoints import exact
from respine_desktop.study import Study

_Ratio = tuple[int, int]
_Pair = tuple[int, int, int] | None
"""(improvement numerator, common denominator, baseline numerator), or None if a score is
missing; the baseline's sign is its numerator's (denominators are positive)."""

_NONE: dict[str, EndpointValue] = dict.fromkeys(ENDPOINT_NAMES)

_Measure = tuple[float | None, bool | None, bool | None]
"""A measure's change from baseline, MCID flag and responder flag."""
Memo = dict[tuple[str, ScoreValue, ScoreValue], _Measure]
"""The VAS's and the ODI's results by (baseline, follow-up) for one study: values that repeat
across a study (tenths of a mm, even ODI percentages); the SF-36 summary scores rarely do and
are not kept."""


_RATIOS: dict[float, _Ratio] = {}


def _ratio(value: float) -> _Ratio:
    """`endpoints.exact(value)` as (numerator, denominator), kept for the values seen lately
    (a baseline is compared with every follow-up; thresholds with every visit)."""
    found = _RATIOS.get(value)
    if found is None:
        if len(_RATIOS) >= 65536:  # the unique SF-36 summary scores would fill it
            _RATIOS.clear()
        f = exact(value)
        found = _RATIOS[value] = (f.numerator, f.denominator)
    return found


def _valid(value: ScoreValue, percent_scale: bool) -> bool:
    """Whether `endpoints._checked` accepts `value` (None included)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return not percent_scale or 0 <= value <= 100


def _pair(baseline: ScoreValue, followup: ScoreValue, lower_is_better: bool) -> _Pair:
    """The improvement over the baseline, with the baseline, as `endpoints._improvement`."""
    if baseline is None or followup is None:
        return None
    bn, bd = _ratio(baseline)
    fn, fd = _ratio(followup)
    # improvement = b - f (lower is better) or f - b, over bd * fd; baseline = bn / bd
    diff = bn * fd - fn * bd
    return (diff if lower_is_better else -diff), bd * fd, bn * fd


def _change(pair: _Pair, lower_is_better: bool) -> float | None:
    """Follow-up − baseline as a double (`endpoints.change_from_baseline`)."""
    if pair is None:
        return None
    n, d, _ = pair
    return (-n if lower_is_better else n) / d


def _points(pair: _Pair, points: float) -> bool | None:
    """Improvement ≥ `points` (`endpoints._at_least_points`)."""
    if pair is None:
        return None
    n, d, _ = pair
    pn, pd = _ratio(points)
    return n * pd >= pn * d


def _percent(pair: _Pair, percent: float) -> bool | None:
    """Improvement ≥ `percent` % of the baseline; None on a baseline of 0
    (`endpoints._at_least_percent`). Both sides share the denominator ``d``: improvement / d
    × 100 ≥ percent × baseline / d."""
    if pair is None:
        return None
    n, _, b = pair
    if b == 0:
        return None
    pn, pd = _ratio(percent)
    return n * 100 * pd >= pn * b


def _any(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _all(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def fast_endpoint_values(
    study: Study,
    baseline: Mapping[str, ScoreValue],
    followup: Mapping[str, ScoreValue],
    memo: Memo | None = None,
) -> dict[str, EndpointValue]:
    """The same values as `endpoint_values(study, baseline, followup)` (see the module).

    `memo` keeps the VAS's and the ODI's results by value for the next calls of this `study`
    (equal values give equal results: a value is read as the exact rational it stands for);
    emptied when it grows past 65,536 entries, to keep memory flat."""
    f_vas, f_odi = followup.get("VAS"), followup.get("ODI")
    f_pcs, f_mcs = followup.get("SF36_PCS"), followup.get("SF36_MCS")
    if f_vas is None and f_odi is None and f_pcs is None and f_mcs is None:
        return dict(_NONE)
    b_vas, b_odi = baseline.get("VAS"), baseline.get("ODI")
    b_pcs, b_mcs = baseline.get("SF36_PCS"), baseline.get("SF36_MCS")
    if not (
        _valid(b_vas, True)
        and _valid(f_vas, True)
        and _valid(b_odi, True)
        and _valid(f_odi, True)
        and _valid(b_pcs, False)
        and _valid(f_pcs, False)
        and _valid(b_mcs, False)
        and _valid(f_mcs, False)
    ) or study.endpoint.odi_rule not in ("relative", "points"):
        return endpoint_values(study, baseline, followup)  # raises the scoring module's error
    mcid = study.mcid
    if memo is None:
        memo = {}
    elif len(memo) >= 65536:
        memo.clear()
    vas_change, vas_mcid, vas_responder = _vas(study, memo, b_vas, f_vas)
    odi_change, odi_mcid, odi_responder = _odi(study, memo, b_odi, f_odi)
    pcs = _pair(b_pcs, f_pcs, False)
    mcs = _pair(b_mcs, f_mcs, False)
    return {
        "VAS_CHG": vas_change,
        "ODI_CHG": odi_change,
        "SF36_PCS_CHG": _change(pcs, False),
        "SF36_MCS_CHG": _change(mcs, False),
        "VAS_MCID": vas_mcid,
        "ODI_MCID": odi_mcid,
        "SF36_PCS_MCID": _points(pcs, mcid.pcs_points),
        "SF36_MCS_MCID": _points(mcs, mcid.mcs_points),
        RESPONDER: _any(vas_responder, odi_responder),
    }


def _vas(study: Study, memo: Memo, baseline: ScoreValue, followup: ScoreValue) -> _Measure:
    """The VAS's results, from `memo` or put there (values checked by `_valid` first)."""
    key = ("VAS", baseline, followup)
    found = memo.get(key)
    if found is None:
        mcid, ep = study.mcid, study.endpoint
        vas = _pair(baseline, followup, True)
        found = memo[key] = (
            _change(vas, True),
            _any(_points(vas, mcid.vas_points), _percent(vas, mcid.vas_percent)),
            _all(_points(vas, ep.vas_points), _percent(vas, ep.vas_percent)),
        )
    return found


def _odi(study: Study, memo: Memo, baseline: ScoreValue, followup: ScoreValue) -> _Measure:
    """The ODI's results, as `_vas`'s."""
    key = ("ODI", baseline, followup)
    found = memo.get(key)
    if found is None:
        mcid, ep = study.mcid, study.endpoint
        odi = _pair(baseline, followup, True)
        if ep.odi_rule == "relative":
            responder = _percent(odi, ep.odi_threshold)
        else:
            responder = _points(odi, ep.odi_threshold)
        found = memo[key] = (
            _change(odi, True),
            _any(_points(odi, mcid.odi_points), _percent(odi, mcid.odi_percent)),
            responder,
        )
    return found
