"""The questionnaire session lifecycle the kiosk drives, one committed transaction per action.

::

    s = start_session(db, "RSP-01-023", "M6", staff=staff)        # visit -> in_progress
    record_answer(db, s.id, "vas_pain", 42.5, language="en", vas_line_mm=100.0)
    record_answer(db, s.id, "odi_01", 2, language="en", position=1)
    record_answer(db, s.id, "odi_08", SKIPPED, language="en")
    park_session(db, s.id, position=5)                            # idle timeout -> parked
    resume_session(db, s.id, staff=staff)                         # -> in_progress
    submit_session(db, s.id)                                      # scores stored; locked
    correct_answer(db, s.id, "odi_01", 3, staff=investigator, reason="patient misread")

Every call validates its input against the study and the instrument definitions *before* it
writes anything; a refused call raises a `StorageError` subclass and leaves the database as it
was. An accepted call commits its change and the matching audit entry together, so a crash or
power cut loses at most the action in flight. Before submission a new answer to an item
supersedes the previous one (the patient went back); after submission only `correct_answer`
(staff, reason required) can, and the scores are recomputed with the old ones kept.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any, cast

from respine_desktop import __version__, clock, schedule
from respine_desktop.instruments import Instrument, Item, load_instrument
from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answers import (
    INSERT as INSERT_ANSWER,
)
from respine_desktop.storage._answers import (
    current_rows,
    digest,
    item_index,
    row_to_answer,
)
from respine_desktop.storage._calibrations import calibration_reference
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import (
    InvalidAnswer,
    InvalidInput,
    NotFound,
    SessionIncomplete,
    SessionStateError,
    UnknownSession,
    VisitNotAvailable,
)
from respine_desktop.storage._reauth import Reauthenticated, reauthenticated_staff
from respine_desktop.storage._records import (
    SKIPPED,
    Answer,
    AnswerStatus,
    AnswerValue,
    Session,
    SessionState,
    Skipped,
    Staff,
)
from respine_desktop.storage._staff import CORRECTION_ROLES, require
from respine_desktop.storage._subjects import get_subject
from respine_desktop.storage._validation import check_answer_value
from respine_desktop.storage._visits import set_visit_state, study_visit, visit_id

APP_VERSION = __version__
VAS_LINE_RANGE_MM = (10.0, 1000.0)
_COLUMNS = (
    "x.id, x.subject_id, s.code, x.visit_id, x.visit_code, x.state, x.position, x.language, "
    "x.device_id, x.started_at, x.started_by, x.parked_at, x.parked_by, x.resumed_at, "
    "x.resumed_by, x.submitted_at, x.submitted_by, x.chosen_by_review"
)
_SELECT = f"SELECT {_COLUMNS} FROM reviewed_sessions x JOIN subjects s ON s.id = x.subject_id"


def _session(db: StudyDb, row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        subject_id=row["subject_id"],
        subject_code=row["code"],
        visit_id=row["visit_id"],
        visit_code=row["visit_code"],
        instruments=db.study.visit(row["visit_code"]).instruments,
        state=cast(SessionState, row["state"]),
        position=row["position"],
        language=row["language"],
        device_id=row["device_id"],
        started_at=row["started_at"],
        started_by=row["started_by"],
        parked_at=row["parked_at"],
        parked_by=row["parked_by"],
        resumed_at=row["resumed_at"],
        resumed_by=row["resumed_by"],
        submitted_at=row["submitted_at"],
        submitted_by=row["submitted_by"],
        chosen_by_review=bool(row["chosen_by_review"]),
    )


def get_session(db: StudyDb, session_id: str) -> Session:
    """The session with this id (UnknownSession if none)."""
    row = db.conn.execute(f"{_SELECT} WHERE x.id=?", [session_id]).fetchone()
    if row is None:
        raise UnknownSession(f"unknown session {session_id!r}")
    return _session(db, row)


def subject_sessions(db: StudyDb, subject_code: str) -> list[Session]:
    """Every session of a subject, oldest first."""
    subject = get_subject(db, subject_code)
    rows = db.conn.execute(f"{_SELECT} WHERE x.subject_id=? ORDER BY x.rowid", [subject.id])
    return [_session(db, r) for r in rows]


def open_sessions(db: StudyDb, site_code: str | None = None) -> list[Session]:
    """Sessions not yet submitted (in progress or parked), oldest first, of one site if given."""
    sql = f"{_SELECT} WHERE x.state != 'submitted'"
    params: list[Any] = []
    if site_code is not None:
        sql += " AND s.site_code=?"
        params.append(site_code)
    return [_session(db, r) for r in db.conn.execute(sql + " ORDER BY x.rowid", params)]


def open_session_for(db: StudyDb, subject_code: str, visit_code: str) -> Session | None:
    """The unfinished session of a subject's visit, if there is one."""
    subject = get_subject(db, subject_code)
    row = db.conn.execute(
        f"{_SELECT} WHERE x.visit_id=? AND x.state != 'submitted'",
        [visit_id(subject.id, visit_code)],
    ).fetchone()
    return _session(db, row) if row else None


