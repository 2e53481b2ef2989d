"""Streaming reads for the exports: one subject at a time, with every row the exports need.

Its rows are the package's records (`Answer`, `Session`, `Score`, `Subject`), plus the visits
as stored (`VisitRow`) and the devices and sites. `iter_subject_records` walks the subjects in
code order, `_CHUNK` subjects per round of queries, and yields each subject with its visits,
sessions, every answer version, every score row (superseded ones included) and who marked a
visit missed, read through the indexes on ``subject_id`` / ``session_id``. Only one chunk's
rows are in memory at a time, so an export's memory stays flat however large the study grows.
The other functions read the small tables an export header needs (devices, sites, referenced
staff and device ids).

Reads only.

Public API
----------

- `iter_subject_records(db, *, on=None, history=True, after="", through=None,
  current_scores=False, answer_lines=False, session_lines=False)`: the subjects
- `subject_answers(db, subject_id) -> (Answer, ...)`: one subject's answers, as a record has them
- `subject_answer_lines(db, subject_id) -> (AnswerLine, ...)`: one subject's, likewise
- `prepare_answer_lines(db, texts)`: what ``answer_lines`` and ``session_lines`` read (before
  the read snapshot)
- `read_mapped(db)`: the connection reads the file through a memory map (a worker process's)
- `LineTexts`: what SQLite cannot know of the answers_long lines (labels, visits, columns)
- `AnswerLine`: an answer as read with ``answer_lines``: what visits_wide reads, and its line
- `SessionLines`: a session's answers as read with ``session_lines``: their lines and cells
- `AnswerFields`: what visits_wide reads of an answer (`Answer` and `AnswerLine` have it)
- `value_text(sql) -> sql`: the SQL text of a value as the CSV writes it (a line feed if unsure)
- `count_subject_records(db, *, after="", through=None) -> int`: how many it yields
- `subject_ranges(db, parts, shares=None) -> [(after, through)]`: the subjects split for
  parallel work
- `count_audit_entries(db) -> int`: how many entries the audit log holds
- `SubjectRecord`: everything stored about one subject
- `CurrentScore`: a current score row as stored (``current_scores``)
- `VisitRow`: a stored ``visits`` row
- `VisitChoice`: a reviewer's choice of the session that counts for a visit
- `list_devices(db) -> [DeviceRow]`: every device, in registration order
- `DeviceRow`: a device (kiosk) known to the database
- `list_site_rows(db) -> [SiteRow]`: every site, by code
- `SiteRow`: a site and when this database first knew it
- `referenced_staff_ids(db) -> {id}`: every staff id a row or audit entry names
- `referenced_device_ids(db) -> {id}`: every device id a row names
- `iter_audit_rows(db) -> [AuditRow]`: every audit entry, in time order, streamed
- `AuditRow`: one audit entry with the code of its subject
- `AuditLines(db)`: the entries' audit_trail.csv lines as SQLite makes them, and entries by rowid
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar, cast

from respine_desktop import schedule, scoring
from respine_desktop.instruments import load_instruments
from respine_desktop.schedule import ScheduledVisit, VisitState
from respine_desktop.storage._answer_lines import (
    AnswerFields,
    AnswerLine,
    LineTexts,
    SessionLines,
    answer_lines_sql,
    prepare_answer_lines,
    session_lines_sql,
    stored_value_sql,
    value_text,
)
from respine_desktop.storage._answers import ANSWER
from respine_desktop.storage._audit_lines import (
    AUDIT_ORDER,
    AUDIT_WITH,
    SUBJECT_CODE,
    audit_lines_sql,
)
from respine_desktop.storage._database import StudyDb, plain_rows, scalar
from respine_desktop.storage._records import Answer, Score, Session, SessionState, Subject
from respine_desktop.storage._subjects import row_to_subject
from respine_desktop.storage._withdrawal import Withdrawal
from respine_desktop.storage.stored_values import (
    StoredValues,
    score_values,
    subject_map,
    text_columns,
)

__all__ = [
    "AnswerFields",
    "AnswerLine",
    "AuditLines",
    "AuditRow",
    "CurrentScore",
    "DeviceRow",
    "LineTexts",
    "SessionLines",
    "SiteRow",
    "SubjectRecord",
    "VisitChoice",
    "VisitRow",
    "count_audit_entries",
    "count_subject_records",
    "iter_audit_rows",
    "iter_subject_records",
    "list_devices",
    "list_site_rows",
    "prepare_answer_lines",
    "read_mapped",
    "referenced_device_ids",
    "referenced_staff_ids",
    "subject_answer_lines",
    "subject_answers",
    "subject_ranges",
    "value_text",
]

_T = TypeVar("_T")


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
class SubjectRecord:
    """Everything stored about one subject, as the exports read it.

    `schedule` has every visit of the study with its status as of the day asked for;
    `answers` every answer version (session by session, oldest first); `scores` every score row.
    `device_id` is the device that registered the subject. A session of a visit the study does
    not schedule (any more) has no `instruments`. Read with ``answer_lines`` / ``session_lines``,
    `answers` is empty and `answer_lines` / `session_lines` has the answers (see
    `iter_subject_records`).
    """

    subject: Subject
    device_id: str
    schedule: tuple[ScheduledVisit, ...]
    visits: tuple[VisitRow, ...]
    sessions: tuple[Session, ...]
    answers: tuple[Answer, ...]
    scores: tuple[Score, ...]
    choices: tuple[VisitChoice, ...] = ()
    withdrawal: Withdrawal | None = None
    current_scores: tuple[CurrentScore, ...] = ()
    answer_lines: tuple[AnswerLine, ...] = ()
    session_lines: tuple[SessionLines, ...] = ()
    # when each of `answers` was written (its rowid, by answer id; it may hold other subjects'
    # answers too): of two current rows of an item, a fork, the last written counts
    written: Mapping[str, int] | None = None


class CurrentScore(NamedTuple):
    """A current (not superseded) score row of the running scoring version, as stored: its
    values are the JSON text. Read with ``current_scores`` only."""

    session_id: str
    instrument_id: str
    method: str
    scores: str


@dataclass(frozen=True, slots=True)
class VisitChoice:
    """A reviewer's choice of the session that counts for a visit (oldest first; the last one of
    a visit is its current choice). Read with ``history`` only."""

    visit_code: str
    session_id: str
    chosen_at: str
    chosen_by: str
    reason: str


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
    first_data_at: str | None = None


_SUBJECTS = (
    "SELECT id, code, site_code, day0, year_of_birth, created_at, created_by, device_id "
    "FROM subjects WHERE code > ? AND (? IS NULL OR code <= ?) ORDER BY code LIMIT ?"
)
# Subjects are read in chunks: a handful of queries per chunk instead of five per subject.
_CHUNK = 200
_VISITS = (
    "SELECT subject_id, id, visit_code, state, actual_date, missed_reason, updated_at "
    "FROM visits WHERE subject_id IN ({ids})"
)
_SESSIONS = (
    "SELECT x.subject_id, x.id, x.visit_id, x.visit_code, x.state, x.position, x.language, "
    "x.device_id, x.started_at, x.started_by, x.parked_at, x.parked_by, x.resumed_at, "
    "x.resumed_by, x.submitted_at, x.submitted_by, x.chosen_by_review "
    "FROM reviewed_sessions x WHERE x.subject_id IN ({ids}) ORDER BY x.started_at, x.rowid"
)
_SCORES = (
    "SELECT s.subject_id, c.id, c.session_id, c.instrument_id, c.method, c.scores, "
    "c.scoring_version, c.computed_at, c.computed_by, c.device_id, c.superseded_at, "
    "c.superseded_by FROM scores c JOIN sessions s ON s.id = c.session_id "
    "WHERE s.subject_id IN ({ids}) ORDER BY c.computed_at, c.rowid"
)
_CHOICES = (
    "SELECT v.subject_id, v.visit_code, c.session_id, c.chosen_at, c.chosen_by, c.reason "
    "FROM session_choices c JOIN visits v ON v.id = c.visit_id "
    "WHERE v.subject_id IN ({ids}) ORDER BY c.chosen_at, c.rowid"
)
_WITHDRAWALS = (
    "SELECT w.subject_id, j.code, w.withdrawn_on, w.reason, w.recorded_at, w.recorded_by "
    "FROM withdrawals w JOIN subjects j ON j.id = w.subject_id "
    "WHERE w.subject_id IN ({ids}) ORDER BY w.recorded_at, w.rowid"
)
_CURRENT_SCORES = (
    "SELECT s.subject_id, c.session_id, c.instrument_id, c.method, c.scores "
    "FROM scores c JOIN sessions s ON s.id = c.session_id "
    "WHERE s.subject_id IN ({ids}) AND c.superseded_at IS NULL AND c.scoring_version = ? "
    "ORDER BY c.rowid"
)
_MISSED = (
    "SELECT subject_id, entity_id, actor, at FROM audit_log "
    "WHERE subject_id IN ({ids}) AND action='visit.missed' ORDER BY at"
)


_SESSION_ID = itemgetter(Answer._fields.index("session_id"))
# Every answer of the subjects an export reads is checked against its item's rule, whichever
# way its lines are then written, and their rows for bytes where a text is stored
# (`stored_values`: stops the export in one line); the values accepted are remembered.
_STORED_VALUES = StoredValues()
_LINE_SESSION_ID = itemgetter(AnswerLine._fields.index("session_id"))
_ANSWER_LINE = partial(tuple.__new__, AnswerLine)
_SESSION_LINES = partial(tuple.__new__, SessionLines)


@cache
def _answers_sql(written: bool = False) -> str:
    """The answers of some subjects, subject by subject, each subject's oldest first; choice
    codes cast to INTEGER by SQLite (`stored_value_sql`); with `written`, each row's rowid
    after `Answer`'s fields. (Sorting by subject first costs SQLite less than sorting the
    chunk's answers by time alone, and gives each subject's rows in the same order.)"""
    vas = ", ".join(
        f"'{item.id}'"
        for instrument in load_instruments().values()
        for item in instrument.items
        if item.type != "choice"
    )
    value = stored_value_sql(vas)
    # Plain rows of `Answer`'s fields, in order (see `_database.plain_rows`).
    columns = ", ".join(value if f == "value" else f"a.{f}" for f in Answer._fields)
    if written:
        columns += ", a.rowid"
    return (
        f"SELECT {columns} FROM answers a JOIN sessions s ON s.id = a.session_id "
        "WHERE s.subject_id IN ({ids}) ORDER BY s.subject_id, a.given_at, a.rowid"
    )


def count_subject_records(db: StudyDb, *, after: str = "", through: str | None = None) -> int:
    """How many records `iter_subject_records` yields (for progress fractions)."""
    return int(
        scalar(
            db.conn,
            "SELECT count(*) FROM subjects WHERE code > ? AND (? IS NULL OR code <= ?)",
            [after, through, through],
        )
    )


def subject_ranges(
    db: StudyDb, parts: int, shares: Sequence[float] | None = None
) -> list[tuple[str, str | None]]:
    """The subjects split by code into at most `parts` runs of (nearly) equal size; with
    `shares` (one weight a run), run k holds about ``shares[k] / sum(shares)`` of them, at least
    one: runs whose processes have other work too (the CSV export's first worker writes the
    audit trail after its subjects, its last checks the file first). `shares` of another length
    than the runs (a study of fewer subjects than `parts`) are not used.

    Each run is ``(after, through)`` for `iter_subject_records` (`through` None: to the end):
    together the runs hold every subject once, in code order, so an export can write the runs in
    parallel and join them.
    """
    total = count_subject_records(db)
    parts = max(1, min(parts, total))
    ends_at = [total * k // parts for k in range(1, parts)]
    if shares is not None and len(shares) == parts and sum(shares) > 0:
        whole, so_far, last = sum(shares), 0.0, 0
        for k in range(1, parts):
            so_far += shares[k - 1]
            # each run at least one subject: after the last end, leaving one for each run left
            last = max(last + 1, min(total - (parts - k), round(total * so_far / whole)))
            ends_at[k - 1] = last
    bounds: list[str] = []
    for end in ends_at:
        row = db.conn.execute(
            "SELECT code FROM subjects ORDER BY code LIMIT 1 OFFSET ?", [end - 1]
        ).fetchone()
        bounds.append(str(row["code"]))
    starts = ["", *bounds]
    ends: list[str | None] = [*bounds, None]
    return list(zip(starts, ends, strict=True))


def count_audit_entries(db: StudyDb) -> int:
    """How many entries the audit log holds (for the share of a run that writes the audit
    trail, `subject_ranges`)."""
    return int(scalar(db.conn, "SELECT count(*) FROM audit_log"))


def _grouped(
    db: StudyDb, sql: str, ids: list[str], make: Callable[[sqlite3.Row], _T]
) -> dict[str, list[_T]]:
    """Rows of a per-subject query (its ``subject_id`` column), by subject, in order."""
    out: dict[str, list[_T]] = {}
    query = sql.format(ids=", ".join("?" for _ in ids))
    for row in db.conn.execute(query, ids):
        out.setdefault(row["subject_id"], []).append(make(row))
    return out


def _score(r: sqlite3.Row) -> Score:
    return Score(
        id=r["id"],
        session_id=r["session_id"],
        instrument_id=r["instrument_id"],
        method=r["method"],
        values=score_values(r["id"], r["scores"]),
        scoring_version=r["scoring_version"],
        computed_at=r["computed_at"],
        superseded_at=r["superseded_at"],
        superseded_by=r["superseded_by"],
        computed_by=r["computed_by"],
        device_id=r["device_id"],
    )


def _current_scores(db: StudyDb, ids: list[str]) -> dict[str, list[CurrentScore]]:
    """The subjects' current score rows of the running scoring version, by subject."""
    out: dict[str, list[CurrentScore]] = {}
    query = _CURRENT_SCORES.format(ids=", ".join("?" for _ in ids))
    for subject_id, *rest in plain_rows(db.conn, query, [*ids, str(scoring.SCORING_VERSION)]):
        out.setdefault(subject_id, []).append(_CURRENT_SCORE(rest))
    return out


