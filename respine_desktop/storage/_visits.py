"""Visits: a subject's schedule with statuses, a site's worklist, and marking a visit missed.

The schedule (target dates, windows) comes from the study configuration through
`respine_desktop.schedule`; the database stores only what happened to a visit (a ``visits`` row
created when a session starts or the visit is marked missed). The worklist applies the schedule's
rule to every subject of a site in one indexed query (`schedule.day0_bounds`).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, cast

from respine_desktop import clock, schedule
from respine_desktop.schedule import (
    ACTIONABLE,
    VISIT_STATUSES,
    VisitState,
    VisitStatus,
)
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._chosen_session import chosen_sql
from respine_desktop.storage._database import StudyDb, transaction
from respine_desktop.storage._errors import InvalidInput, UnknownVisit, VisitNotAvailable
from respine_desktop.storage._records import Staff, VisitRecord, WorklistEntry
from respine_desktop.storage._staff import require
from respine_desktop.storage._subjects import get_subject
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
    """Every visit of a subject in schedule order, with window and status as of `on` (today).

    A visit's `session_id` is its chosen session (`chosen_session`: the one submitted last).
    """
    subject = get_subject(db, subject_code)
    on = on or schedule.today()
    stored: dict[str, sqlite3.Row] = {
        r["visit_code"]: r
        for r in db.conn.execute(
            "SELECT id, visit_code, state, actual_date, missed_reason, "
            f"{chosen_sql('v.id')} AS session_id FROM visits v WHERE subject_id=?",
            [subject.id],
        )
    }
    out = []
    for visit in db.study.visits:
        window = schedule.visit_window(visit, subject.day0)
        row = stored.get(visit.code)
        state = cast(VisitState, row["state"]) if row else None
        out.append(
            VisitRecord(
                subject_id=subject.id,
                subject_code=subject.code,
                code=visit.code,
                window=window,
                status=schedule.visit_status(window, on, state),
                state=state,
                visit_id=row["id"] if row else None,
                actual_date=(
                    date.fromisoformat(row["actual_date"]) if row and row["actual_date"] else None
                ),
                missed_reason=row["missed_reason"] if row else None,
                session_id=row["session_id"] if row else None,
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
    """A site's subject × visit lines with their status on `on` (default today).

    `statuses` filters (default: due, overdue, in progress, parked); None returns every line.
    Sorted by subject code, then schedule order. Fast at any size: visits with nothing stored
    come from one covering-index range scan per visit (the schedule's rule applied as day-0
    ranges, `schedule.day0_bounds`), visits with a stored state from the ``visits`` table.
    """
    site = site_code or db.site_code
    on = on or schedule.today()
    wanted = set(VISIT_STATUSES if statuses is None else statuses)
    bad = sorted(wanted - set(VISIT_STATUSES))
    if bad:
        raise InvalidInput(f"unknown visit statuses {bad} (known: {', '.join(VISIT_STATUSES)})")
    parts: list[str] = []
    params: list[Any] = []
    for visit in db.study.visits:
        earliest, latest = (d.isoformat() for d in schedule.day0_bounds(visit, on))
        ranges = []
        if "overdue" in wanted:
            ranges.append(("s.day0 < ?", [earliest]))
        if "due" in wanted:
            ranges.append(("s.day0 BETWEEN ? AND ?", [earliest, latest]))
        if "not_yet_due" in wanted:
            ranges.append(("s.day0 > ?", [latest]))
        for condition, bounds in ranges:
            parts.append(
                "SELECT s.rowid, ?, CASE WHEN s.day0 > ? THEN 'not_yet_due' "
                "WHEN s.day0 >= ? THEN 'due' ELSE 'overdue' END, NULL "
                f"FROM subjects s WHERE s.site_code = ? AND {condition} "
                "AND instr(s.visits_started, ?) = 0"
            )
            params += [visit.code, latest, earliest, site, *bounds, f",{visit.code},"]
    # Visits with a stored state, driven from the visits table (CROSS JOIN fixes that order).
    # The states are inlined (validated constants), so that the partial index on open visits
    # applies: the open ones are few even in a large study.
    for group in (("in_progress", "parked"), ("complete", "missed")):
        stored = [state for state in group if state in wanted]
        if stored:
            parts.append(
                "SELECT s.rowid, v.visit_code, v.state, "
                f"coalesce(v.session_id, {chosen_sql('v.id')}) "
                "FROM visits v CROSS JOIN subjects s ON s.id = v.subject_id "
                f"WHERE v.state IN ({', '.join(repr(state) for state in stored)}) "
                "AND s.site_code = ?"
            )
            params.append(site)
    if not parts:
        return []
    sql = (
        f"WITH w(r, visit, status, session_id) AS ({' UNION ALL '.join(parts)}) "
        "SELECT s.id, s.code, s.day0, w.visit, w.status, w.session_id "
        "FROM w JOIN subjects s ON s.rowid = w.r"
    )
    order = {v.code: (n, v) for n, v in enumerate(db.study.visits)}
    rows = db.conn.execute(sql, params).fetchall()
    rows.sort(key=lambda r: (r["code"], order[r["visit"]][0]))
    out = []
    day0s: dict[str, date] = {}
    for row in rows:
        day0_text, visit_code = row["day0"], row["visit"]
        day0 = day0s.get(day0_text)
        if day0 is None:
            day0 = day0s[day0_text] = date.fromisoformat(day0_text)
        visit = order[visit_code][1]
        target = day0 + timedelta(days=visit.day)
        out.append(
            WorklistEntry(
                subject_id=row["id"],
                subject_code=row["code"],
                site_code=site,
                day0=day0,
                visit_code=visit_code,
                status=row["status"],
                target_date=target,
                window_opens=target - timedelta(days=visit.window_before),
                window_closes=target + timedelta(days=visit.window_after),
                session_id=row["session_id"],
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
    session_id: str | None = None,
) -> str:
    """Insert or update the ``visits`` row (inside the caller's transaction); returns its id."""
    vid = visit_id(subject_id, visit_code)
    db.conn.execute(
        "INSERT INTO visits (id, subject_id, visit_code, state, actual_date, missed_reason, "
        "updated_at, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET state=excluded.state, "
        "actual_date=coalesce(excluded.actual_date, actual_date), "
        "missed_reason=excluded.missed_reason, updated_at=excluded.updated_at, "
        "session_id=coalesce(excluded.session_id, session_id)",
        [
            vid,
            subject_id,
            visit_code,
            state,
            actual_date.isoformat() if actual_date else None,
            missed_reason,
            clock.now_iso(),
            session_id,
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
        raise InvalidInput(
            f"{subject_code} {visit_code}: a reason is required to mark it missed"
        ).keyed("missed_reason", subject=subject_code, visit=visit_code)
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