@cache
def _codes(item_id: str) -> frozenset[int]:
    item = item_index()[item_id][1]
    return frozenset(item.codes) if item.type == "choice" else frozenset()


def _visit_instruments(db: StudyDb, visit_code: str) -> tuple[str, ...]:
    for visit in db.study.visits:
        if visit.code == visit_code:
            return visit.instruments
    return ()


def languages(instrument_id: str) -> frozenset[str]:
    """The languages in which every text of the instrument exists (installed translations
    included: `load_instrument` is cached and reloaded when one is activated)."""
    return load_instrument(instrument_id).languages()


def _check_language(db: StudyDb, visit_code: str, language: str) -> str:
    for instrument_id in db.study.visit(visit_code).instruments:
        if language not in languages(instrument_id):
            raise InvalidInput(
                f"language {language!r} is not available for {instrument_id} "
                f"(available: {', '.join(sorted(languages(instrument_id)))})"
            )
    return language


def _check_device(db: StudyDb, device_id: str | None) -> str:
    if device_id is None:
        return db.device_id
    if not db.conn.execute("SELECT 1 FROM devices WHERE id=?", [device_id]).fetchone():
        raise NotFound(f"unknown device {device_id!r}")
    return device_id


def start_session(
    db: StudyDb,
    subject_code: str,
    visit_code: str,
    *,
    staff: Staff,
    device_id: str | None = None,
    language: str | None = None,
    on: date | None = None,
) -> Session:
    """Open the questionnaire session of a subject's visit (staff hands the tablet over).

    Refuses an unknown subject, a visit code outside the study schedule, a visit whose window
    has not opened yet (`on`, default today), a visit already complete or missed, and a visit with
    an unfinished session (resume that one instead). An overdue visit may still be done; its
    audit entry says so.
    """
    visit = study_visit(db, visit_code)
    if language is not None:
        _check_language(db, visit_code, language)
    on = on or schedule.today()
    with transaction(db):
        actor = require(db, staff, doing="start questionnaires")
        subject = get_subject(db, subject_code)
        device = _check_device(db, device_id)
        vid = visit_id(subject.id, visit_code)
        row = db.conn.execute("SELECT state FROM visits WHERE id=?", [vid]).fetchone()
        window = schedule.visit_window(visit, subject.day0)
        status = schedule.visit_status(window, on, row["state"] if row else None)
        if status == "not_yet_due":
            raise VisitNotAvailable(
                f"{subject_code} {visit_code} is not due yet: its window opens on "
                f"{window.opens.isoformat()}"
            )
        if status in ("in_progress", "parked"):
            raise VisitNotAvailable(
                f"{subject_code} {visit_code} already has an open session "
                f"({status.replace('_', ' ')}): resume it"
            )
        if status in ("complete", "missed"):
            raise VisitNotAvailable(f"{subject_code} {visit_code} is {status} already")
        session_id = new_id()
        set_visit_state(db, subject.id, visit_code, "in_progress", session_id=session_id)
        db.conn.execute(
            "INSERT INTO sessions (id, visit_id, subject_id, visit_code, state, position, "
            "language, device_id, started_at, started_by) "
            "VALUES (?, ?, ?, ?, 'in_progress', 0, ?, ?, ?, ?)",
            [session_id, vid, subject.id, visit_code, language, device, clock.now_iso(), actor.id],
        )
        audit.append(
            db,
            action="session.started",
            entity="session",
            entity_id=session_id,
            subject_id=subject.id,
            actor=actor.id,
            payload={
                "visit": visit_code,
                "device_id": device,
                "status_before": status,
                "out_of_window": status == "overdue",
                "on": on.isoformat(),
            },
        )
    return get_session(db, session_id)