_CURRENT_SCORE = partial(tuple.__new__, CurrentScore)


def _by_subject(
    db: StudyDb,
    sql: str,
    ids: list[str],
    subject_of: dict[str, str],
    make: Callable[[Any], _T],
    session_of: Callable[[_T], str],
) -> dict[str, list[_T]]:
    """The answer rows of the subjects `ids` (`sql`, by ``{ids}``) made by `make`, by subject
    in their order (`session_of`: a row's session). Grouped by runs of one session (a
    subject's rows come together, its sessions mostly one after the other): a dictionary
    look-up per run, not per row."""
    out: dict[str, list[_T]] = {}
    query = sql.format(ids=", ".join("?" for _ in ids))
    for session, run in groupby(map(make, plain_rows(db.conn, query, ids)), session_of):
        owner = subject_of[session]
        known_rows = out.get(owner)
        if known_rows is None:
            out[owner] = list(run)
        else:
            known_rows.extend(run)
    return out


def subject_answers(db: StudyDb, subject_id: str) -> tuple[Answer, ...]:
    """Every answer row of one subject, as `iter_subject_records` gives them (`answers`)."""
    rows = plain_rows(db.conn, _answers_sql().format(ids="?"), [subject_id])
    return tuple(map(ANSWER, rows))


_MAP_BYTES = 1 << 40  # the whole file (SQLite caps it at its own limit, 2 GB by default)


