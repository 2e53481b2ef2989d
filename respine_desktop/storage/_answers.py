"""Answer rows: reading current answers and history, and the canonical digest the audit log keeps.

Answers are append-only. A new answer for an item (the patient went back, or a staff correction
after submission) is a new row whose ``supersedes`` names the row it replaces; the current answer
of an item is the row no other row supersedes. Choice answers are returned as int codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, partial
from typing import Any

from respine_desktop.instruments import Instrument, Item, load_instruments
from respine_desktop.storage._database import StudyDb, plain_rows, select_list
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import UnknownSession
from respine_desktop.storage._records import Answer

COLUMNS = select_list(Answer._fields)
"""The ``answers`` columns, in the order of `Answer`'s fields (and of the table)."""
INSERT = f"INSERT INTO answers ({COLUMNS}) VALUES ({', '.join('?' for _ in Answer._fields)})"
ANSWER = partial(tuple.__new__, Answer)
"""An `Answer` from a plain row of `COLUMNS` (built in C: bulk reads)."""
LEGACY_COLUMNS = COLUMNS.replace("vas_calibration", "NULL AS vas_calibration")
"""`COLUMNS` for a file from before ``0005_vas_calibrations`` (read without upgrading it)."""


def select_rows(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Answer]:
    """The answer rows matching `where` as stored, also in a file whose schema predates
    ``0005_vas_calibrations`` (`verify` reads a file as it is): its rows read a NULL
    ``vas_calibration``, the value that leaves their canonical text unchanged."""
    return list(map(ANSWER, _select(conn, "", where, params)))


def select_rows_and_rowids(
    conn: sqlite3.Connection, where: str, params: Sequence[Any]
) -> list[tuple[int, Answer]]:
    """`select_rows`, each row with its rowid."""
    return [(r[0], ANSWER(r[1:])) for r in _select(conn, "rowid, ", where, params)]


def _select(
    conn: sqlite3.Connection, first: str, where: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    try:
        sql = f"SELECT {first}{COLUMNS} FROM answers {where}"
        return plain_rows(conn, sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "vas_calibration" not in str(exc):
            raise
        sql = f"SELECT {first}{LEGACY_COLUMNS} FROM answers {where}"
        return plain_rows(conn, sql, params).fetchall()


@cache
def item_index() -> Mapping[str, tuple[Instrument, Item]]:
    """Every item of every shipped instrument by item id (ids are unique across instruments)."""
    return {item.id: (inst, item) for inst in load_instruments().values() for item in inst.items}


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


_WIDTH = len(Answer._fields)


def _canonical_values(row: Iterable[Any]) -> list[Any]:
    """A row's values as the canonical text lists them: every column in `COLUMNS` order, except
    a NULL ``vas_calibration`` (the last column, added by ``0005_vas_calibrations``), which is
    left out so that every row written before it (and every non-VAS row) keeps its digest."""
    values = list(row)
    if len(values) == _WIDTH and values[-1] is None:
        values.pop()
    return values


def canonical(row: Iterable[Any]) -> str:
    """The canonical text of one answer row (its columns in `COLUMNS` order, compact JSON).

    The audit log keeps digests of this text: it lists the values in the table's order, a
    stored format that no name can replace (a NULL ``vas_calibration`` is left out)."""
    return _ENCODER.encode(_canonical_values(row))


def digest(rows: Iterable[Iterable[Any]]) -> str:
    """SHA-256 (hex) of the canonical text of answer rows: a compact JSON array of the rows,
    each an array of its columns in `COLUMNS` order (a NULL ``vas_calibration`` left out), in
    the given order."""
    text = _ENCODER.encode([_canonical_values(r) for r in rows])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def choice_items() -> frozenset[str]:
    """Ids of the items whose answers are integer codes."""
    return frozenset(i for i, (_, item) in item_index().items() if item.type == "choice")


def row_to_answer(row: Answer) -> Answer:
    """An answer as the API returns it, from the row as stored (choice codes back to int). A
    value no way in stores (2.7, a text: an edit behind the program's back) is returned as it
    is, never as another code (`stored_values` names it)."""
    value = row.value
    if isinstance(value, float) and value.is_integer() and row.item_id in choice_items():
        return row._replace(value=int(value))
    return row


def _stored(db: StudyDb, where: str, params: Sequence[Any]) -> list[Answer]:
    """The stored answer rows matching `where` in the order they were written (``rowid``: the
    audit order; a clock set back does not reorder a history)."""
    sql = f"SELECT {COLUMNS} FROM answers WHERE {where} ORDER BY rowid"
    return list(map(ANSWER, plain_rows(db.conn, sql, params)))


def _check_session(db: StudyDb, session_id: str) -> None:
    if not db.conn.execute("SELECT 1 FROM sessions WHERE id=?", [session_id]).fetchone():
        raise UnknownSession(f"unknown session {session_id!r}")


def current_rows(db: StudyDb, session_id: str, item_id: str | None = None) -> list[Answer]:
    """The current rows, as stored, of a session or of one item, oldest first.

    A row is current when no row of the session supersedes it. The rows of one session are few
    (about 50), so they are read through the (session, item) index and filtered here, which is
    several times faster than a correlated NOT EXISTS per row.
    """
    if item_id is None:
        rows = _stored(db, "session_id=?", [session_id])
    else:
        rows = _stored(db, "session_id=? AND item_id=?", [session_id, item_id])
    superseded = {r.supersedes for r in rows if r.supersedes is not None}
    return [r for r in rows if r.id not in superseded]


def current_answers(db: StudyDb, session_id: str) -> dict[str, Answer]:
    """The current answer of every answered or skipped item of a session, by item id."""
    _check_session(db, session_id)
    out: dict[str, Answer] = {}
    for row in current_rows(db, session_id):
        out[row.item_id] = row_to_answer(row)  # a later row wins if two devices forked an item
    return out


def answer_history(db: StudyDb, session_id: str, item_id: str | None = None) -> list[Answer]:
    """Every answer row of a session (or of one item), superseded ones included, oldest first."""
    _check_session(db, session_id)
    if item_id is None:
        rows = _stored(db, "session_id=?", [session_id])
    else:
        rows = _stored(db, "session_id=? AND item_id=?", [session_id, item_id])
    return [row_to_answer(r) for r in rows]


def get_answer(db: StudyDb, answer_id: str) -> Answer | None:
    """One answer row by id, or None."""
    rows = _stored(db, "id=?", [answer_id])
    return row_to_answer(rows[0]) if rows else None