def _answer_row(db: StudyDb, session_id: str) -> tuple[str, str, str, int, str | None]:
    """(subject_id, visit_code, state, position, language) of a session, in a transaction."""
    row = db.conn.execute(
        "SELECT subject_id, visit_code, state, position, language FROM sessions WHERE id=?",
        [session_id],
    ).fetchone()
    if row is None:
        raise UnknownSession(f"unknown session {session_id!r}")
    return row["subject_id"], row["visit_code"], row["state"], row["position"], row["language"]


def _open_row(db: StudyDb, session_id: str) -> tuple[str, str, str, int]:
    """(subject_id, visit_code, state, position) of a session, inside a transaction."""
    row = db.conn.execute(
        "SELECT subject_id, visit_code, state, position FROM sessions WHERE id=?", [session_id]
    ).fetchone()
    if row is None:
        raise UnknownSession(f"unknown session {session_id!r}")
    return row["subject_id"], row["visit_code"], row["state"], row["position"]


def _prepare(
    db: StudyDb,
    visit_code: str,
    item_id: str,
    value: AnswerValue | Skipped,
    language: str,
    vas_line_mm: float | None,
) -> tuple[Instrument, Item, float | None, str, float | None]:
    """Validate one answer against the instrument: (instrument, item, value, status, line)."""
    known = item_index().get(item_id) if isinstance(item_id, str) else None
    if known is None:
        raise InvalidAnswer(f"unknown item {item_id!r}")
    instrument, item = known
    if instrument.id not in _visit_instruments(db, visit_code):
        raise InvalidAnswer(f"{item_id}: {instrument.id} is not part of visit {visit_code}")
    if not isinstance(language, str) or language not in languages(instrument.id):
        raise InvalidAnswer(
            f"{item_id}: language {language!r} is not available for {instrument.id} "
            f"(available: {', '.join(sorted(languages(instrument.id)))})"
        )
    if value is SKIPPED:
        stored, status = None, "skipped"
    elif type(value) is int and value in _codes(item_id):
        stored, status = float(value), "answered"  # fast path of item.validate for codes
    else:
        stored, status = check_answer_value(item, value), "answered"  # the merge's rule too
    line: float | None = None
    if vas_line_mm is not None:
        if item.type != "vas":
            raise InvalidAnswer(f"{item_id}: vas_line_mm is only for a VAS item")
        if (
            isinstance(vas_line_mm, bool)
            or not isinstance(vas_line_mm, int | float)
            or not math.isfinite(vas_line_mm)
            or not VAS_LINE_RANGE_MM[0] <= vas_line_mm <= VAS_LINE_RANGE_MM[1]
        ):
            raise InvalidAnswer(
                f"{item_id}: VAS line length {vas_line_mm!r} mm is outside "
                f"{VAS_LINE_RANGE_MM[0]:g}..{VAS_LINE_RANGE_MM[1]:g}"
            )
        line = float(vas_line_mm)
    return instrument, item, stored, status, line


def _write_answers(
    db: StudyDb,
    session_id: str,
    subject_id: str,
    prepared: Iterable[tuple[Instrument, Item, float | None, str, float | None]],
    *,
    language: str,
    given_by: str | None = None,
    reason: str | None = None,
    action: str = "answer.recorded",
    extra: Mapping[str, Any] | None = None,
) -> list[Answer]:
    """Insert answer rows (superseding current ones) and their one audit entry; in a transaction.

    An answer identical to the current one (value, status, language, line) is not written again.
    Returns the current rows of the items, written or not.
    """
    conn = db.conn
    now = clock.now_iso()
    out: list[Answer] = []
    written: list[Answer] = []
    prepared = list(prepared)
    if len(prepared) == 1:
        latest = {r.item_id: r for r in current_rows(db, session_id, prepared[0][1].id)}
    else:
        latest = {r.item_id: r for r in current_rows(db, session_id)}
    calibration: str | None = None
    for instrument, item, value, status, line in prepared:
        if line is not None and calibration is None:
            calibration = calibration_reference(db)  # a VAS drawn on a line: which line
        last = latest.get(item.id)
        if (
            last is not None
            and given_by is None
            and (last.value, last.status, last.language, last.vas_line_mm)
            == (value, status, language, line)
        ):
            out.append(last)
            continue
        row = Answer(
            id=new_id(),
            session_id=session_id,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_checksum=instrument.checksum,
            item_id=item.id,
            value=value,
            status=cast(AnswerStatus, status),
            language=language,
            app_version=APP_VERSION,
            device_id=db.device_id,
            given_at=now,
            given_by=given_by,
            supersedes=last.id if last else None,
            reason=reason,
            vas_line_mm=line,
            vas_calibration=calibration if line is not None else None,
        )
        written.append(row)
        out.append(row)
    if written:
        conn.executemany(INSERT_ANSWER, written)
        payload: dict[str, Any] = {
            "session_id": session_id,
            "answers": [[r.id, r.item_id, r.value] for r in written],
            "digest": digest(written),
        }
        payload.update(extra or {})
        audit.append(
            db,
            action=action,
            entity="answer",
            entity_id=written[0].id if len(written) == 1 else session_id,
            subject_id=subject_id,
            actor=given_by,
            payload=payload,
        )
    return out


