"""Answer rows: reading current answers and history, and the canonical digest the audit log keeps.

Answers are append-only. A new answer for an item (the patient went back, or a staff correction
after submission) is a new row whose ``supersedes`` names the row it replaces; the current answer
of an item is the row no other row supersedes. Choice answers are returned as int codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, cast

from respine_desktop.instruments import Instrument, Item, load_instruments
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._records import Answer, AnswerStatus, AnswerValue
from respine_desktop.storage.errors import UnknownSession

COLUMNS = (
    "id, session_id, instrument_id, instrument_version, instrument_checksum, item_id, value, "
    "status, language, app_version, device_id, given_at, given_by, supersedes, reason, vas_line_mm"
)
INSERT = f"INSERT INTO answers ({COLUMNS}) VALUES ({', '.join('?' for _ in COLUMNS.split(','))})"


@cache
def item_index() -> Mapping[str, tuple[Instrument, Item]]:
    """Every item of every shipped instrument by item id (ids are unique across instruments)."""
    return {item.id: (inst, item) for inst in load_instruments().values() for item in inst.items}


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical(row: Iterable[Any]) -> str:
    """The canonical text of one answer row (its columns in `COLUMNS` order, compact JSON)."""
    return _ENCODER.encode(list(row))


def digest(rows: Iterable[Iterable[Any]]) -> str:
    """SHA-256 (hex) of the canonical text of answer rows: a compact JSON array of the rows,
    each an array of its columns in `COLUMNS` order, in the given order."""
    return hashlib.sha256(_ENCODER.encode([list(r) for r in rows]).encode("utf-8")).hexdigest()


@cache
def choice_items() -> frozenset[str]:
    """Ids of the items whose answers are integer codes."""
    return frozenset(i for i, (_, item) in item_index().items() if item.type == "choice")


def row_to_answer(row: tuple[Any, ...]) -> Answer:
    """An `Answer` from a row in `COLUMNS` order (choice codes back to int)."""
    value = row[6]
    if value is not None and row[5] in choice_items():
        value = int(value)
    # Positional: this runs for every answer returned, millions of times in the demo.
    return Answer(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        cast(AnswerValue | None, value),
        cast(AnswerStatus, row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
        row[14],
        row[15],
    )


_SESSION_ROWS = f"SELECT {COLUMNS}, rowid FROM answers WHERE session_id=?"


def _check_session(db: StudyDb, session_id: str) -> None:
    if not db.conn.execute("SELECT 1 FROM sessions WHERE id=?", [session_id]).fetchone():
        raise UnknownSession(f"unknown session {session_id!r}")


def current_rows(db: StudyDb, session_id: str, item_id: str | None = None) -> list[tuple[Any, ...]]:
    """The raw current rows (`COLUMNS` order) of a session or of one item, oldest first.

    A row is current when no row of the session supersedes it. The rows of one session are few
    (about 50), so they are read through the (session, item) index and filtered here, which is
    several times faster than a correlated NOT EXISTS per row.
    """
    if item_id is None:
        rows = db.conn.execute(_SESSION_ROWS, [session_id]).fetchall()
    else:
        rows = db.conn.execute(_SESSION_ROWS + " AND item_id=?", [session_id, item_id]).fetchall()
    superseded = {r[13] for r in rows if r[13] is not None}
    current = [r for r in rows if r[0] not in superseded]
    current.sort(key=lambda r: (r[11], r[16]))
    return [r[:16] for r in current]


def current_answers(db: StudyDb, session_id: str) -> dict[str, Answer]:
    """The current answer of every answered or skipped item of a session, by item id."""
    _check_session(db, session_id)
    out: dict[str, Answer] = {}
    for row in current_rows(db, session_id):
        out[row[5]] = row_to_answer(row)  # a later row wins if two devices forked an item
    return out


def answer_history(db: StudyDb, session_id: str, item_id: str | None = None) -> list[Answer]:
    """Every answer row of a session (or of one item), superseded ones included, oldest first."""
    _check_session(db, session_id)
    sql = f"SELECT {COLUMNS} FROM answers WHERE session_id=?"
    params: list[Any] = [session_id]
    if item_id is not None:
        sql += " AND item_id=?"
        params.append(item_id)
    return [row_to_answer(r) for r in db.conn.execute(sql + " ORDER BY given_at, rowid", params)]


def get_answer(db: StudyDb, answer_id: str) -> Answer | None:
    """One answer row by id, or None."""
    row = db.conn.execute(f"SELECT {COLUMNS} FROM answers WHERE id=?", [answer_id]).fetchone()
    return row_to_answer(row) if row else None