def read_mapped(db: StudyDb) -> None:
    """Have `db`'s connection read the file through a memory map (``PRAGMA mmap_size``): no
    read call and copy per page. For a process whose end is no more than a failed job (an
    export's worker): a file cut short under the map stops the process with SIGBUS instead of
    an error SQLite raises. Its resident size then counts the file's pages it read (the system's
    file cache, shared, not the process's own memory). SQLCipher reads an encrypted file as
    before."""
    db.conn.execute(f"PRAGMA mmap_size = {_MAP_BYTES}")


def subject_answer_lines(db: StudyDb, subject_id: str) -> tuple[AnswerLine, ...]:
    """Every answer row of one subject as `AnswerLine`, as a record read with ``answer_lines``
    has them (after `prepare_answer_lines` on `db`)."""
    rows = plain_rows(db.conn, answer_lines_sql().format(ids="?"), [subject_id])
    return tuple(map(_ANSWER_LINE, rows))


def _session_lines(db: StudyDb, ids: list[str]) -> dict[str, list[SessionLines]]:
    """The subjects' `SessionLines`, by subject."""
    out: dict[str, list[SessionLines]] = {}
    sql = session_lines_sql(text_columns(db.conn, "answers"))
    query = sql.format(ids=", ".join("?" for _ in ids))
    for row in map(_SESSION_LINES, plain_rows(db.conn, query, ids)):
        out.setdefault(row.subject_id, []).append(row)
    return out


