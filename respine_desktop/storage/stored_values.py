"""A stored answer's value checked as an export reads it, against its item's rule.

Every way in validates an answer (`instruments.Item.validate`: the kiosk, the console, the
command line, a bundle), so a stored value that breaks its item's rule can only come from an edit
behind the program's back: a text or bytes where a number is stored, a code that is not a whole
number or not one of the item's options, a VAS off its range or finer than its step, an item no
instrument has; bytes in any column that holds a text (a blob, which SQLite's TEXT affinity keeps
as it is). An export that met one would write it as something else: SQLite's ``CAST`` makes
the text ``x`` code 0 and 2.7 code 2, Python's formatting ends in a traceback, and the CSV reads
a session's stored scores rather than scoring it again (docs/exports.md), so the value might not
even be looked at. `StoredValues.check` raises `TamperedValue` instead, in one line naming the
answer, its session and the rule broken, pointing to `verify` (which names the row) and to the
last backup.

A skipped answer (no value) passes: the table's own constraint ties a NULL value to the
``skipped`` status. Each distinct (item, type, value) is checked once: the answers of a
10,000-subject study (1.75 million) hold a few thousand of them.

Public API
----------

- `StoredValues`: `check(answer_id, session_id, item_id, value, instrument_id=None)` for the
  answers of an export,
  `check_subjects(conn, subject_ids)` for every answer of some subjects (and bytes in their
  subjects, visits and sessions rows, `check_texts`), `first_broken(conn)`
  for `verify`, `problem(item_id, value)`
- `first_bytes(conn, table, subject_ids=None)`: the first row holding bytes in a TEXT column
- `check_texts(conn, tables, subject_ids)`: `TamperedValue` for such a row of these subjects
- `suspect_sql(text_columns, instrument, code)`: the same vouching as an expression, for a query
  that reads the answers anyway (the CSV export's rows per session): one pass, not two
- `text_columns(conn, table)`: the columns declared TEXT, where `suspect_sql` looks for bytes
- `TamperedValue`: the one-line refusal of a value no way in stores
- `score_number(key, value)`: whether a stored score's value is one the scorers write
- `score_numbers(values)`: whether every value of a score row's object is, fast
- `BOUNDED_SCORES`: the scores bounded to 0..100 (VAS, ODI)
- `score_values(score_id, text)`: a stored score row's values, parsed; `TamperedValue` naming
  the row when the file holds what no way in writes
- `stored_payload(entry_id, text)`: an audit entry's payload, likewise
- `subject_map(entry_id, text)`: an import's subject map, likewise
- `payloads_read(conn)`: a block whose SQL reads the audit payloads: SQLite's ``malformed JSON``
  as `TamperedValue` naming the entry
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cache, partial
from operator import is_not
from typing import Any

from respine_desktop import json_text
from respine_desktop.storage._answers import item_index
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import StorageError

__all__ = [
    "BOUNDED_SCORES",
    "StoredValues",
    "TamperedValue",
    "check_texts",
    "first_bytes",
    "payloads_read",
    "score_number",
    "score_numbers",
    "score_values",
    "stored_payload",
    "subject_map",
    "suspect_sql",
    "text_columns",
]


class TamperedValue(StorageError):
    """A stored answer's value breaks its item's rule: the database was changed outside the
    program."""


_OUTSIDE = (
    "so the database was changed outside this program: run `verify` to name the rows and "
    "restore the last backup"
)


# The scores bounded to 0..100 (`scoring.endpoints` refuses others: a ValueError, a traceback).
BOUNDED_SCORES = frozenset({"VAS", "ODI"})


def score_number(key: object, value: object) -> bool:
    """Whether `value` is a value a scorer writes under `key` in a score row: null, or a finite
    number a double holds (JSON's ``NaN``, ``Infinity`` and an integer of hundreds of digits are
    not: `dumps` writes null for a value that is not finite), in 0..100 for VAS and ODI."""
    if value is None:
        return True
    if type(value) is int:
        if not -sys.float_info.max <= value <= sys.float_info.max:  # (exact: no conversion)
            return False
    elif type(value) is not float or not math.isfinite(value):
        return False
    return key not in BOUNDED_SCORES or 0 <= value <= 100


# JSON's values are dict, list, str, int, float, bool or None: numbers and nulls are these
# types exactly (a bool is not an int here)
_NUMBER_TYPES = frozenset({int, float, type(None)})
_IS_NUMBER = partial(is_not, None)
_BOUNDED = tuple(sorted(BOUNDED_SCORES))


def score_numbers(values: Mapping[str, Any]) -> bool:
    """Whether every value of a score row's object `values` is `score_number`'s, in a few C
    calls for a row the scorers wrote (the CSV export reads 150,000 at 10,000 subjects): the
    types as a set; the sum, finite unless a value is NaN, an infinity (each stays so in a sum)
    or an integer no double holds (it cannot be added to one), each value looked at only then;
    else only the bounded scores' range."""
    if not set(map(type, values.values())) <= _NUMBER_TYPES:
        return False
    try:
        finite = math.isfinite(sum(filter(_IS_NUMBER, values.values()), 0.0))
    except OverflowError:
        finite = False
    if not finite:
        return all(map(score_number, values.keys(), values.values()))
    for key in _BOUNDED:
        value = values.get(key)
        if value is not None and not 0 <= value <= 100:
            return False
    return True


