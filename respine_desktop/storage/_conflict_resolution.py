"""Resolving a conflict: an investigator or administrator chooses the session that counts.

When two kiosks both recorded a subject's visit, the chosen-session rule (`chosen_session`)
picks the version submitted last. A reviewer who knows better (the other kiosk's sitting was the
real one) records a *choice* for the visit, with a mandatory reason: a ``session_choices`` row,
append-only, and a ``conflict.resolved`` audit entry, in one transaction. The rule then prefers
the visit's current choice (its newest row), in every reader: reports, exports, worklist. A later
choice supersedes an earlier one; both stay, with their entries.

The choice is per visit (a visit's scores come from one session), whatever the instrument whose
conflict the reviewer was looking at. Only a submitted session can be chosen (an open one has no
scores), and only among the visit's own sessions. Choices travel to other hubs in site bundles
(`bundle_merge`) and are checked against their audit entries by `verify`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from respine_desktop import clock
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._chosen_session import chosen_sql
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import (
    InvalidInput,
    SessionStateError,
    UnknownSession,
    UnknownVisit,
)
from respine_desktop.storage._reauth import Reauthenticated, reauthenticated_staff
from respine_desktop.storage._records import Role, Staff
from respine_desktop.storage._staff import require
from respine_desktop.storage._subjects import get_subject
from respine_desktop.storage._visits import study_visit, visit_id

RESOLUTION_ROLES: tuple[Role, ...] = ("investigator", "admin")
RESOLVED_ACTION = "conflict.resolved"
ENTITY = "session_choice"
COLUMNS = "id, visit_id, session_id, chosen_at, chosen_by, device_id, reason"
# The current choice of a visit first: newest, by time then insertion order.
CURRENT_ORDER = "chosen_at DESC, rowid DESC"


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """One reviewer's choice of the session that counts for a visit (a ``session_choices`` row).

    `chosen_by` is the staff id, `chosen_by_username` its account name when this database knows
    it (a choice imported from another hub names that hub's staff, imported without PIN).
    """

    id: str
    visit_id: str
    session_id: str
    chosen_at: str
    chosen_by: str
    device_id: str
    reason: str
    chosen_by_username: str | None = None


def _choice(row: sqlite3.Row) -> SessionChoice:
    return SessionChoice(
        id=row["id"],
        visit_id=row["visit_id"],
        session_id=row["session_id"],
        chosen_at=row["chosen_at"],
        chosen_by=row["chosen_by"],
        device_id=row["device_id"],
        reason=row["reason"],
        chosen_by_username=row["username"],
    )


_SELECT = (
    f"SELECT {', '.join('c.' + c.strip() for c in COLUMNS.split(','))}, s.username "
    "FROM session_choices c LEFT JOIN staff s ON s.id = c.chosen_by"
)


def visit_choices(db: StudyDb, visit: str) -> list[SessionChoice]:
    """Every choice recorded for the visit whose id is `visit`, the current one first."""
    rows = db.conn.execute(
        f"{_SELECT} WHERE c.visit_id=? ORDER BY c.chosen_at DESC, c.rowid DESC", [visit]
    )
    return [_choice(r) for r in rows]


def current_choice(db: StudyDb, visit: str) -> SessionChoice | None:
    """The visit's current choice (its newest), or None if nobody chose for it."""
    choices = visit_choices(db, visit)
    return choices[0] if choices else None


def resolve_conflict(
    db: StudyDb,
    subject_code: str,
    visit_code: str,
    session_id: str,
    *,
    staff: Staff | Reauthenticated,
    reason: str,
) -> SessionChoice:
    """Make `session_id` the session that counts for the subject's visit (reason required).

    Investigators and administrators only (`RESOLUTION_ROLES`, else PermissionDenied). Refuses a
    blank reason (InvalidInput), an unknown session (UnknownSession), a session of another visit
    (InvalidInput), a session not submitted (SessionStateError), a visit with one session only
    (nothing to resolve) and the session that is the visit's current choice already
    (InvalidInput). Writes the choice, its ``conflict.resolved`` audit entry and the visit's
    session in one transaction; a refused call writes nothing. `staff` may be the proof of
    `reauthenticate` (checked; the time of the re-entry goes into the audit entry).
    """
    study_visit(db, visit_code)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(
            f"{subject_code} {visit_code}: a reason is required to choose the version that counts"
        )
    with transaction(db):
        signer, reentered = reauthenticated_staff(db, staff)
        actor = require(db, signer, RESOLUTION_ROLES, "choose the version that counts")
        subject = get_subject(db, subject_code)
        vid = visit_id(subject.id, visit_code)
        if not db.conn.execute("SELECT 1 FROM visits WHERE id=?", [vid]).fetchone():
            raise UnknownVisit(f"{subject_code} {visit_code}: nothing recorded for this visit")
        row = db.conn.execute(
            "SELECT visit_id, state FROM sessions WHERE id=?", [session_id]
        ).fetchone()
        if row is None:
            raise UnknownSession(f"unknown session {session_id!r}")
        if row["visit_id"] != vid:
            raise InvalidInput(
                f"session {session_id} is not a session of {subject_code} {visit_code}"
            )
        if row["state"] != "submitted":
            raise SessionStateError(
                f"session {session_id} is not submitted: only a submitted version can count"
            )
        sessions = int(
            db.conn.execute(
                "SELECT count(*) AS n FROM sessions WHERE visit_id=?", [vid]
            ).fetchone()["n"]
        )
        if sessions < 2:
            raise InvalidInput(
                f"{subject_code} {visit_code} has one session only: there is nothing to choose"
            )
        previous = current_choice(db, vid)
        if previous is not None and previous.session_id == session_id:
            raise InvalidInput(
                f"session {session_id} is the version chosen for {subject_code} {visit_code} "
                "already"
            )
        counted = db.conn.execute(f"SELECT {chosen_sql('?')} AS id", [vid]).fetchone()["id"]
        choice_id, now = new_id(), clock.now_iso()
        db.conn.execute(
            f"INSERT INTO session_choices ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [choice_id, vid, session_id, now, actor.id, db.device_id, reason],
        )
        audit.append(
            db,
            action=RESOLVED_ACTION,
            entity=ENTITY,
            entity_id=choice_id,
            subject_id=subject.id,
            actor=actor.id,
            payload={
                **choice_payload(
                    visit_code, vid, session_id, now, db.device_id, reason, counted, previous
                ),
                **({"credentials_reentered_at": reentered} if reentered else {}),
            },
        )
        refresh_visit_session(db, vid)
    found = current_choice(db, vid)
    assert found is not None and found.id == choice_id
    return found


def choice_payload(
    visit_code: str,
    visit: str,
    session_id: str,
    chosen_at: str,
    device_id: str,
    reason: str,
    counted_before: str | None,
    previous: SessionChoice | None,
) -> dict[str, object]:
    """The audit payload of a choice: its row's content (which `verify` compares) and context."""
    return {
        "visit": visit_code,
        "visit_id": visit,
        "session_id": session_id,
        "chosen_at": chosen_at,
        "device_id": device_id,
        "reason": reason,
        "counted_before": counted_before,
        "supersedes": previous.id if previous is not None else None,
    }


def refresh_visit_session(db: StudyDb, visit: str) -> None:
    """Point the visit's stored session (the worklist's) at its chosen session; in a transaction."""
    db.conn.execute(f"UPDATE visits SET session_id = {chosen_sql('visits.id')} WHERE id=?", [visit])