def _require_answerable(session_id: str, state: str) -> None:
    if state == "submitted":
        raise SessionStateError(
            f"session {session_id} is submitted: answers can only be changed by a staff "
            "correction with a reason"
        )
    if state == "parked":
        raise SessionStateError(f"session {session_id} is parked: resume it before answering")


def record_answer(
    db: StudyDb,
    session_id: str,
    item_id: str,
    value: AnswerValue | Skipped,
    *,
    language: str,
    vas_line_mm: float | None = None,
    position: int | None = None,
) -> Answer:
    """Store the patient's answer to one item (or `SKIPPED`) and commit it at once.

    `value` is the choice code or the VAS mm (validated against the instrument first);
    `vas_line_mm` the rendered length of the VAS line; `position` the item position the kiosk
    is on after this answer (kept for resuming). Refuses an unknown item, an invalid value, a
    language the instrument lacks, and a parked or submitted session. Re-giving the identical
    answer writes nothing and returns the current row.
    """
    _check_position(position)
    with transaction(db):
        subject_id, visit_code, state, current_position, current_language = _answer_row(
            db, session_id
        )
        prepared = _prepare(db, visit_code, item_id, value, language, vas_line_mm)
        _require_answerable(session_id, state)
        extra = {"position": position} if position is not None else None
        _update_position(db, session_id, position, language, (current_position, current_language))
        (row,) = _write_answers(
            db, session_id, subject_id, [prepared], language=language, extra=extra
        )
    return row_to_answer(row)


def record_answers(
    db: StudyDb,
    session_id: str,
    answers: Mapping[str, AnswerValue | Skipped],
    *,
    language: str,
    vas_line_mm: float | None = None,
    position: int | None = None,
) -> list[Answer]:
    """Store several answers (e.g. a whole questionnaire) in one transaction and one audit entry.

    Same rules as `record_answer`; every answer is validated before any is written.
    """
    _check_position(position)
    with transaction(db):
        subject_id, visit_code, state, current_position, current_language = _answer_row(
            db, session_id
        )
        prepared = []
        for item_id, value in answers.items():
            known = item_index().get(item_id) if isinstance(item_id, str) else None
            line = vas_line_mm if known is not None and known[1].type == "vas" else None
            prepared.append(_prepare(db, visit_code, item_id, value, language, line))
        _require_answerable(session_id, state)
        extra = {"position": position} if position is not None else None
        _update_position(db, session_id, position, language, (current_position, current_language))
        rows = _write_answers(db, session_id, subject_id, prepared, language=language, extra=extra)
    return [row_to_answer(r) for r in rows]


def _check_position(position: int | None) -> None:
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or position < 0
    ):
        raise InvalidInput(f"position {position!r} must be an integer >= 0")


def _update_position(
    db: StudyDb,
    session_id: str,
    position: int | None,
    language: str,
    current: tuple[int, str | None],
) -> None:
    # only the columns that change: the language is evidence (imaged in the audit entry that
    # follows), the position is not (`row_images.EXCLUDED`)
    wanted = {"position": current[0] if position is None else position, "language": language}
    changed = {k: v for k, v, old in zip(wanted, wanted.values(), current, strict=True) if v != old}
    if changed:
        db.conn.execute(
            f"UPDATE sessions SET {', '.join(k + '=?' for k in changed)} WHERE id=?",
            [*changed.values(), session_id],
        )


def set_position(db: StudyDb, session_id: str, position: int) -> None:
    """Store the item position the kiosk is on (Back / Next / Change), so a crash resumes there.

    The position is where the sitting stands, not data: it writes no answer row and no audit
    entry (answers, parks and submissions are audited). Refuses a parked or submitted session.
    """
    _check_position(position)
    with transaction(db):
        _, _, state, current = _open_row(db, session_id)
        _require_answerable(session_id, state)
        if position != current:
            db.conn.execute("UPDATE sessions SET position=? WHERE id=?", [position, session_id])