def _json_object(text: object) -> dict[str, Any] | None:
    """The JSON object a stored text holds, or None (not a text, not JSON, not an object)."""
    try:
        found = json_text.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def score_values(score_id: object, text: object) -> dict[str, float | None]:
    """The values of the stored score row `score_id` from its text `text` (as stored);
    `TamperedValue` naming the row unless it is a JSON object of numbers and nulls as the
    scorers write them (`score_numbers`), as every way in writes it (a word, a nesting too deep
    to parse, a list, ``NaN``, a VAS of 1e308: the file was edited)."""
    values = _json_object(text)
    if values is None or not score_numbers(values):
        raise TamperedValue(
            f"scores row {score_id}: its values are not a JSON object of numbers; every way in "
            f"writes one, {_OUTSIDE}"
        )
    return values


def stored_payload(entry_id: object, text: object) -> dict[str, Any]:
    """The payload of the stored audit entry `entry_id` from its text `text` (as stored);
    `TamperedValue` naming the entry unless it is a JSON object, as every entry's is (a word,
    a nesting too deep to parse: the file was edited)."""
    payload = _json_object(text)
    if payload is None:
        raise TamperedValue(
            f"audit_log row {entry_id}: its payload is not a JSON object; every entry's is, "
            f"{_OUTSIDE}"
        )
    return payload


def subject_map(entry_id: object, text: object) -> dict[str, str]:
    """The subject map of the stored ``bundle.imported`` entry `entry_id` (its payload's text
    `text`): kiosk subject id -> hub subject id, {} if none; `TamperedValue` naming the entry
    unless an object of texts."""
    mapping = stored_payload(entry_id, text).get("subject_map") or {}
    if not isinstance(mapping, dict) or not all(
        type(k) is str and type(v) is str for k, v in mapping.items()
    ):
        raise TamperedValue(
            f"audit_log row {entry_id}: its subject_map is not an object of subject ids; every "
            f"import writes one, {_OUTSIDE}"
        )
    return mapping


