"""Visits: a subject's schedule with statuses, a site's worklist, and marking a visit missed.

The schedule (target dates, windows) comes from the study configuration through
`respine_desktop.schedule`; the database stores only what happened to a visit (a ``visits`` row
created when a session starts or the visit is marked missed). The worklist applies the schedule's
rule to every subject of a site in one indexed query (`schedule.day0_bounds`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, cast

from respine_desktop import clock, schedule
from respine_desktop.schedule import ACTIONABLE, VISIT_STATUSES, VisitState, VisitStatus
from respine_desktop.storage import audit
from respine_desktop.storage.database import StudyDb, transaction
from respine_desktop.storage.errors import InvalidInput, UnknownVisit, VisitNotAvailable
from respine_desktop.storage.records import Staff, VisitRecord, WorklistEntry
from respine_desktop.storage.staff import require
from respine_desktop.storage.subjects import get_subject
from respine_desktop.study import Visit

_VISIT_NAMESPACE = uuid.UUID("5b0c6f2e-7a4d-4f43-9a57-2f1d0e6c9a10")


def visit_id(subject_id: str, visit_code: str) -> str:
    """The id of a subject's visit: the same on every device (uuid5), so merged rows agree."""
    return str(uuid.uuid5(_VISIT_NAMESPACE, f"{subject_id}/{visit_code}"))


def study_visit(db: StudyDb, visit_code: str) -> Visit:
    """The visit of the study schedule with this code (UnknownVisit if none)."""
    try:
        return db.study.visit(visit_code)
    except KeyError:
        raise UnknownVisit(
            f"visit {visit_code!r} is not in the schedule ({', '.join(db.study.visit_codes)})"
        ) from None


def subject_visits(db: StudyDb, subject_code: str, on: date | None = None) -> list[VisitRecord]:
    """Every visit of a subject in schedule order, with window and status as of `on` (today)."""
    subject = get_subject(db, subject_code)
    on = on or schedule.today()
    stored: dict[str, tuple[Any, ...]] = {
        r[1]: r
        for r in db.conn.execute(
            "SELECT id, visit_code, state, actual_date, missed_reason, "
            "(SELECT s.id FROM sessions s WHERE s.visit_id = v.id "
            " ORDER BY s.started_at DESC LIMIT 1) "
            "FROM visits v WHERE subject_id=?",
            [subject.id],
        )
    }
    out = []
    for visit in db.study.visits:
        window = schedule.visit_window(visit, subject.day0)
        row = stored.get(visit.code)
        state = cast(VisitState, row[2]) if row else None
        out.append(
            VisitRecord(
                subject_id=subject.id,
                subject_code=subject.code,
                code=visit.code,
                window=window,
                status=schedule.visit_status(window, on, state),
                state=state,
                visit_id=row[0] if row else None,
                actual_date=date.fromisoformat(row[3]) if row and row[3] else None,
                missed_reason=row[4] if row else None,
                session_id=row[5] if row else None,
            )
        )
    return out


def subject_visit(
    db: StudyDb, subject_code: str, visit_code: str, on: date | None = None
) -> VisitRecord:
    """One visit of a subject (see `subject_visits`)."""
    study_visit(db, visit_code)
    for record in subject_visits(db, subject_code, on):
        if record.code == visit_code:
            return record
    raise UnknownVisit(f"visit {visit_code!r} is not in the schedule")  # pragma: no cover


