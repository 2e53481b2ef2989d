"""Streaming reads for the exports: one subject at a time, with every row the exports need.

`iter_subject_records` walks the subjects in code order and, for each, reads its visits,
sessions, every answer version, every score row (superseded ones included) and who marked a
visit missed, through the indexes on ``subject_id`` / ``session_id``. Only one subject's rows are
in memory at a time, so an export's memory stays flat however large the study grows. The other
functions read the small tables an export header needs (devices, sites, referenced staff ids).

Reads only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from typing import Any, NamedTuple, cast

from respine_desktop import schedule
from respine_desktop.instruments import load_instruments
from respine_desktop.schedule import ScheduledVisit, VisitState
from respine_desktop.storage.database import StudyDb
from respine_desktop.storage.records import SessionState, Subject


class AnswerRow(NamedTuple):
    """One answer row, as the exports read it: the ``answers`` columns but ``app_version`` and
    ``vas_line_mm`` (no export carries them), choice codes as int.

    A plain tuple rather than `records.Answer`: an export reads millions of them, and building a
    frozen dataclass per row would cost more than the rest of the read.
    """

    id: str
    session_id: str
    instrument_id: str
    instrument_version: str
    instrument_checksum: str
    item_id: str
    value: int | float | None
    status: str
    language: str
    device_id: str
    given_at: str
    given_by: str | None
    supersedes: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A stored ``visits`` row (exists once a session started or the visit was marked missed)."""

    id: str
    visit_code: str
    state: VisitState
    actual_date: date | None
    missed_reason: str | None
    updated_at: str
    missed_by: str | None = None
    missed_at: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A questionnaire session of the subject (several per visit only after a kiosk merge)."""

    id: str
    visit_id: str
    visit_code: str
    state: SessionState
    language: str | None
    device_id: str
    started_at: str
    started_by: str | None
    submitted_at: str | None
    submitted_by: str | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A stored score row (current when `superseded_at` is None)."""

    id: str
    session_id: str
    instrument_id: str
    method: str
    values: Mapping[str, float | None]
    scoring_version: str
    computed_at: str
    computed_by: str | None
    device_id: str
    superseded_at: str | None
    superseded_by: str | None


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """Everything stored about one subject, as the exports read it.

    `schedule` has every visit of the study with its status as of the day asked for;
    `answers` every answer version (session by session, oldest first); `scores` every score row.
    `device_id` is the device that registered the subject.
    """

    subject: Subject
    device_id: str
    schedule: tuple[ScheduledVisit, ...]
    visits: tuple[VisitRow, ...]
    sessions: tuple[SessionRow, ...]
    answers: tuple[AnswerRow, ...]
    scores: tuple[ScoreRow, ...]


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device (kiosk) known to the database, its own or one merged from a bundle."""

    id: str
    label: str
    site_code: str | None
    registered_at: str


@dataclass(frozen=True, slots=True)
class SiteRow:
    """A site and when this database first knew it."""

    code: str
    created_at: str


_SUBJECTS = (
    "SELECT id, code, site_code, day0, year_of_birth, created_at, created_by, device_id "
    "FROM subjects ORDER BY code"
)
_VISITS = (
    "SELECT id, visit_code, state, actual_date, missed_reason, updated_at FROM visits "
    "WHERE subject_id=?"
)
_SESSIONS = (
    "SELECT id, visit_id, visit_code, state, language, device_id, started_at, started_by, "
    "submitted_at, submitted_by FROM sessions WHERE subject_id=? ORDER BY started_at, rowid"
)


@cache
def _answers_sql() -> str:
    """The answers of one subject, oldest first; choice codes cast to INTEGER by SQLite."""
    vas = ", ".join(
        f"'{item.id}'"
        for instrument in load_instruments().values()
        for item in instrument.items
        if item.type != "choice"
    )
    value = f"CASE WHEN item_id IN ({vas}) THEN value ELSE CAST(value AS INTEGER) END"
    columns = ", ".join(value if f == "value" else f for f in AnswerRow._fields)
    return (
        f"SELECT {columns} FROM answers "
        "WHERE session_id IN (SELECT id FROM sessions WHERE subject_id=?) "
        "ORDER BY given_at, rowid"
    )


_SCORES = (
    "SELECT id, session_id, instrument_id, method, scores, scoring_version, computed_at, "
    "computed_by, device_id, superseded_at, superseded_by FROM scores "
    "WHERE session_id IN (SELECT id FROM sessions WHERE subject_id=?) "
    "ORDER BY computed_at, rowid"
)
_MISSED = (
    "SELECT entity_id, actor, at FROM audit_log WHERE subject_id=? AND action='visit.missed' "
    "ORDER BY at"
)


def count_subject_records(db: StudyDb) -> int:
    """How many records `iter_subject_records` yields (for progress fractions)."""
    return int(db.conn.execute("SELECT count(*) FROM subjects").fetchone()[0])


def _subject(row: tuple[Any, ...]) -> Subject:
    return Subject(
        id=row[0],
        code=row[1],
        site_code=row[2],
        day0=date.fromisoformat(row[3]),
        year_of_birth=row[4],
        created_at=row[5],
        created_by=row[6],
    )


_ANSWER_ROW = partial(tuple.__new__, AnswerRow)  # C-level construction, unlike ._make


def _record(db: StudyDb, row: tuple[Any, ...], on: date, history: bool) -> SubjectRecord:
    conn = db.conn
    subject = _subject(row)
    missed: dict[str, tuple[str | None, str]] = {}
    if history:
        missed = {r[0]: (r[1], r[2]) for r in conn.execute(_MISSED, [subject.id])}
    visits = []
    for r in conn.execute(_VISITS, [subject.id]):
        by, at = missed.get(r[0], (None, None))
        visits.append(
            VisitRow(
                id=r[0],
                visit_code=r[1],
                state=cast(VisitState, r[2]),
                actual_date=date.fromisoformat(r[3]) if r[3] else None,
                missed_reason=r[4],
                updated_at=r[5],
                missed_by=by,
                missed_at=at,
            )
        )
    known = set(db.study.visit_codes)
    states = {v.visit_code: v.state for v in visits if v.visit_code in known}
    dates = {v.visit_code: v.actual_date for v in visits if v.actual_date and v.visit_code in known}
    planned = schedule.subject_schedule(db.study, subject.day0, on, states, dates)
    sessions = tuple(
        SessionRow(r[0], r[1], r[2], cast(SessionState, r[3]), *r[4:])
        for r in conn.execute(_SESSIONS, [subject.id])
    )
    answers: tuple[AnswerRow, ...] = tuple(
        map(_ANSWER_ROW, conn.execute(_answers_sql(), [subject.id]))
    )
    scores: tuple[ScoreRow, ...] = ()
    if history:
        scores = tuple(
            ScoreRow(r[0], r[1], r[2], r[3], json.loads(r[4]), *r[5:])
            for r in conn.execute(_SCORES, [subject.id])
        )
    return SubjectRecord(subject, row[7], tuple(planned), tuple(visits), sessions, answers, scores)


def iter_subject_records(
    db: StudyDb, *, on: date | None = None, history: bool = True
) -> Iterator[SubjectRecord]:
    """Every subject in code order with all its rows (see `SubjectRecord`); statuses as of `on`.

    Without `history`, the stored score rows and who marked a visit missed (the audit trail of
    an ODM --history file) are not read: `scores` is empty and `missed_by` / `missed_at` None.
    The subjects query stays open while the caller consumes the iterator; each record is read
    when it is asked for.
    """
    on = on or schedule.today()
    cursor = db.conn.execute(_SUBJECTS)
    try:
        for row in cursor:
            yield _record(db, row, on, history)
    finally:
        cursor.close()


def list_devices(db: StudyDb) -> list[DeviceRow]:
    """Every device known to the database, in registration order."""
    return [
        DeviceRow(*r)
        for r in db.conn.execute(
            "SELECT id, label, site_code, registered_at FROM devices ORDER BY registered_at, id"
        )
    ]


def list_site_rows(db: StudyDb) -> list[SiteRow]:
    """Every site known to the database, by code."""
    return [
        SiteRow(*r) for r in db.conn.execute("SELECT code, created_at FROM sites ORDER BY code")
    ]


def referenced_staff_ids(db: StudyDb) -> set[str]:
    """Every staff id a stored row or audit entry names (an export must define each of them)."""
    queries = (
        "SELECT DISTINCT given_by FROM answers",
        "SELECT DISTINCT computed_by FROM scores",
        "SELECT DISTINCT created_by FROM subjects",
        "SELECT DISTINCT started_by FROM sessions",
        "SELECT DISTINCT submitted_by FROM sessions",
        "SELECT DISTINCT actor FROM audit_log WHERE action='visit.missed'",
        "SELECT id FROM staff",
    )
    out: set[str] = set()
    for sql in queries:
        out.update(str(r[0]) for r in db.conn.execute(sql) if r[0] is not None)
    return out


def referenced_device_ids(db: StudyDb) -> set[str]:
    """Every device id a stored row names (answers, scores, sessions, subjects, devices)."""
    queries = (
        "SELECT DISTINCT device_id FROM answers",
        "SELECT DISTINCT device_id FROM scores",
        "SELECT DISTINCT device_id FROM sessions",
        "SELECT DISTINCT device_id FROM subjects",
        "SELECT id FROM devices",
    )
    out: set[str] = set()
    for sql in queries:
        out.update(str(r[0]) for r in db.conn.execute(sql) if r[0] is not None)
    return out