@contextlib.contextmanager
def payloads_read(conn: sqlite3.Connection) -> Iterator[None]:
    """A block whose SQL reads the audit payloads with SQLite's JSON functions: their
    ``malformed JSON`` (a payload edited in the file) raised as `TamperedValue` naming the first
    entry whose payload is not JSON, not as a failure to write or a traceback."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "malformed JSON" not in str(exc):
            raise
        found = conn.execute(
            "SELECT id FROM audit_log WHERE NOT json_valid(payload) ORDER BY rowid LIMIT 1"
        ).fetchone()
        raise TamperedValue(
            f"audit_log row {found[0] if found is not None else '?'}: its payload is not JSON; "
            f"every entry's is, {_OUTSIDE}"
        ) from None


class StoredValues:
    """`check` for the many answers of one export (the values it accepted remembered)."""

    def __init__(self) -> None:
        self._items = item_index()
        self._passed: set[tuple[str, str | None, type, object]] = set()

    def check(
        self,
        answer_id: str,
        session_id: str,
        item_id: str,
        value: object,
        instrument_id: str | None = None,
    ) -> None:
        """Raise `TamperedValue` unless `value` (as stored: a choice code as a REAL) is an
        answer of item `item_id` (of instrument `instrument_id`, when given) that some way in
        accepts, or no value (skipped)."""
        problem = self.problem(item_id, value, instrument_id)
        if problem is not None:
            raise TamperedValue(
                f"answer {answer_id} (session {session_id}): a stored answer breaks its "
                f"instrument's rule ({problem}); every way in validates answers, {_OUTSIDE}"
            )

    def check_subjects(
        self, conn: sqlite3.Connection, subject_ids: Sequence[str], *, answers: bool = True
    ) -> None:
        """`check` for every answer of these subjects, whichever way an export then writes it:
        SQLite passes over those plainly valid (`_plain_sql`: a code of its item, a VAS on its
        grid, every text column a text) and hands over the others (few: none in a database only
        the program wrote, a VAS with binary noise now and then) to be checked here. Without
        `answers`, only the bytes in their subjects, visits and sessions rows (`check_texts`):
        the caller's query vouched for the answers (`suspect_sql`)."""
        if not subject_ids:
            return
        check_texts(conn, ("subjects", "visits", "sessions"), subject_ids)
        if not answers:
            return
        for answer_id, session_id, instrument, item_id, value, column in _suspects(
            conn, subject_ids
        ):
            if column is not None:
                raise TamperedValue(
                    f"answer {answer_id!r} (session {session_id!r}): its {column} is stored as "
                    f"bytes, not a text; every way in stores a text there, {_OUTSIDE}"
                )
            self.check(answer_id, session_id, item_id, value, instrument)

    def first_broken(self, conn: sqlite3.Connection) -> tuple[str, str, str] | None:
        """The first answer of the whole file (in the order written) whose value breaks its
        item's rule, as (answer id, item id, the rule broken), or None (`verify`, which looks for
        bytes in every table's texts before: `first_bytes`)."""
        for answer_id, _, instrument, item_id, value, _ in _suspects(conn, None, texts=False):
            problem = self.problem(item_id, value, instrument)
            if problem is not None:
                return answer_id, item_id, problem
        return None

    def problem(self, item_id: str, value: object, instrument_id: str | None = None) -> str | None:
        """The rule of item `item_id` (filed under `instrument_id`, when given) that `value`
        (as stored) breaks, or None. A skipped answer (no value) is checked for its item and
        instrument only."""
        key = (item_id, instrument_id, value.__class__, value)
        if key in self._passed:
            return None
        problem = self._problem(item_id, value, instrument_id)
        if problem is None:
            self._passed.add(key)
        return problem

    def _problem(self, item_id: str, value: object, instrument_id: str | None) -> str | None:
        found = self._items.get(item_id)
        if found is None:
            return f"{item_id!r} is an item of no instrument"
        instrument, item = found
        if instrument_id is not None and instrument_id != instrument.id:
            return f"{item_id} is an item of {instrument.id}, not of {instrument_id!r}"
        if value is None:
            return None
        if item.type == "choice" and isinstance(value, float) and value.is_integer():
            value = int(value)  # a code as stored (REAL): 2.0 is code 2, 2.7 no code
        try:
            item.validate(value)
        except ValueError as exc:
            return str(exc)
        return None


