"""Scores stored per session × instrument × method, computed through `respine_desktop.scoring`.

Both SF-36 methods are stored (``standard``: SF-36 v1 with PCS/MCS; ``rand``: RAND-36); the VAS
and the ODI have one method, ``default``. Each row carries the scoring version. A recomputation
(after a correction) keeps the old row, stamped ``superseded_at`` / ``superseded_by``.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping

from respine_desktop import clock, json_text, scoring
from respine_desktop.storage._answers import choice_items
from respine_desktop.storage._chosen_session import chosen_sql
from respine_desktop.storage._database import StudyDb, new_id
from respine_desktop.storage._errors import UnknownSession
from respine_desktop.storage._records import Score
from respine_desktop.storage.stored_values import score_values

_COLUMNS = (
    "id, session_id, instrument_id, method, scores, scoring_version, computed_at, "
    "superseded_at, superseded_by, computed_by, device_id"
)


def scoring_version() -> str:
    return str(scoring.SCORING_VERSION)


def scoring_input(
    answers: Iterable[tuple[str, str, float | None]],
) -> dict[str, dict[str, int | float | None]]:
    """Current answers as (instrument id, item id, stored value), oldest first, per instrument
    as the scorers take them: ``{instrument_id: {item_id: value}}``, choice codes as int,
    skipped = None (a later answer of an item wins)."""
    out: dict[str, dict[str, int | float | None]] = {}
    choices = choice_items()
    for instrument_id, item_id, value in answers:
        out.setdefault(instrument_id, {})[item_id] = (
            int(value) if value is not None and item_id in choices else value
        )
    return out


def compute(
    instrument_id: str, answers: Mapping[str, int | float | None], *, min_sections: int
) -> dict[str, dict[str, float | None]]:
    """Scores of one instrument by each of its methods: ``{method: {key: value}}``."""
    return {
        method: dict(values)
        for method, values in scoring.score_methods(
            instrument_id, answers, min_sections=min_sections
        ).items()
    }


def dumps(values: Mapping[str, float | None]) -> str:
    clean = {
        k: (None if v is None or not math.isfinite(v) else float(v)) for k, v in values.items()
    }
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def holds(text: object, expected: Mapping[str, float | None]) -> bool:
    """Whether a stored score row's text (`text`, as stored) holds the values `expected`: the
    text `dumps` writes, or the same values written otherwise (an import). A text that is not
    JSON (edited in the file: a word, a nesting too deep to parse) or not a text holds none."""
    written = dumps(expected)
    if text == written:
        return True
    if not isinstance(text, str):
        return False
    try:
        return bool(json_text.loads(text) == json_text.loads(written))
    except ValueError:
        return False


def store(
    db: StudyDb,
    session_id: str,
    instrument_id: str,
    computed: Mapping[str, Mapping[str, float | None]],
    *,
    computed_by: str | None = None,
) -> list[str]:
    """Insert score rows and supersede the previous current rows of that instrument.

    Runs inside the caller's transaction. Returns the new row ids.
    """
    now = clock.now_iso()
    version = scoring_version()
    ids = []
    current: dict[str, list[str]] = {}
    for row in db.conn.execute(
        "SELECT id, method FROM scores WHERE session_id=? AND instrument_id=? "
        "AND superseded_at IS NULL",
        [session_id, instrument_id],
    ):
        current.setdefault(row["method"], []).append(row["id"])
    for method, values in computed.items():
        score_id = new_id()
        old = current.get(method, [])
        db.conn.execute(
            f"INSERT INTO scores ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            [
                score_id,
                session_id,
                instrument_id,
                method,
                dumps(values),
                version,
                now,
                computed_by,
                db.device_id,
            ],
        )
        for old_id in old:
            db.conn.execute(
                "UPDATE scores SET superseded_at=?, superseded_by=? WHERE id=?",
                [now, score_id, old_id],
            )
        ids.append(score_id)
    return ids


def _score(row: sqlite3.Row) -> Score:
    return Score(
        id=row["id"],
        session_id=row["session_id"],
        instrument_id=row["instrument_id"],
        method=row["method"],
        values=score_values(row["id"], row["scores"]),
        scoring_version=row["scoring_version"],
        computed_at=row["computed_at"],
        superseded_at=row["superseded_at"],
        superseded_by=row["superseded_by"],
        computed_by=row["computed_by"],
        device_id=row["device_id"],
    )


def session_scores(
    db: StudyDb, session_id: str, *, include_superseded: bool = False
) -> list[Score]:
    """The scores of a session (current ones unless `include_superseded`), oldest first."""
    if not db.conn.execute("SELECT 1 FROM sessions WHERE id=?", [session_id]).fetchone():
        raise UnknownSession(f"unknown session {session_id!r}")
    sql = f"SELECT {_COLUMNS} FROM scores WHERE session_id=?"
    if not include_superseded:
        sql += " AND superseded_at IS NULL"
    return [_score(r) for r in db.conn.execute(sql + " ORDER BY rowid", [session_id])]


def subject_scores(db: StudyDb, subject_code: str) -> dict[str, list[Score]]:
    """The current scores of a subject's submitted sessions, by visit code in schedule order.

    One session per visit: its chosen session (`chosen_session`), when two kiosks did it.
    """
    from respine_desktop.storage._subjects import get_subject

    subject = get_subject(db, subject_code)
    rows = db.conn.execute(
        f"SELECT s.visit_code, {', '.join('c.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM scores c JOIN sessions s ON s.id = c.session_id "
        "WHERE s.subject_id=? AND c.superseded_at IS NULL "
        f"AND s.id = {chosen_sql('s.visit_id')} ORDER BY c.rowid",
        [subject.id],
    ).fetchall()
    out: dict[str, list[Score]] = {code: [] for code in db.study.visit_codes}
    for row in rows:
        out.setdefault(row["visit_code"], []).append(_score(row))
    return {code: scores for code, scores in out.items() if scores}
