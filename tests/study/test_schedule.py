"""The visit schedule: windows from the study file, statuses from the stored state and the day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respine_desktop import schedule
from respine_desktop.study import load_study

STUDY = load_study()
DAY0 = date(2026, 1, 15)


def test_windows_follow_the_study_configuration() -> None:
    m0, m1, m3, m6, m12, m24 = (schedule.visit_window(v, DAY0) for v in STUDY.visits)
    assert (m0.opens, m0.target, m0.closes) == (date(2026, 1, 1), DAY0, DAY0)
    assert m1.target == DAY0 + timedelta(days=30)
    assert (m1.opens, m1.closes) == (m1.target - timedelta(7), m1.target + timedelta(7))
    assert m3.target == DAY0 + timedelta(days=91)
    assert m6.target == DAY0 + timedelta(days=182)
    assert (m12.opens, m12.closes) == (m12.target - timedelta(30), m12.target + timedelta(30))
    assert m24.target == date(2028, 1, 15)


@pytest.mark.parametrize(
    ("on", "state", "status"),
    [
        (date(2026, 2, 6), None, "not_yet_due"),  # M1 window opens 2026-02-07
        (date(2026, 2, 7), None, "due"),  # first day of the window
        (date(2026, 2, 21), None, "due"),  # last day of the window
        (date(2026, 2, 22), None, "overdue"),
        (date(2026, 2, 22), "missed", "missed"),
        (date(2026, 2, 10), "in_progress", "in_progress"),
        (date(2026, 2, 10), "parked", "parked"),
        (date(2026, 3, 10), "complete", "complete"),
    ],
)
def test_status_of_the_one_month_visit(
    on: date, state: schedule.VisitState | None, status: str
) -> None:
    window = schedule.visit_window(STUDY.visit("M1"), DAY0)
    assert schedule.visit_status(window, on, state) == status


def test_subject_schedule_lists_every_visit_in_order() -> None:
    rows = schedule.subject_schedule(
        STUDY, DAY0, date(2026, 2, 10), {"M0": "complete"}, {"M0": date(2026, 1, 14)}
    )
    assert [r.code for r in rows] == ["M0", "M1", "M3", "M6", "M12", "M24"]
    assert [r.status for r in rows] == ["complete", "due"] + ["not_yet_due"] * 4
    assert rows[0].actual_date == date(2026, 1, 14)


def test_unknown_visit_in_the_stored_state_is_an_error() -> None:
    with pytest.raises(ValueError, match="M9"):
        schedule.subject_schedule(STUDY, DAY0, DAY0, {"M9": "complete"})


@given(
    day0=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    offset=st.integers(min_value=-60, max_value=800),
    index=st.integers(min_value=0, max_value=len(STUDY.visits) - 1),
)
def test_day0_bounds_give_the_same_status_as_the_window(
    day0: date, offset: int, index: int
) -> None:
    """The worklist's day-0 ranges are the window rule turned around: both must agree."""
    visit = STUDY.visits[index]
    on = day0 + timedelta(days=offset)
    earliest, latest = schedule.day0_bounds(visit, on)
    by_bounds = "not_yet_due" if day0 > latest else "due" if day0 >= earliest else "overdue"
    assert by_bounds == schedule.visit_status(schedule.visit_window(visit, day0), on, None)
