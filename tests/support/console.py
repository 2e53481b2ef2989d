"""A real study database for the console tests: one subject per visit status, through storage.

Everything is written through the storage API as the kiosk and the staff would, with today's
date, so that the worklist statuses are those of the schedule rule today:

==========  ==========  ===============================================================
subject     day 0       state
==========  ==========  ===============================================================
RSP-01-001  today       M0 due
RSP-01-002  today - 60  M0 and M1 overdue (windows closed), M3 not yet due
RSP-01-003  today       M0 in progress (session started)
RSP-01-004  today       M0 parked
RSP-01-005  today - 30  M0 complete (VAS 60 mm), M1 due
RSP-01-006  today - 30  M0 missed ("moved abroad"), M1 due
==========  ==========  ===============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from respine_desktop import storage
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import Staff, StudyDb

ADMIN_PIN = "860427"
INVESTIGATOR, INVESTIGATOR_PIN = "inv", "594318"
COORDINATOR, COORDINATOR_PIN = "coord", "731592"
DUE, OVERDUE, IN_PROGRESS, PARKED, COMPLETE, MISSED = (
    "RSP-01-001",
    "RSP-01-002",
    "RSP-01-003",
    "RSP-01-004",
    "RSP-01-005",
    "RSP-01-006",
)
MISSED_REASON = "moved abroad"
BASELINE_VAS = 60.0


def visit_answers(db: StudyDb, visit_code: str, vas: float) -> dict[str, int | float]:
    """An answer to every item of the visit: the VAS at `vas` mm, each choice its second code."""
    answers: dict[str, int | float] = {}
    for instrument_id in db.study.visit(visit_code).instruments:
        for item in load_instrument(instrument_id).items:
            answers[item.id] = (
                vas if item.type == "vas" else item.codes[min(1, len(item.codes) - 1)]
            )
    return answers


def complete_visit(
    db: StudyDb, code: str, visit_code: str, staff: Staff, vas: float = BASELINE_VAS
) -> str:
    """Start, answer everything and submit a visit; the session id."""
    session = storage.start_session(db, code, visit_code, staff=staff)
    storage.record_answers(db, session.id, visit_answers(db, visit_code, vas), language="en")
    storage.submit_session(db, session.id)
    return session.id


def make_console_db(path: Path) -> Path:
    """The database of the module docstring, with accounts admin, inv and coord."""
    today = date.today()
    with storage.create_database(path, admin_pin=ADMIN_PIN) as db:
        admin = storage.authenticate(db, "admin", ADMIN_PIN)
        storage.create_staff(db, admin, INVESTIGATOR, "investigator", INVESTIGATOR_PIN)
        coord = storage.create_staff(db, admin, COORDINATOR, "coordinator", COORDINATOR_PIN)
        day0s: Mapping[str, date] = {
            DUE: today,
            OVERDUE: today - timedelta(days=60),
            IN_PROGRESS: today,
            PARKED: today,
            COMPLETE: today - timedelta(days=30),
            MISSED: today - timedelta(days=30),
        }
        for code, day0 in day0s.items():
            storage.register_subject(db, code, day0=day0, staff=coord)
        storage.start_session(db, IN_PROGRESS, "M0", staff=coord)
        parked = storage.start_session(db, PARKED, "M0", staff=coord)
        storage.park_session(db, parked.id, position=0)
        complete_visit(db, COMPLETE, "M0", coord)
        storage.mark_missed(db, MISSED, "M0", staff=coord, reason=MISSED_REASON)
    return path


def staff_of(db: StudyDb, username: str) -> Staff:
    return storage.get_staff(db, username)
