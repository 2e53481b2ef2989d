"""Which row an answer's ``supersedes`` may name: an answer of its session and its item.

A new answer of an item (the patient went back, a staff correction) names the row it replaces;
the current answer of an item is the row no row *of its session* supersedes (`_answers`). So a
link is right only when it names an answer of the same session and the same (instrument, item),
and when following the links from any row ends at a first answer (a row superseding nothing):

- a link to another session's answer (another patient's, another visit's) would be ignored by
  every reader of a session, yet counted as a correction by readers of the whole table;
- a link to another item's answer would make that item lose its current answer (its scores and
  exports computed without it, or from a row of another item);
- a row superseding itself, or a cycle of rows superseding each other, leaves the item with no
  current answer though it has rows.

The merge refuses a bundle whose new row breaks one of these (`_merge_scores`) and `verify`
names such a row (`_verify`, check 6). Two rows superseding the same one (a *fork*: two devices
holding the session both replaced the answer) are legitimate: the later written counts
(``rowid``, never the clock, as every reader takes it); the merge flags a fork it makes.

"Earlier" is asked as "no cycle", not by written order: an older version's relay bundle cut
with ``--since`` listed answers device chain by device chain, so a hub's correction of a
kiosk's answer may be written before the answer it supersedes on the database receiving it
(a bundle now lists them in the written order of the database that cut it, `bundle_rows`, so
that the receiving hub takes the same last written row of a fork).

Rows here are plain tuples whose first five fields are (session_id, id, supersedes,
instrument_id, item_id), the order `_merge_scores` and `_verify` read them in.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from respine_desktop.storage._database import plain_rows
from respine_desktop.storage._driver import sqlite3

__all__ = ["FirstFork", "Fork", "bad_link", "first_forks", "forks"]

Row = Sequence[Any]


def bad_link(rows: Mapping[str, Row], linking: Collection[Row]) -> tuple[Row, str] | None:
    """The first row of `linking` (rows that supersede one, in their order) whose link is wrong,
    with the problem in words, or None. `rows`: every row the links may name (at least those of
    the sessions of `linking`), by id."""
    sound: set[str] = set()  # rows whose links were followed to a first answer
    for row in linking:
        problem = _problem(rows, row)
        if problem is not None:
            return row, problem
        walked: list[str] = []
        current = row
        while current[1] not in sound:
            if current[1] in walked:
                return row, _cycle(row, current[1])
            walked.append(current[1])
            target = rows.get(current[2]) if current[2] is not None else None
            if target is None or (current is not row and _problem(rows, current) is not None):
                break  # a first answer; or a wrong link further on, named at its own row
            current = target
        sound.update(walked)
    return None


def _problem(rows: Mapping[str, Row], row: Row) -> str | None:
    target_id = row[2]
    target = rows.get(target_id)
    if target is None or target[0] != row[0]:
        return f"supersedes answer {target_id}, which is not an answer of its session {row[0]}"
    if (target[3], target[4]) != (row[3], row[4]):
        return (
            f"supersedes answer {target_id}, an answer of {target[3]} {target[4]}, not of "
            f"{row[3]} {row[4]}"
        )
    return None


def _cycle(row: Row, again: str) -> str:
    if row[2] == row[1]:
        return "supersedes itself (its item would have no current answer)"
    if again == row[1]:
        return (
            f"supersedes answer {row[2]}, whose own links lead back to it (a cycle: its item "
            "would have no current answer)"
        )
    return f"supersedes answer {row[2]}, whose links run in a cycle (they reach no first answer)"


class Fork(NamedTuple):
    """An answer two or more rows supersede (`ids`, in written order: the last counts)."""

    answer_id: str
    session_id: str
    subject_id: str
    visit_code: str
    item_id: str
    ids: tuple[str, ...]


_FORKS = (
    "SELECT a.supersedes, a.session_id, s.subject_id, s.visit_code, a.item_id, a.id "
    "FROM answers a JOIN sessions s ON s.id = a.session_id "
    "WHERE a.supersedes IS NOT NULL AND a.supersedes IN (SELECT value FROM json_each(?)) "
    "ORDER BY a.supersedes, a.rowid"
)


def forks(conn: sqlite3.Connection, answer_ids: Iterable[str]) -> list[Fork]:
    """The answers of `answer_ids` that more than one row supersedes, each with its rows in
    written order (one query through the index of ``answers.supersedes``)."""
    return [Fork._make(f) for f in _groups(conn, _FORKS, answer_ids)]


def _groups(conn: sqlite3.Connection, sql: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
    """The groups of more than one row of `sql` (its one parameter: `keys`, a JSON array;
    rows of 6 fields ordered by the first 5, the group's key, then written order), each as the
    key's 5 fields and the rows' last fields (ids) in a tuple."""
    found: list[tuple[Any, ...]] = []
    rows = plain_rows(conn, sql, [json.dumps(sorted(set(keys)))])
    for key, group in itertools.groupby(rows, key=itemgetter(0, 1, 2, 3, 4)):
        ids = tuple(r[5] for r in group)
        if len(ids) > 1:
            found.append((*key, ids))
    return found


class FirstFork(NamedTuple):
    """An item of a session answered first (superseding nothing) by two or more rows (`ids`,
    in written order: the last counts)."""

    session_id: str
    subject_id: str
    visit_code: str
    instrument_id: str
    item_id: str
    ids: tuple[str, ...]


_FIRST_FORKS = (
    "SELECT a.session_id, s.subject_id, s.visit_code, a.instrument_id, a.item_id, a.id "
    "FROM answers a JOIN sessions s ON s.id = a.session_id "
    "WHERE a.session_id IN (SELECT value FROM json_each(?)) AND a.supersedes IS NULL "
    "ORDER BY a.session_id, a.instrument_id, a.item_id, a.rowid"
)


def first_forks(conn: sqlite3.Connection, session_ids: Iterable[str]) -> list[FirstFork]:
    """The items of `session_ids` that more than one first answer has, each with its rows in
    written order (one query through the index of the answers' sessions)."""
    return [FirstFork._make(f) for f in _groups(conn, _FIRST_FORKS, session_ids)]