def set_language(db: StudyDb, session_id: str, language: str) -> Session:
    """Record the language the patient chose for the session (before or while answering)."""
    with transaction(db):
        subject_id, visit_code, state, _ = _open_row(db, session_id)
        _check_language(db, visit_code, language)
        _require_answerable(session_id, state)
        db.conn.execute("UPDATE sessions SET language=? WHERE id=?", [language, session_id])
        audit.append(
            db,
            action="session.language",
            entity="session",
            entity_id=session_id,
            subject_id=subject_id,
            payload={"language": language},
        )
    return get_session(db, session_id)


def park_session(
    db: StudyDb, session_id: str, *, position: int, staff: Staff | None = None
) -> Session:
    """Save an unfinished session for later (idle timeout when `staff` is None, else staff).

    Parking a parked session again only updates nothing; a submitted one is refused.
    """
    _check_position(position)
    with transaction(db):
        actor = require(db, staff, doing="park sessions") if staff else None
        subject_id, visit_code, state, _ = _open_row(db, session_id)
        if state == "submitted":
            raise SessionStateError(f"session {session_id} is submitted: it cannot be parked")
        if state == "parked":
            return get_session(db, session_id)
        db.conn.execute(
            "UPDATE sessions SET state='parked', position=?, parked_at=?, parked_by=? WHERE id=?",
            [position, clock.now_iso(), actor.id if actor else None, session_id],
        )
        set_visit_state(db, subject_id, visit_code, "parked")
        audit.append(
            db,
            action="session.parked",
            entity="session",
            entity_id=session_id,
            subject_id=subject_id,
            actor=actor.id if actor else None,
            payload={"position": position, "by": "staff" if actor else "timeout"},
        )
    return get_session(db, session_id)


def resume_session(
    db: StudyDb, session_id: str, *, staff: Staff, device_id: str | None = None
) -> Session:
    """Reopen a parked session (or one interrupted by a crash) where it stopped."""
    with transaction(db):
        actor = require(db, staff, doing="resume sessions")
        device = _check_device(db, device_id)
        subject_id, visit_code, state, position = _open_row(db, session_id)
        if state == "submitted":
            raise SessionStateError(f"session {session_id} is submitted: it cannot be resumed")
        db.conn.execute(
            "UPDATE sessions SET state='in_progress', resumed_at=?, resumed_by=?, device_id=? "
            "WHERE id=?",
            [clock.now_iso(), actor.id, device, session_id],
        )
        set_visit_state(db, subject_id, visit_code, "in_progress")
        audit.append(
            db,
            action="session.resumed",
            entity="session",
            entity_id=session_id,
            subject_id=subject_id,
            actor=actor.id,
            payload={"position": position, "state_before": state, "device_id": device},
        )
    return get_session(db, session_id)


