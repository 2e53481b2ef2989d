"""A stored answer's value checked as an export reads it, against its item's rule.

Every way in validates an answer (`instruments.Item.validate`: the kiosk, the console, the
command line, a bundle), so a stored value that breaks its item's rule can only come from an edit
behind the program's back: a text or bytes where a number is stored, a code that is not a whole
number or not one of the item's options, a VAS off its range or finer than its step, an item no
instrument has. An export that met one would write it as something else: SQLite's ``CAST`` makes
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

- `StoredValues`: `check(answer_id, session_id, item_id, value)` for the answers of an export,
  `check_rows(rows, at)` for many at once
- `TamperedValue`: the one-line refusal of a value no way in stores
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from respine_desktop.storage._answers import item_index
from respine_desktop.storage._errors import StorageError

__all__ = ["StoredValues", "TamperedValue"]


class TamperedValue(StorageError):
    """A stored answer's value breaks its item's rule: the database was changed outside the
    program."""


class StoredValues:
    """`check` for the many answers of one export (the values it accepted remembered)."""

    def __init__(self) -> None:
        self._items = item_index()
        self._passed: set[tuple[str, type, object]] = set()

    def check(self, answer_id: str, session_id: str, item_id: str, value: object) -> None:
        """Raise `TamperedValue` unless `value` (as stored: a choice code as a REAL) is an
        answer of item `item_id` that some way in accepts, or no value (skipped)."""
        if value is None:
            return
        key = (item_id, value.__class__, value)
        try:
            if key in self._passed:
                return
        except TypeError:  # (a value no column of SQLite holds: never remembered)
            key = ("", type(None), None)
        problem = self._problem(item_id, value)
        if problem is not None:
            raise TamperedValue(
                f"answer {answer_id} (session {session_id}): a stored answer breaks its "
                f"instrument's rule ({problem}); every way in validates answers, so the database "
                "was changed outside this program: run `verify` to name the rows and restore the "
                "last backup"
            )
        if key[0]:
            self._passed.add(key)

    def check_rows(self, rows: Sequence[Sequence[Any]], at: tuple[int, int, int, int]) -> None:
        """`check` for each of `rows`, whose answer id, session id, item id and value are at the
        positions `at`: the distinct (item, type, value) triples gathered first (without a
        Python step per row), the first row of a refused one named."""
        answer, session, item, value = (itemgetter(i) for i in at)
        values = list(map(value, rows))
        try:
            distinct = set(zip(map(item, rows), map(type, values), values, strict=True))
        except TypeError:  # (an unhashable value: no column of SQLite holds one)
            distinct = set()
            for row in rows:
                self.check(answer(row), session(row), item(row), value(row))
        fresh = distinct - self._passed
        if not fresh:
            return
        for key in fresh:
            if key[2] is not None and self._problem(key[0], key[2]) is not None:
                break
        else:
            self._passed |= {k for k in fresh if k[2] is not None}
            return
        for row in rows:  # the first row of a refused value, in the given order
            self.check(answer(row), session(row), item(row), value(row))

    def _problem(self, item_id: str, value: object) -> str | None:
        found = self._items.get(item_id)
        if found is None:
            return f"{item_id!r} is an item of no instrument"
        item = found[1]
        if item.type == "choice" and isinstance(value, float) and value.is_integer():
            value = int(value)  # a code as stored (REAL): 2.0 is code 2, 2.7 no code
        try:
            item.validate(value)
        except ValueError as exc:
            return str(exc)
        return None