def _chunk(
    db: StudyDb,
    rows: list[sqlite3.Row],
    on: date,
    history: bool,
    current_scores: bool = False,
    answer_lines: bool = False,
    session_lines: bool = False,
) -> Iterator[SubjectRecord]:
    ids = [r["id"] for r in rows]
    codes = {r["id"]: r["code"] for r in rows}
    missed: dict[str, tuple[str | None, str]] = {}
    if history:
        for r in db.conn.execute(_MISSED.format(ids=", ".join("?" for _ in ids)), ids):
            missed[r["entity_id"]] = (r["actor"], r["at"])

    def visit(r: sqlite3.Row) -> VisitRow:
        by, at = missed.get(r["id"], (None, None))
        return VisitRow(
            id=r["id"],
            visit_code=r["visit_code"],
            state=cast(VisitState, r["state"]),
            actual_date=date.fromisoformat(r["actual_date"]) if r["actual_date"] else None,
            missed_reason=r["missed_reason"],
            updated_at=r["updated_at"],
            missed_by=by,
            missed_at=at,
        )

    known = set(db.study.visit_codes)

    def session(r: sqlite3.Row) -> Session:
        code = r["visit_code"]
        return Session(
            id=r["id"],
            subject_id=r["subject_id"],
            subject_code=codes[r["subject_id"]],
            visit_id=r["visit_id"],
            visit_code=code,
            instruments=db.study.visit(code).instruments if code in known else (),
            state=cast(SessionState, r["state"]),
            position=r["position"],
            language=r["language"],
            device_id=r["device_id"],
            started_at=r["started_at"],
            started_by=r["started_by"],
            parked_at=r["parked_at"],
            parked_by=r["parked_by"],
            resumed_at=r["resumed_at"],
            resumed_by=r["resumed_by"],
            submitted_at=r["submitted_at"],
            submitted_by=r["submitted_by"],
            chosen_by_review=bool(r["chosen_by_review"]),
        )

    visits = _grouped(db, _VISITS, ids, visit)
    sessions = _grouped(db, _SESSIONS, ids, session)
    subject_of = {x.id: subject for subject, rows in sessions.items() for x in rows}
    answers: dict[str, list[Answer]] = {}
    lines: dict[str, list[AnswerLine]] = {}
    by_session: dict[str, list[SessionLines]] = {}
    written: dict[str, int] = {}
    if session_lines:
        by_session = _session_lines(db, ids)
        # the answers vouched for as they were read (`SessionLines.suspects`), else looked at
        vouched = not any(row.suspects for rows in by_session.values() for row in rows)
        _STORED_VALUES.check_subjects(db.conn, ids, answers=not vouched)
    else:
        _STORED_VALUES.check_subjects(db.conn, ids)
        if answer_lines:
            sql = answer_lines_sql()
            lines = _by_subject(db, sql, ids, subject_of, _ANSWER_LINE, _LINE_SESSION_ID)
        else:

            def answer(row: tuple[Any, ...]) -> Answer:
                written[row[0]] = row[-1]
                return ANSWER(row[:-1])

            sql = _answers_sql(written=True)
            answers = _by_subject(db, sql, ids, subject_of, answer, _SESSION_ID)
    scores: dict[str, list[Score]] = {}
    choices: dict[str, list[VisitChoice]] = {}
    if history:
        scores = _grouped(db, _SCORES, ids, _score)
        choices = _grouped(
            db,
            _CHOICES,
            ids,
            lambda r: VisitChoice(
                r["visit_code"], r["session_id"], r["chosen_at"], r["chosen_by"], r["reason"]
            ),
        )
    withdrawals = _withdrawals(db, ids)
    current = _current_scores(db, ids) if current_scores else {}
    for row in rows:
        subject = row_to_subject(row)
        mine = visits.get(subject.id, [])
        states = {v.visit_code: v.state for v in mine if v.visit_code in known}
        dates = {
            v.visit_code: v.actual_date for v in mine if v.actual_date and v.visit_code in known
        }
        planned = schedule.subject_schedule(db.study, subject.day0, on, states, dates)
        yield SubjectRecord(
            subject,
            row["device_id"],
            tuple(planned),
            tuple(mine),
            tuple(sessions.get(subject.id, ())),
            tuple(answers.get(subject.id, ())),
            tuple(scores.get(subject.id, ())),
            tuple(choices.get(subject.id, ())),
            withdrawals.get(subject.id),
            tuple(current.get(subject.id, ())),
            tuple(lines.get(subject.id, ())),
            tuple(by_session.get(subject.id, ())),
            written,
        )