def worklist(
    db: StudyDb,
    site_code: str | None = None,
    on: date | None = None,
    statuses: Collection[VisitStatus] | None = ACTIONABLE,
) -> list[WorklistEntry]:
    """A site's subject × visit lines with their status on `on` (default today), by subject code.

    `statuses` filters (default: due, overdue, in progress, parked); None returns every line.
    One query: the schedule's rule is applied as day-0 ranges per visit (`schedule.day0_bounds`).
    """
    site = site_code or db.site_code
    on = on or schedule.today()
    if statuses is not None:
        bad = [s for s in statuses if s not in VISIT_STATUSES]
        if bad:
            raise InvalidInput(f"unknown visit statuses {bad} (known: {', '.join(VISIT_STATUSES)})")
    values: list[str] = []
    params: list[Any] = []
    offsets: dict[str, tuple[int, int, int]] = {}
    for order, visit in enumerate(db.study.visits):
        earliest, latest = schedule.day0_bounds(visit, on)
        values.append("(?, ?, ?, ?)")
        params += [visit.code, order, earliest.isoformat(), latest.isoformat()]
        offsets[visit.code] = (
            visit.day - visit.window_before,
            visit.day,
            visit.day + visit.window_after,
        )
    sql = (
        f"WITH plan(code, ord, earliest, latest) AS (VALUES {', '.join(values)}) "
        "SELECT * FROM ("
        " SELECT s.id, s.code AS subject_code, s.day0, plan.code AS visit_code, "
        "  CASE WHEN v.state IS NOT NULL THEN v.state "
        "   WHEN s.day0 > plan.latest THEN 'not_yet_due' "
        "   WHEN s.day0 >= plan.earliest THEN 'due' ELSE 'overdue' END AS status, "
        "  CASE WHEN v.state != 'missed' THEN "
        "   (SELECT x.id FROM sessions x WHERE x.visit_id = v.id "
        "    ORDER BY x.state = 'submitted', x.started_at DESC LIMIT 1) END AS session_id, "
        "  plan.ord "
        " FROM subjects s CROSS JOIN plan "
        " LEFT JOIN visits v ON v.subject_id = s.id AND v.visit_code = plan.code "
        " WHERE s.site_code = ?) "
    )
    params.append(site)
    if statuses is not None:
        wanted = sorted(set(statuses))
        if not wanted:
            return []
        sql += f"WHERE status IN ({', '.join('?' for _ in wanted)}) "
        params += wanted
    sql += "ORDER BY subject_code, ord"
    out = []
    day0s: dict[str, date] = {}
    for subject_id, code, day0_text, visit_code, status, session_id, _ in db.conn.execute(
        sql, params
    ):
        day0 = day0s.get(day0_text)
        if day0 is None:
            day0 = day0s[day0_text] = date.fromisoformat(day0_text)
        opens, target, closes = offsets[visit_code]
        out.append(
            WorklistEntry(
                subject_id,
                code,
                site,
                day0,
                visit_code,
                status,
                day0 + timedelta(days=target),
                day0 + timedelta(days=opens),
                day0 + timedelta(days=closes),
                session_id,
            )
        )
    return out


def set_visit_state(
    db: StudyDb,
    subject_id: str,
    visit_code: str,
    state: VisitState,
    *,
    actual_date: date | None = None,
    missed_reason: str | None = None,
) -> str:
    """Insert or update the ``visits`` row (inside the caller's transaction); returns its id."""
    vid = visit_id(subject_id, visit_code)
    db.conn.execute(
        "INSERT INTO visits (id, subject_id, visit_code, state, actual_date, missed_reason, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET state=excluded.state, "
        "actual_date=coalesce(excluded.actual_date, actual_date), "
        "missed_reason=excluded.missed_reason, updated_at=excluded.updated_at",
        [
            vid,
            subject_id,
            visit_code,
            state,
            actual_date.isoformat() if actual_date else None,
            missed_reason,
            clock.now_iso(),
        ],
    )
    return vid


def mark_missed(
    db: StudyDb,
    subject_code: str,
    visit_code: str,
    *,
    staff: Staff,
    reason: str,
    on: date | None = None,
) -> VisitRecord:
    """Record that a visit will not take place, with a reason (a visit with data cannot be)."""
    study_visit(db, visit_code)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(f"{subject_code} {visit_code}: a reason is required to mark it missed")
    with transaction(db):
        actor = require(db, staff, doing="mark visits missed")
        current = subject_visit(db, subject_code, visit_code, on)
        if current.state is not None:
            raise VisitNotAvailable(
                f"{subject_code} {visit_code} is {current.state.replace('_', ' ')}: "
                "it cannot be marked missed"
            )
        vid = set_visit_state(db, current.subject_id, visit_code, "missed", missed_reason=reason)
        audit.append(
            db,
            action="visit.missed",
            entity="visit",
            entity_id=vid,
            subject_id=current.subject_id,
            actor=actor.id,
            payload={"visit": visit_code, "reason": reason, "status_before": current.status},
        )
    return subject_visit(db, subject_code, visit_code, on)