def _score_and_store(
    db: StudyDb,
    session_id: str,
    instrument_ids: Iterable[str],
    computed_by: str | None,
    rows: list[Answer] | None = None,
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Score the current answers (`rows` if the caller just read them) and store the scores."""
    current = current_rows(db, session_id) if rows is None else rows
    by_instrument = scores.scoring_input((r.instrument_id, r.item_id, r.value) for r in current)
    out = {}
    for instrument_id in instrument_ids:
        computed = scores.compute(
            instrument_id,
            by_instrument.get(instrument_id, {}),
            min_sections=db.study.odi_min_sections,
        )
        scores.store(db, session_id, instrument_id, computed, computed_by=computed_by)
        out[instrument_id] = computed
    return out


def submit_session(
    db: StudyDb,
    session_id: str,
    *,
    staff: Staff | None = None,
    skip_unanswered: bool = False,
    on: date | None = None,
) -> Session:
    """Lock the session: score every instrument (both SF-36 methods) and mark the visit complete.

    Every item of the visit's instruments needs an answer or an explicit skip; with
    `skip_unanswered` the missing ones are recorded as skipped in the same transaction.
    `staff` is None when the patient submits. The visit's actual date is `on` (default today).
    """
    on = on or schedule.today()
    with transaction(db):
        actor = require(db, staff, doing="submit sessions") if staff else None
        subject_id, visit_code, state, _ = _open_row(db, session_id)
        if state == "submitted":
            raise SessionStateError(f"session {session_id} is submitted already")
        if state == "parked":
            raise SessionStateError(f"session {session_id} is parked: resume it before submitting")
        instruments = db.study.visit(visit_code).instruments
        rows = current_rows(db, session_id)
        done = {r.item_id for r in rows}
        missing = [
            item.id
            for instrument_id in instruments
            for item in load_instrument(instrument_id).items
            if item.id not in done
        ]
        if missing and not skip_unanswered:
            shown = ", ".join(missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            raise SessionIncomplete(f"session {session_id}: no answer for {shown}")
        if missing:
            language = (
                str(rows[-1].language) if rows else _first_language(db, session_id, instruments)
            )
            prepared = [
                _prepare(db, visit_code, item_id, SKIPPED, language, None) for item_id in missing
            ]
            _write_answers(
                db,
                session_id,
                subject_id,
                prepared,
                language=language,
                extra={"auto_skipped": True},
            )
        computed = _score_and_store(db, session_id, instruments, None, None if missing else rows)
        db.conn.execute(
            "UPDATE sessions SET state='submitted', submitted_at=?, submitted_by=? WHERE id=?",
            [clock.now_iso(), actor.id if actor else None, session_id],
        )
        set_visit_state(db, subject_id, visit_code, "complete", actual_date=on)
        audit.append(
            db,
            action="session.submitted",
            entity="session",
            entity_id=session_id,
            subject_id=subject_id,
            actor=actor.id if actor else None,
            payload={
                "visit": visit_code,
                "actual_date": on.isoformat(),
                "auto_skipped": missing,
                "scores": computed,
                "scoring_version": scores.scoring_version(),
            },
        )
    return get_session(db, session_id)


def _first_language(db: StudyDb, session_id: str, instruments: Iterable[str]) -> str:
    row = db.conn.execute("SELECT language FROM sessions WHERE id=?", [session_id]).fetchone()
    if row and row["language"]:
        return str(row["language"])
    common = set.intersection(*(set(languages(i)) for i in instruments))
    return "en" if "en" in common else sorted(common)[0]


def correct_answer(
    db: StudyDb,
    session_id: str,
    item_id: str,
    value: AnswerValue | Skipped,
    *,
    staff: Staff | Reauthenticated,
    reason: str,
    vas_line_mm: float | None = None,
) -> Answer:
    """Change an answer of a submitted session (investigator or coordinator, reason required).

    Adds a row superseding the current one (the original stays), recomputes that instrument's
    scores (the old score rows are kept, marked superseded), and writes the audit entries.
    `staff` may be the proof of `reauthenticate` (the console's re-entry of credentials): it is
    checked and the time of the re-entry goes into the audit entry.
    """
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(f"{item_id}: a reason is required to correct an answer").keyed(
            "correction_reason", item=item_id
        )
    with transaction(db):
        signer, reentered = reauthenticated_staff(db, staff)
        actor = require(db, signer, CORRECTION_ROLES, "correct answers")
        subject_id, visit_code, state, _ = _open_row(db, session_id)
        previous = current_rows(db, session_id, item_id) if isinstance(item_id, str) else []
        language = (
            str(previous[-1].language)
            if previous
            else _first_language(db, session_id, db.study.visit(visit_code).instruments)
        )
        prepared = _prepare(db, visit_code, item_id, value, language, vas_line_mm)
        if state != "submitted":
            raise SessionStateError(
                f"session {session_id} is not submitted: the patient answers it on the kiosk"
            )
        last = previous[-1] if previous else None
        if last is not None and (last.value, last.status) == (prepared[2], prepared[3]):
            raise InvalidInput(f"{item_id}: the current answer has this value already").keyed(
                "correction_same", item=item_id
            )
        (row,) = _write_answers(
            db,
            session_id,
            subject_id,
            [prepared],
            language=language,
            given_by=actor.id,
            reason=reason,
            action="answer.corrected",
            extra={
                "reason": reason,
                "old_value": last.value if last else None,
                "old_status": last.status if last else None,
                **({"credentials_reentered_at": reentered} if reentered else {}),
            },
        )
        instrument_id = prepared[0].id
        computed = _score_and_store(db, session_id, [instrument_id], actor.id)
        audit.append(
            db,
            action="scores.recomputed",
            entity="session",
            entity_id=session_id,
            subject_id=subject_id,
            actor=actor.id,
            payload={
                "instrument_id": instrument_id,
                "scores": computed,
                "scoring_version": scores.scoring_version(),
                "answer_id": row.id,
            },
        )
    return row_to_answer(row)