def _withdrawals(db: StudyDb, ids: list[str]) -> dict[str, Withdrawal]:
    """The subjects' withdrawals (the first one of a subject; none in an older file)."""
    found = db.conn.execute(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='withdrawals'"
    ).fetchone()
    if found is None:
        return {}
    out: dict[str, Withdrawal] = {}
    for r in db.conn.execute(_WITHDRAWALS.format(ids=", ".join("?" for _ in ids)), ids):
        out.setdefault(
            r["subject_id"],
            Withdrawal(
                subject_code=r["code"],
                withdrawn_on=date.fromisoformat(r["withdrawn_on"]),
                reason=r["reason"],
                recorded_at=r["recorded_at"],
                recorded_by=r["recorded_by"],
            ),
        )
    return out


def iter_subject_records(
    db: StudyDb,
    *,
    on: date | None = None,
    history: bool = True,
    after: str = "",
    through: str | None = None,
    current_scores: bool = False,
    answer_lines: bool = False,
    session_lines: bool = False,
) -> Iterator[SubjectRecord]:
    """Every subject in code order with all its rows (see `SubjectRecord`); statuses as of `on`.

    Without `history`, the stored score rows and who marked a visit missed (the audit trail of
    an ODM --history file) are not read: `scores` is empty and `missed_by` / `missed_at` None.
    `after` / `through` limit the walk to the codes above `after` up to `through` included (see
    `subject_ranges`). With `current_scores`, each record also has its current score rows of
    the running scoring version as stored (`CurrentScore`). With `answer_lines` (after
    `prepare_answer_lines` on `db`), each record has its answers as `AnswerLine` rows instead:
    `answers` is empty and `answer_lines` has them, in the same order. With `session_lines`
    (after `prepare_answer_lines`), `answers` is empty and `session_lines` has a row per
    session with answers instead (`SessionLines`; `subject_answer_lines` reads one subject's
    rows when they are needed). Subjects are read
    `_CHUNK` at a time, so memory holds at most one chunk's rows. For one consistent view of a
    database others write to, iterate in a `read_snapshot`.
    """
    on = on or schedule.today()
    last = after
    while True:
        rows = db.conn.execute(_SUBJECTS, [last, through, through, _CHUNK]).fetchall()
        if not rows:
            return
        yield from _chunk(db, rows, on, history, current_scores, answer_lines, session_lines)
        last = rows[-1]["code"]


