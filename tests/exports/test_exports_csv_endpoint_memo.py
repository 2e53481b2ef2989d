"""`fast_endpoint_values` with a memo (as `WideRows` calls it, one memo per export) gives the
values of the scoring module, warm or cold, for values equal as numbers but of other types or
signs (10 and 10.0, 0 and -0.0), and still refuses what the scoring module refuses after the
memo holds an equal valid value (True == 1)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from respine_desktop.exports.fast_endpoints import Memo, fast_endpoint_values
from respine_desktop.exports.visit_values import endpoint_values
from respine_desktop.study import load_study

VALUES = [None, 0, 0.0, -0.0, 5.0, 10, 10.0, 12.5, 20, 22.222222222222221, 30.0, 42.5, 100]


@pytest.mark.parametrize("odi_rule", ["relative", "points"])
def test_a_warm_memo_gives_the_scoring_modules_values(odi_rule: str) -> None:
    shipped = load_study()
    study = dataclasses.replace(
        shipped, endpoint=dataclasses.replace(shipped.endpoint, odi_rule=odi_rule)
    )
    memo: Memo = {}
    for _ in range(2):  # cold, then every result from the memo
        for b_vas, f_vas, b_odi, f_odi in itertools.product(VALUES, repeat=4):
            b = {"VAS": b_vas, "ODI": b_odi, "SF36_PCS": 40.1, "SF36_MCS": None}
            f = {"VAS": f_vas, "ODI": f_odi, "SF36_PCS": 45.1, "SF36_MCS": 50.0}
            want, got = endpoint_values(study, b, f), fast_endpoint_values(study, b, f, memo)
            assert got == want, (b, f)
            assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
            assert [repr(v) for v in got.values()] == [repr(v) for v in want.values()]
    assert 0 < len(memo) <= 2 * len(VALUES) ** 2


def test_a_bool_is_refused_though_the_memo_holds_its_number() -> None:
    study = load_study()
    memo: Memo = {}
    fast_endpoint_values(study, {"VAS": 1.0}, {"VAS": 10.0}, memo)
    with pytest.raises(ValueError) as want:
        endpoint_values(study, {"VAS": True}, {"VAS": 10.0})
    with pytest.raises(ValueError) as got:
        fast_endpoint_values(study, {"VAS": True}, {"VAS": 10.0}, memo)
    assert str(got.value) == str(want.value)


def test_a_full_memo_is_emptied_and_the_values_stay_right() -> None:
    study = load_study()
    memo: Memo = {("VAS", float(k), None): (None, None, None) for k in range(65536)}
    b, f = {"VAS": 50.0, "ODI": 40.0}, {"VAS": 20.0, "ODI": 30.0}
    assert fast_endpoint_values(study, b, f, memo) == endpoint_values(study, b, f)
    assert len(memo) == 2
