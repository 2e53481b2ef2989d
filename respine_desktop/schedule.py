"""The visit schedule of one subject: target dates, windows and statuses (pure, no storage).

A visit's window is ``[day0 + day - window_before, day0 + day + window_after]`` (both ends
included, in calendar days). Its status as of ``today`` follows from the window and the state the
database stored for it (``None`` when nothing happened yet):

=============  =========================================================================
status         meaning
=============  =========================================================================
not_yet_due    nothing stored and the window opens after today
due            nothing stored and today is inside the window
overdue        nothing stored and the window closed before today (not marked missed)
missed         staff marked the visit missed (with a reason)
in_progress    a questionnaire session is open (being answered, or interrupted by a crash)
parked         a session was parked (idle timeout or staff) and can be resumed
complete       the session was submitted
=============  =========================================================================

Stored states change only through the storage API (start, park, resume, submit, mark missed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from respine_desktop import clock
from respine_desktop.study import Study, Visit

VisitState = Literal["in_progress", "parked", "complete", "missed"]
VisitStatus = Literal[
    "not_yet_due", "due", "overdue", "missed", "in_progress", "parked", "complete"
]
VISIT_STATES: tuple[VisitState, ...] = ("in_progress", "parked", "complete", "missed")
VISIT_STATUSES: tuple[VisitStatus, ...] = (
    "not_yet_due",
    "due",
    "overdue",
    "missed",
    "in_progress",
    "parked",
    "complete",
)
# What a site's worklist shows by default: visits someone can act on today.
ACTIONABLE: tuple[VisitStatus, ...] = ("due", "overdue", "in_progress", "parked")


@dataclass(frozen=True, slots=True)
class Window:
    """The target date of a visit and the first and last day it may be done."""

    opens: date
    target: date
    closes: date

    def contains(self, day: date) -> bool:
        return self.opens <= day <= self.closes


@dataclass(frozen=True, slots=True)
class ScheduledVisit:
    """One visit of one subject as of a given day."""

    code: str
    window: Window
    status: VisitStatus
    state: VisitState | None
    actual_date: date | None = None


def today() -> date:
    """Today's date on this device (the clock's time in the local time zone)."""
    return clock.now().astimezone().date()


def visit_window(visit: Visit, day0: date) -> Window:
    """The window of `visit` for a subject whose day 0 is `day0`."""
    target = day0 + timedelta(days=visit.day)
    return Window(
        target - timedelta(days=visit.window_before),
        target,
        target + timedelta(days=visit.window_after),
    )


def visit_status(window: Window, on: date, state: VisitState | None) -> VisitStatus:
    """The status of a visit with this window and stored state on the day `on`."""
    if state is not None:
        return state
    if on < window.opens:
        return "not_yet_due"
    if on <= window.closes:
        return "due"
    return "overdue"


def day0_bounds(visit: Visit, on: date) -> tuple[date, date]:
    """The day-0 range ``(earliest, latest)`` for which `visit` is inside its window on `on`.

    A subject with nothing stored for the visit is ``due`` when ``earliest <= day0 <= latest``,
    ``not_yet_due`` when ``day0 > latest`` and ``overdue`` when ``day0 < earliest``: the same
    rule as `visit_status`, turned around so that a database can apply it to many subjects with
    one indexed comparison.
    """
    return (
        on - timedelta(days=visit.day + visit.window_after),
        on - timedelta(days=visit.day - visit.window_before),
    )


def subject_schedule(
    study: Study,
    day0: date,
    on: date,
    states: Mapping[str, VisitState] | None = None,
    actual_dates: Mapping[str, date] | None = None,
) -> list[ScheduledVisit]:
    """Every visit of the study for a subject with `day0`, in schedule order, as of `on`.

    `states` maps visit codes to their stored state (visits absent from it have none yet);
    `actual_dates` maps visit codes to the day their questionnaires were submitted.
    """
    states = states or {}
    actual_dates = actual_dates or {}
    unknown = sorted(set(states) - set(study.visit_codes))
    if unknown:
        raise ValueError(
            f"visits {unknown} are not in the schedule ({', '.join(study.visit_codes)})"
        )
    out = []
    for visit in study.visits:
        window = visit_window(visit, day0)
        state = states.get(visit.code)
        out.append(
            ScheduledVisit(
                visit.code,
                window,
                visit_status(window, on, state),
                state,
                actual_dates.get(visit.code),
            )
        )
    return out