def list_devices(db: StudyDb) -> list[DeviceRow]:
    """Every device known to the database, in registration order."""
    return [
        DeviceRow(
            id=r["id"],
            label=r["label"],
            site_code=r["site_code"],
            registered_at=r["registered_at"],
        )
        for r in db.conn.execute(
            "SELECT id, label, site_code, registered_at FROM devices ORDER BY registered_at, id"
        )
    ]


def list_site_rows(db: StudyDb) -> list[SiteRow]:
    """Every site known to the database, by code; `first_data_at` the first registration of one
    of its subjects (None without subjects)."""
    first = {
        str(r["site_code"]): str(r["at"])
        for r in db.conn.execute(
            "SELECT site_code, min(created_at) AS at FROM subjects GROUP BY site_code"
        )
    }
    return [
        SiteRow(code=r["code"], created_at=r["created_at"], first_data_at=first.get(r["code"]))
        for r in db.conn.execute("SELECT code, created_at FROM sites ORDER BY code")
    ]


def referenced_staff_ids(db: StudyDb) -> set[str]:
    """Every staff id a stored row or audit entry names (an export must define each of them)."""
    queries = (
        "SELECT DISTINCT given_by AS id FROM answers",
        "SELECT DISTINCT computed_by AS id FROM scores",
        "SELECT DISTINCT created_by AS id FROM subjects",
        "SELECT DISTINCT started_by AS id FROM sessions",
        "SELECT DISTINCT submitted_by AS id FROM sessions",
        "SELECT DISTINCT actor AS id FROM audit_log WHERE action='visit.missed'",
        "SELECT id FROM staff",
    )
    out: set[str] = set()
    for sql in queries:
        out.update(str(r["id"]) for r in db.conn.execute(sql) if r["id"] is not None)
    return out