def _suspects(
    conn: sqlite3.Connection, subject_ids: Sequence[str] | None, *, texts: bool = True
) -> list[tuple[Any, Any, Any, Any, object, str | None]]:
    """(id, session id, instrument id, item id, value, the first text column holding bytes or
    None) of the answers SQLite cannot vouch for (`_plain_sql`; with `texts`, also those holding
    bytes where a text is stored), of these subjects (None: of every subject), in the order
    written."""
    where, params = "", list(subject_ids or ())
    if subject_ids is not None:
        where = f"s.subject_id IN ({', '.join('?' for _ in params)}) AND "
    columns = _text_columns(conn, "answers") if texts else []
    rows = conn.execute(
        f"SELECT a.id, a.session_id, a.instrument_id, a.item_id, a.value, "
        f"{_bytes_column(columns, 'a.')} FROM answers a JOIN sessions s ON s.id = a.session_id "
        f"WHERE {where}({_bytes_sql(columns, 'a.')} OR NOT {_plain_sql()}) "
        "ORDER BY a.rowid",
        params,
    ).fetchall()
    return [tuple(r) for r in rows]


def first_bytes(
    conn: sqlite3.Connection, table: str, subject_ids: Sequence[str] | None = None
) -> tuple[object, str] | None:
    """The first row of `table` (of these subjects, when given) holding bytes in a column
    declared TEXT (a blob, which TEXT affinity keeps as it is: a text turned into its own bytes
    reads alike to Python's hash, not to its text functions), as (its key, the column), or
    None. The key is the table's first column."""
    texts = _text_columns(conn, table)
    if not texts:
        return None
    where, params = "", list(subject_ids or ())
    if subject_ids is not None:
        column = "id" if table == "subjects" else "subject_id"
        where = f"{column} IN ({', '.join('?' for _ in params)}) AND "
    key = conn.execute(f"PRAGMA table_info({table})").fetchone()[1]
    found = conn.execute(
        f"SELECT {key}, {_bytes_column(texts)} FROM {table} "
        f"WHERE {where}{_bytes_sql(texts)} LIMIT 1",
        params,
    ).fetchone()
    return None if found is None else (found[0], str(found[1]))


def check_texts(
    conn: sqlite3.Connection, tables: Sequence[str], subject_ids: Sequence[str]
) -> None:
    """`TamperedValue` for the first row of `tables` of these subjects holding bytes where a
    text is stored (`first_bytes`)."""
    for table in tables:
        found = first_bytes(conn, table, subject_ids)
        if found is not None:
            raise TamperedValue(
                f"{table} row {found[0]!r}: its {found[1]} is stored as bytes, not a text; every "
                f"way in stores a text there, {_OUTSIDE}"
            )


