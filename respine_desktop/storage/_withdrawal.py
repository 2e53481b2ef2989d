"""Subject withdrawal: the day a subject left the study, why, who recorded it and when.

One row per subject in ``withdrawals`` (append-only, migration ``0010_withdrawal``), written with
its ``subject.withdrawn`` audit entry in one transaction. The day may not precede day 0 nor lie in
the future, and a reason is required. Visits after the withdrawal day are reported as withdrawn,
not as overdue (`report_reads`); the visits done before stay as they are.

The entry's payload says ``"in_bundles": true`` (`IN_BUNDLES`): this version's site bundles carry
the ``withdrawals`` member (`_merge_withdrawals`), so every bundle that carries this entry, the
device's own or a relay's, carries the row too. A hub's `verify` reads that from the kiosk's own
chain, which the hub's file cannot rewrite (`_replay_devices`): an entry without it was written
by an older version, whose bundles may have lacked the member.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from respine_desktop import clock, schedule
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput
from respine_desktop.storage._records import Staff
from respine_desktop.storage._staff import require
from respine_desktop.storage._subjects import get_subject

MAX_REASON = 500
# in a ``subject.withdrawn`` payload: the bundles of the version that wrote it carry the row
IN_BUNDLES = "in_bundles"


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A subject's withdrawal: the day, the reason, who recorded it (staff id) and when."""

    subject_code: str
    withdrawn_on: date
    reason: str
    recorded_at: str
    recorded_by: str


_SELECT = (
    "SELECT j.code, w.withdrawn_on, w.reason, w.recorded_at, w.recorded_by "
    "FROM withdrawals w JOIN subjects j ON j.id = w.subject_id"
)


def _row(r: sqlite3.Row) -> Withdrawal:
    return Withdrawal(
        subject_code=r["code"],
        withdrawn_on=date.fromisoformat(r["withdrawn_on"]),
        reason=r["reason"],
        recorded_at=r["recorded_at"],
        recorded_by=r["recorded_by"],
    )


def withdraw_subject(
    db: StudyDb, subject_code: str, *, staff: Staff, on: date, reason: str
) -> Withdrawal:
    """Record that `subject_code` withdrew on `on` because of `reason` (audited).

    InvalidInput for an empty or too long reason or a day before day 0 or after today;
    AlreadyExists if the subject is withdrawn already.
    """
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(f"{subject_code}: a reason is required to record a withdrawal").keyed(
            "withdrawal_reason", subject=subject_code
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"{subject_code}: the reason is longer than {MAX_REASON} characters"
        ).keyed("reason_too_long", subject=subject_code, most=MAX_REASON)
    with transaction(db):
        actor = require(db, staff, doing="record a withdrawal")
        subject = get_subject(db, subject_code)
        if on < subject.day0 or on > schedule.today():
            raise InvalidInput(
                f"{subject_code}: withdrawal day {on.isoformat()} must lie between day 0 "
                f"({subject.day0.isoformat()}) and today"
            )
        if get_withdrawal(db, subject_code) is not None:
            raise AlreadyExists(f"{subject_code} is withdrawn already").keyed(
                "withdrawn_already", subject=subject_code
            )
        at = clock.now_iso()
        wid = new_id()
        db.conn.execute(
            "INSERT INTO withdrawals (id, subject_id, withdrawn_on, reason, recorded_at, "
            "recorded_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [wid, subject.id, on.isoformat(), reason, at, actor.id, db.device_id],
        )
        audit.append(
            db,
            action="subject.withdrawn",
            entity="withdrawal",
            entity_id=wid,
            subject_id=subject.id,
            actor=actor.id,
            payload={"withdrawn_on": on.isoformat(), "reason": reason, IN_BUNDLES: True},
        )
    found = get_withdrawal(db, subject_code)
    assert found is not None
    return found


def _table(db: StudyDb) -> bool:
    """Whether the file has the table (a read-only open of an older file may not)."""
    found = db.conn.execute(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='withdrawals'"
    ).fetchone()
    return found is not None


def get_withdrawal(db: StudyDb, subject_code: str) -> Withdrawal | None:
    """The subject's withdrawal, or None if the subject is in the study."""
    if not _table(db):
        return None
    row = db.conn.execute(f"{_SELECT} WHERE j.code=?", [subject_code]).fetchone()
    return _row(row) if row else None


def list_withdrawals(db: StudyDb) -> list[Withdrawal]:
    """Every withdrawal, by subject code (for the worklist, reports and exports)."""
    if not _table(db):
        return []
    return [_row(r) for r in db.conn.execute(f"{_SELECT} ORDER BY j.code")]