def referenced_device_ids(db: StudyDb) -> set[str]:
    """Every device id a stored row names (answers, scores, sessions, subjects, devices)."""
    queries = (
        "SELECT DISTINCT device_id AS id FROM answers",
        "SELECT DISTINCT device_id AS id FROM scores",
        "SELECT DISTINCT device_id AS id FROM sessions",
        "SELECT DISTINCT device_id AS id FROM subjects",
        "SELECT id FROM devices",
    )
    out: set[str] = set()
    for sql in queries:
        out.update(str(r["id"]) for r in db.conn.execute(sql) if r["id"] is not None)
    return out


class AuditRow(NamedTuple):
    """One audit entry as the audit-trail export lists it.

    `payload` is the entry's JSON text without its row images (``rows_after``: the evidence
    `verify` replays, kept in the database, not readable detail); `reason` the payload's reason.
    A named tuple built straight from the query's plain rows (an audit trail is hundreds of
    thousands of entries).
    """

    device_id: str
    seq: int
    at: str
    actor: str | None
    action: str
    entity: str
    entity_id: str | None
    subject_code: str | None
    payload: str
    reason: str | float | None = None  # text, or a JSON number as SQLite reads it


_AUDIT_ROW = partial(tuple.__new__, AuditRow)

# Every audit entry in the order of `iter_audit_rows`, as `AuditRow`'s fields. The subject's
# code comes from a join (through the subject map of the bundle imports, see `_audit_lines`); the
# payload is parsed by the JSON functions, whose parse SQLite caches within the row.
_AUDIT_FIELDS = (
    f"{AUDIT_WITH}SELECT a.device_id, a.seq, a.at, a.actor, a.action, a.entity, a.entity_id, "
    f"{SUBJECT_CODE}, "
    "CASE WHEN json_valid(a.payload) THEN json_remove(a.payload, '$.rows_after') "
    "ELSE a.payload END, "
    "CASE WHEN json_valid(a.payload) AND json_type(a.payload) = 'object' "
    "THEN json_extract(a.payload, '$.reason') END "
    "FROM audit_log a "
)
_AUDIT_SQL = f"{_AUDIT_FIELDS}{AUDIT_ORDER}"


def _subject_map(db: StudyDb) -> str:
    """The JSON object of the kiosk subject ids the bundle imports matched to hub ones."""
    aliases: dict[str, str] = {}
    for row in db.conn.execute(
        "SELECT id, payload FROM audit_log WHERE action='bundle.imported' "
        "AND payload LIKE '%\"subject_map\"%'"
    ):
        aliases.update(subject_map(row["id"], row["payload"]))
    return json.dumps(aliases)


def iter_audit_rows(db: StudyDb) -> Iterator[AuditRow]:
    """Every audit entry, by time then device and sequence, read as it is consumed.

    `subject_code` is the code of the entry's subject, also for an entry a bundle import kept
    with the subject id of another kiosk (matched by code at the merge): None for entries about
    no subject, or whose subject is not in the file. `reason` is the payload's ``reason`` as
    stored (text, or a JSON number as SQLite reads it).
    """
    return map(_AUDIT_ROW, plain_rows(db.conn, _AUDIT_SQL, [_subject_map(db)]))


class AuditLines:
    """Every audit entry's audit_trail.csv line as SQLite makes it (`storage._audit_lines`):
    iterated, (rowid, head, tail) in the order of `iter_audit_rows`; `rows` reads entries by
    rowid as `iter_audit_rows` gives them (for the lines the export does not take)."""

    def __init__(self, db: StudyDb) -> None:
        self.db = db
        self.subject_map = _subject_map(db)

    def __iter__(self) -> Iterator[tuple[int, str, str | None]]:
        return iter(plain_rows(self.db.conn, audit_lines_sql(), [self.subject_map]))

    def rows(self, rowids: Sequence[int]) -> dict[int, AuditRow]:
        """The entries of `rowids`, by rowid."""
        marks = ", ".join("?" for _ in rowids)
        fields = _AUDIT_FIELDS.replace(") SELECT a.device_id", ") SELECT a.rowid, a.device_id", 1)
        sql = f"{fields}WHERE a.rowid IN ({marks})"
        return {
            rowid: _AUDIT_ROW(rest)
            for rowid, *rest in plain_rows(self.db.conn, sql, [self.subject_map, *rowids])
        }