def _text_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of `table` declared TEXT, as this file has them (an older file, which
    `verify` reads as it is before its upgrade, lacks the later ones)."""
    return [
        str(r[1])
        for r in conn.execute(f"PRAGMA table_info({table})")
        if str(r[2]).upper() == "TEXT"
    ]


def _bytes_sql(columns: Sequence[str], prefix: str = "") -> str:
    """An SQL condition, for a WHERE or a CASE WHEN only: true when some of `columns` holds
    bytes, else false or NULL (a NULL column), which a condition takes as not true. A blob is
    greater than any text, number or NULL (SQLite's order of types; TEXT affinity leaves a
    blob operand as it is), and ``>=`` costs a fraction of ``typeof()`` on a million rows.
    Left bare, not wrapped in ``coalesce``: as a condition SQLite tests the terms one by one
    and stops at the first true (wrapped, it computes every term's value and ORs them: 0.7 s
    of CPU more at 10,000 subjects in the CSV export's query of every answer)."""
    if not columns:
        return "0"
    return "(" + " OR ".join(f"{prefix}{c} >= X''" for c in columns) + ")"


def _bytes_column(columns: Sequence[str], prefix: str = "") -> str:
    """An SQL expression: the name of the first of `columns` that holds bytes, or NULL."""
    if not columns:
        return "NULL"
    whens = " ".join(f"WHEN typeof({prefix}{c}) = 'blob' THEN '{c}'" for c in columns)
    return f"CASE {whens} END"


@cache
def _plain_sql() -> str:
    """An SQL condition on an answer ``a``, true only when `check` accepts it: an item of the
    instrument the row names, skipped (no value), or a REAL that is a choice code of its item
    (the items grouped by instrument and codes: a few numeric ``IN`` lists) or a number of an
    item of another type in its range, on its grid (an answer SQLite cannot so vouch for is
    checked in Python: `check_subjects`). Never NULL (which ``NOT`` would take as vouched)."""
    by_codes: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for item_id, (instrument, item) in sorted(item_index().items()):
        if item.type == "choice":
            by_codes.setdefault((instrument.id, item.codes), []).append(item_id)
    numbers = [
        f"WHEN a.item_id = '{item_id}' THEN a.instrument_id = '{instrument_id}' AND "
        f"(a.value IS NULL OR typeof(a.value) = 'real' AND {on_grid})"
        for item_id, instrument_id, on_grid in _number_rules()
    ]
    codes = [
        f"WHEN a.item_id IN ({', '.join(map(repr, items))}) "
        f"THEN a.instrument_id = '{instrument_id}' AND (a.value IS NULL OR "
        f"typeof(a.value) = 'real' AND a.value IN ({', '.join(repr(float(c)) for c in codes)}))"
        for (instrument_id, codes), items in by_codes.items()
    ]
    return f"coalesce(CASE {' '.join(numbers + codes)} ELSE 0 END, 0)"


def _number_rules() -> list[tuple[str, str, str]]:
    """(item id, instrument id, the SQL condition that the REAL ``a.value`` is in the item's
    range, on its grid) of every item that is not a choice: the grid as `Item.validate` tests
    it (the same division of doubles; round's halves are 0.5 away either way)."""
    return [
        (
            item_id,
            instrument.id,
            f"a.value BETWEEN {item.minimum!r} AND {item.maximum!r} AND "
            f"abs(a.value / {item.step!r} - round(a.value / {item.step!r})) <= 1e-6",
        )
        for item_id, (instrument, item) in sorted(item_index().items())
        if item.type != "choice"
    ]


def suspect_sql(text_columns: Sequence[str], instrument: str, code: str) -> str:
    """An SQL expression on an answer ``a`` (never NULL): 1 unless SQLite can vouch for it as
    `check_subjects` does (no bytes in `text_columns`, a value its item accepts), else 0; for
    a query that reads the answers anyway and has two look-ups joined: `instrument`, the
    instrument of the row's item (NULL if none or not known), and `code`, the code of the row's
    item equal to ``CAST(a.value AS INTEGER)`` (NULL if none: the item is no choice, or that
    is none of its codes). A look-up that misses only makes the row a suspect. A query that
    counts no suspect among the rows of some subjects has vouched for them as `check_subjects`
    would (bar `check_texts`); else `check_subjects` names the first suspect that breaks a
    rule."""
    grids = " ".join(f"WHEN '{item_id}' THEN {on_grid}" for item_id, _, on_grid in _number_rules())
    vouched = (
        f"{instrument} IS a.instrument_id AND (a.value IS NULL OR typeof(a.value) = 'real' AND "
        f"({code} IS NOT NULL AND a.value = {code} OR coalesce(CASE a.item_id {grids} "
        "ELSE 0 END, 0)))"
    )
    held = _bytes_sql(text_columns, "a.")
    return f"CASE WHEN {held} OR NOT coalesce({vouched}, 0) THEN 1 ELSE 0 END"


def text_columns(conn: sqlite3.Connection, table: str) -> tuple[str, ...]:
    """The columns of `table` declared TEXT, as this file has them (`check_subjects` looks for
    bytes in those of the answers)."""
    return tuple(_text_columns(conn, table))
